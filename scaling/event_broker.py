"""Rasa's RabbitMQ event broker, carrying what the stream needs and nothing personal.

Rasa 3.6's ``PikaEventBroker`` publishes every stored event whole: the person's message, Tawjih's
reply, the channel's metadata, every slot's value. Nobody needs the texts downstream (the staff console
reads conversations from the tracker store, where erasure and the retention purge reach them), and
a queue is a copy that neither reaches. This broker:

- publishes ``stream_view(event)``: the event's kind, time and pseudonymous conversation id, intent and
  action names, entity types, and the values of a few slots that say nothing about the person
  (``STREAMED_SLOT_VALUES``); never a text, a metadata field or another slot's value;
- declares its queue with a message TTL of the retention period (``TAWJIH_RETENTION_DAYS``): an
  event nobody took is gone when the tracker store's copy would be;
- publishes ``{"event": "tawjih_conversation_erased", "sender_id": ...}`` when a person's
  conversation is erased (``privacy.tracker_store``), for a consumer to delete what it keeps of it;
- logs a failed publication with the error's kind only (Rasa's logs the event itself).
"""

from __future__ import annotations

import logging
import time
from typing import Any, Dict, Mapping, Optional

import aio_pika
import aiormq.exceptions
from rasa.core.brokers.pika import PikaEventBroker

from privacy.settings import DEFAULT_RETENTION_DAYS

logger = logging.getLogger(__name__)

ERASED_EVENT = "tawjih_conversation_erased"
# Slots whose values are about the question, not the person: which programme, where, in which register,
# and the eligibility verdict. Age, education level, home region and the rest are streamed as "set" only.
STREAMED_SLOT_VALUES = frozenset({"register", "programme", "city", "region", "eligibility_verdict", "offer"})
# Fields kept as they are, of any event that has them.
_PLAIN_FIELDS = ("event", "timestamp", "sender_id", "name", "policy", "confidence", "input_channel", "is_interrupted")
DAY_MS = 24 * 60 * 60 * 1000


def stream_view(event: Mapping[str, Any]) -> Dict[str, Any]:
    """What the event stream carries of a stored Rasa event (``sender_id`` added by the tracker store)."""
    view = {field: event[field] for field in _PLAIN_FIELDS if field in event}
    kind = event.get("event")
    if kind == "user":
        intent = (event.get("parse_data") or {}).get("intent") or {}
        view["intent"] = intent.get("name")
        view["intent_confidence"] = intent.get("confidence")
        view["entities"] = _entity_types(event.get("parse_data") or {})
    elif kind == "bot":
        view["utter_action"] = (event.get("metadata") or {}).get("utter_action")
    elif kind == "slot":
        if event.get("name") in STREAMED_SLOT_VALUES:
            view["value"] = event.get("value")
        else:
            view["value_set"] = event.get("value") is not None
    elif kind in ("entities", "reminder"):
        view["entities"] = _entity_types(event)
    return view


def _entity_types(holder: Mapping[str, Any]) -> list:
    return [entity.get("entity") for entity in holder.get("entities") or [] if isinstance(entity, Mapping)]


def erased_event(sender_id: str) -> Dict[str, Any]:
    return {"event": ERASED_EVENT, "sender_id": sender_id, "timestamp": time.time()}


class QueueSettingsMismatch(RuntimeError):
    """The queue exists with other arguments than this broker's (another TTL, or none)."""


class PrivatePikaEventBroker(PikaEventBroker):
    def __init__(self, *args: Any, message_ttl_days: int = DEFAULT_RETENTION_DAYS, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # serve_rasa.py puts TAWJIH_RETENTION_DAYS here, when it is set.
        if int(message_ttl_days) < 1:
            raise ValueError("message_ttl_days (TAWJIH_RETENTION_DAYS) must be at least 1")
        self.message_ttl_ms = int(message_ttl_days) * DAY_MS

    def publish(self, event: Dict[str, Any], headers: Optional[Dict[str, str]] = None) -> None:
        # Reduced before it is held or sent: an event kept while RabbitMQ is away is already reduced.
        super().publish(stream_view(event), headers)

    def _publish_unpublished_messages(self, *_: Any, **__: Any) -> None:
        # Rasa's sends what was held through ``publish``: those events are reduced already.
        while self._unpublished_events:
            super().publish(self._unpublished_events.popleft())

    def publish_erasure(self, sender_id: str) -> None:
        """Tell the stream's consumers that this conversation was erased (sent as events are)."""
        super().publish(erased_event(sender_id))

    async def _bind_queue(  # type: ignore[override]  # an instance method here: it needs the TTL
        self, queue_name: str, channel: aio_pika.RobustChannel, exchange: aio_pika.Exchange
    ) -> None:
        try:
            queue = await channel.declare_queue(
                queue_name, durable=True, arguments={"x-message-ttl": self.message_ttl_ms}
            )
        except aiormq.exceptions.ChannelPreconditionFailed:
            raise QueueSettingsMismatch(
                f"The RabbitMQ queue '{queue_name}' exists with other settings than a message TTL of "
                f"{self.message_ttl_ms // DAY_MS} days (TAWJIH_RETENTION_DAYS): delete it once its consumer has "
                "taken what it holds, or set TAWJIH_EVENT_QUEUE to a new queue."
            ) from None
        await queue.bind(exchange, "")

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
