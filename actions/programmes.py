"""Which programmes exist, and what one of them is about: read live from the registry."""

from __future__ import annotations

import json
from typing import Any, Dict, List

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import wording
from actions.base import TawjihAction
from actions.registry_client import RegistryNotFound, call_registry, registry_client
from language.register import DARIJA_ARABIC


def programme_buttons(programmes: List[Dict[str, Any]], register: str) -> List[Dict[str, str]]:
    return [
        {
            "title": wording.programme_name(p, register),
            "payload": "/ask_programme_details" + json.dumps({"programme": p["id"]}),
        }
        for p in programmes
    ]


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
            response="utter_programme_list", programme_lines=lines, buttons=programme_buttons(programmes, register)
        )
        return []


class ActionProgrammeDetails(TawjihAction):
    def name(self) -> str:
        return "action_programme_details"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        register = wording.register_of(tracker)
        programme_id = tracker.get_slot("programme")
        client = registry_client()
        programme = None
        if programme_id:
            try:
                programme = await call_registry(client.programme, str(programme_id))
            except RegistryNotFound:
                programme = None
        if programme is None:
            programmes = await call_registry(client.programmes)
            dispatcher.utter_message(
                response="utter_ask_which_programme", buttons=programme_buttons(programmes, register)
            )
            return [SlotSet("programme", None)]
        description = programme.get("description_ar") if register == DARIJA_ARABIC else None
        dispatcher.utter_message(
            response="utter_programme_details",
            name=wording.programme_name(programme, register),
            track=wording.isolate(str(programme.get("track") or ""), register),
            description=description or programme.get("description_fr") or "",
            duration=wording.duration(programme.get("duration_months"), register),
            format=wording.value_or_to_confirm(programme.get("format"), register),
            language=wording.value_or_to_confirm(programme.get("teaching_language"), register),
            diploma=wording.value_or_to_confirm(programme.get("diploma"), register),
            sample_note=wording.sample_note(programme, register),
        )
        return []
