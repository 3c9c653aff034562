"""Rasa's RabbitMQ event broker, without message texts in its log.

When RabbitMQ cannot take an event, Rasa 3.6's ``PikaEventBroker`` logs the event itself at error level
(``pika.events.publish.failed`` with ``rasa_event``): the person's message and Tawjih's reply, in the log.
This broker does what Rasa's does (publish; keep an event that could not go, to send it once the
connection is back) and logs only that an event was held, with the error's kind."""

from __future__ import annotations

import logging
from typing import Any, Dict, Optional

from rasa.core.brokers.pika import PikaEventBroker

logger = logging.getLogger(__name__)


class PrivatePikaEventBroker(PikaEventBroker):
    async def _publish(self, event: Dict[str, Any], headers: Optional[Dict[str, str]] = None) -> None:
        if self._exchange is None:
            return
        try:
            await self._exchange.publish(self._message(event, headers), "")
        except Exception as error:
            kept = self.should_keep_unpublished_messages
            if kept:
                self._unpublished_events.append(event)
            logger.error(
                "An event could not be published to RabbitMQ (%s); %s.",
                type(error).__name__,
                f"{len(self._unpublished_events)} held until the connection is back" if kept else "it is dropped",
            )
            if self.raise_on_failure:
                await self.close()
                raise
