"""What a programme is, how to apply, what it costs, what it leads to: each answered from the
programme's registry record, in one shape (``ProgrammeFactAction``)."""

from __future__ import annotations

from abc import abstractmethod
from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import wording
from actions.base import TawjihAction
from actions.registry_client import RegistryNotFound, call_registry, registry_client
from language import slot_rules
from language.register import DARIJA_ARABIC


async def programme_in_focus(tracker: Tracker) -> Optional[Dict[str, Any]]:
    """The registry record of the programme asked about now or earlier, if it still exists."""
    programme_id = slot_rules.clean("programme", tracker.get_slot("programme"))
    if not programme_id:
        return None
    try:
        return await call_registry(registry_client().programme, programme_id)
    except RegistryNotFound:
        return None


async def known_programme(value: Any) -> Optional[str]:
    """The id of a programme the registry holds, from a slot or entity value; None otherwise."""
    programme_id = slot_rules.clean("programme", value)
    if not programme_id:
        return None
    programmes = await call_registry(registry_client().programmes)
    return programme_id if any(p["id"] == programme_id for p in programmes) else None


async def ask_which_programme(dispatcher: CollectingDispatcher, intent: str, register: str) -> List[Dict[str, Any]]:
    """Buttons that ask the same question again, this time about one programme."""
    programmes = await call_registry(registry_client().programmes)
    buttons = wording.programme_buttons(programmes, register, intent)
    dispatcher.utter_message(response="utter_ask_which_programme", buttons=buttons)
    return [SlotSet("programme", None)]


class ProgrammeFactAction(TawjihAction):
    """Answers one question about the programme in focus, or asks which programme first."""

    intent: str

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        register = wording.register_of(tracker)
        programme = await programme_in_focus(tracker)
        if programme is None:
            return await ask_which_programme(dispatcher, self.intent, register)
        self.answer(dispatcher, programme, register)
        return []

    @abstractmethod
    def answer(self, dispatcher: CollectingDispatcher, programme: Dict[str, Any], register: str) -> None:
        """Say what the registry holds, or that it holds nothing and an adviser can help."""


class ActionProgrammeDetails(ProgrammeFactAction):
    intent = "ask_programme_details"

    def name(self) -> str:
        return "action_programme_details"

    def answer(self, dispatcher: CollectingDispatcher, programme: Dict[str, Any], register: str) -> None:
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


class ActionHowToApply(ProgrammeFactAction):
    intent = "how_to_apply"

    def name(self) -> str:
        return "action_how_to_apply"

    def answer(self, dispatcher: CollectingDispatcher, programme: Dict[str, Any], register: str) -> None:
        name = wording.programme_name(programme, register)
        steps, documents = programme.get("application_steps") or [], programme.get("required_documents") or []
        if not steps and not documents and not programme.get("application_url"):
            dispatcher.utter_message(response="utter_no_information", programme=name)
            return
        dispatcher.utter_message(
            response="utter_how_to_apply",
            programme=name,
            steps=wording.numbered_list(steps, register) or wording.TO_CONFIRM[register],
            documents=wording.bullet_list(documents, register) or wording.TO_CONFIRM[register],
            link=programme.get("application_url") or wording.TO_CONFIRM[register],
            sample_note=wording.sample_note(programme, register),
        )


class ActionCost(ProgrammeFactAction):
    intent = "ask_cost"

    def name(self) -> str:
        return "action_cost"

    def answer(self, dispatcher: CollectingDispatcher, programme: Dict[str, Any], register: str) -> None:
        name = wording.programme_name(programme, register)
        if programme.get("cost_mad") is None and programme.get("stipend_mad") is None:
            dispatcher.utter_message(response="utter_no_information", programme=name)
            return
        dispatcher.utter_message(
            response="utter_cost",
            programme=name,
            fees=wording.money(programme.get("cost_mad"), register),
            stipend=wording.money(programme.get("stipend_mad"), register)
            if programme.get("stipend_mad")
            else wording.NONE_GIVEN[register],
            sample_note=wording.sample_note(programme, register),
        )


class ActionCareers(ProgrammeFactAction):
    intent = "ask_careers"

    def name(self) -> str:
        return "action_careers"

    def answer(self, dispatcher: CollectingDispatcher, programme: Dict[str, Any], register: str) -> None:
        name = wording.programme_name(programme, register)
        careers = programme.get("careers") or []
        if not careers:
            dispatcher.utter_message(response="utter_no_information", programme=name)
            return
        dispatcher.utter_message(
            response="utter_careers",
            programme=name,
            careers=wording.bullet_list(careers, register),
            diploma=wording.value_or_to_confirm(programme.get("diploma"), register),
            sample_note=wording.sample_note(programme, register),
        )
