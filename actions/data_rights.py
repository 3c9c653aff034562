"""The person's data: what is kept, and erasing it only after a clear yes.

Erasure cannot be undone, and a single misread message must never trigger it. So a request
only asks for confirmation (what will be erased, yes/no buttons); the erasure itself happens
when the person confirms, with the button or a typed yes to that very question. Confirming
sets the slot ``erasure_confirmed``: the tracker store (``privacy/``) erases every session of
the conversation when it saves a turn that set it, and only then is the reply delivered."""

from __future__ import annotations

from typing import Any, Dict, Iterable, List

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.base import TawjihAction
from actions.config import conversation_retention_days
from language.register import DARIJA_ARABIC, DARIJA_LATIN, FRENCH

ASK_CONFIRMATION = "action_ask_erasure_confirmation"
DEACTIVATE_LOOP = "action_deactivate_loop"
ERASE_OFFER = "erase"
ERASURE_CONFIRMED = "erasure_confirmed"
RESUME_PRECHECK = {
    FRENCH: "Suite des questions",
    DARIJA_LATIN: "Nkemmlo l'as2ila",
    DARIJA_ARABIC: "نكملو الأسئلة",
}


def answers_to_previous_message(events: Iterable[Dict[str, Any]]) -> List[str]:
    """The actions that answered the person's previous message (the latest one is being answered now)."""
    answers: List[str] = []
    user_messages_seen = 0
    for event in reversed(list(events)):
        kind = event.get("event")
        if kind == "user":
            user_messages_seen += 1
            if user_messages_seen == 2:
                break
        elif kind == "action" and user_messages_seen == 1:
            answers.insert(0, str(event.get("name")))
    return answers


def erasure_just_offered(events: Iterable[Dict[str, Any]]) -> bool:
    """Whether the latest message (a typed "oui" / "ah" / "اه", or "non") replies to the
    confirmation question, asked in answer to the previous message.

    A yes typed later, after talking about something else, is not a confirmation."""
    return ASK_CONFIRMATION in answers_to_previous_message(events)


def precheck_stopped_for_erasure(events: Iterable[Dict[str, Any]]) -> bool:
    """Whether the confirmation question stopped the eligibility pre-check (a rule deactivates
    the form right after asking)."""
    answers = answers_to_previous_message(events)
    return ASK_CONFIRMATION in answers and DEACTIVATE_LOOP in answers[answers.index(ASK_CONFIRMATION) :]


def resume_precheck_button(register: str) -> Dict[str, str]:
    """After a no, the way back to the pre-check's questions (the answers given so far are kept)."""
    return {"title": RESUME_PRECHECK[register], "payload": "/ask_eligibility"}


class ActionAboutData(TawjihAction):
    """A question about data (what is kept, how long, why, how to erase it): the answer, with
    the retention period the purge applies."""

    def name(self) -> str:
        return "action_about_data"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        dispatcher.utter_message(response="utter_about_data", days=conversation_retention_days())
        return []


class ActionAskErasureConfirmation(TawjihAction):
    """A request to erase: say exactly what would be erased, and ask yes or no."""

    def name(self) -> str:
        return ASK_CONFIRMATION

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        dispatcher.utter_message(response="utter_confirm_data_deletion")
        return [SlotSet("offer", ERASE_OFFER)]


def erase(dispatcher: CollectingDispatcher) -> List[Dict[str, Any]]:
    """The confirmed erasure: the store erases the conversation when it saves this turn, and the
    reply saying so is delivered only if it did."""
    dispatcher.utter_message(response="utter_data_erased")
    return [SlotSet(ERASURE_CONFIRMED, True), SlotSet("offer", None)]


class ActionEraseConversation(TawjihAction):
    """The person confirmed (the "yes" button): erase the whole conversation."""

    def name(self) -> str:
        return "action_erase_conversation"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        return erase(dispatcher)
