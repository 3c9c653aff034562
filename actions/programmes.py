"""Which programmes exist, read live from the registry (what one of them is about:
``actions.programme_facts.ActionProgrammeDetails``)."""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import wording
from actions.base import TawjihAction
from actions.registry_client import call_registry, registry_client


class ActionListProgrammes(TawjihAction):
    def name(self) -> str:
        return "action_list_programmes"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        register = wording.register_of(tracker)
        programmes = await call_registry(registry_client().programmes)
        if not programmes:
            dispatcher.utter_message(response="utter_no_programmes")
            return []
        lines = "\n".join(f"• {wording.programme_name(p, register)}" for p in programmes)
        dispatcher.utter_message(
            response="utter_programme_list",
            programme_lines=lines,
            buttons=wording.programme_buttons(programmes, register, "ask_programme_details"),
        )
        return []
