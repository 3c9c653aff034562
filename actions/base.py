"""What every Tawjih action shares: failures become a kind message, never a stack trace.

rasa-sdk's own error handler would send the whole request (the tracker) back to Rasa,
which logs it; so no exception may leave an action, a form's validation included. The log
line says which action failed, with what kind of error and in which function of ours: never
the error's text, which may quote what the person wrote."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from pathlib import Path
from types import TracebackType
from typing import Any, Awaitable, Dict, List, Optional, Sequence

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.registry_client import RegistryError

logger = logging.getLogger(__name__)
PROJECT = Path(__file__).resolve().parents[1]
_OUR_CODE = tuple(str(PROJECT / package) for package in ("actions", "language", "outbound"))


def failing_function(traceback: Optional[TracebackType]) -> str:
    """The innermost frame of our own code in a traceback, as "module.function:line"."""
    found = "?"
    while traceback is not None:
        code = traceback.tb_frame.f_code
        if code.co_filename.startswith(_OUR_CODE):
            found = f"{Path(code.co_filename).stem}.{code.co_name}:{traceback.tb_lineno}"
        traceback = traceback.tb_next
    return found


async def answer_kindly(
    action_name: str,
    dispatcher: CollectingDispatcher,
    work: Awaitable[List[Dict[str, Any]]],
    on_failure: Sequence[Dict[str, Any]] = (),
) -> List[Dict[str, Any]]:
    """``work``'s events; if it fails, a kind message instead and ``on_failure``'s events."""
    try:
        return await work
    except RegistryError as error:
        logger.warning("%s: registry failed (%s)", action_name, type(error).__name__)
    except Exception as error:  # noqa: BLE001 - the person must get an answer whatever broke
        logger.error(
            "%s failed with %s in %s", action_name, type(error).__name__, failing_function(error.__traceback__)
        )
    dispatcher.utter_message(response="utter_registry_unavailable")
    return list(on_failure)


class TawjihAction(Action, ABC):
    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        return await answer_kindly(self.name(), dispatcher, self.act(dispatcher, tracker, domain))

    @abstractmethod
    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        """The action's work; may raise, ``run`` turns any failure into a kind reply."""
