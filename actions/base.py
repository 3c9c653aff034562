"""What every Tawjih action shares: failures become a kind message, never a stack trace.

rasa-sdk's own error handler would send the whole request (the tracker) back to Rasa,
which logs it; so no exception may leave an action."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.registry_client import RegistryError

logger = logging.getLogger(__name__)


class TawjihAction(Action, ABC):
    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        try:
            return await self.act(dispatcher, tracker, domain)
        except RegistryError as error:
            logger.warning("%s: registry failed (%s)", self.name(), type(error).__name__)
        except Exception as error:  # noqa: BLE001 - the person must get an answer whatever broke
            location = error.__traceback__.tb_frame.f_code.co_name if error.__traceback__ else "?"
            logger.error("%s failed with %s in %s", self.name(), type(error).__name__, location)
        dispatcher.utter_message(response="utter_registry_unavailable")
        return []

    @abstractmethod
    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        """The action's work; may raise, ``run`` turns any failure into a kind reply."""
