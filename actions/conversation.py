"""The turns around the answers: first contact, not understanding, offers accepted or declined."""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Type

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import wording
from actions.base import TawjihAction
from actions.centres import ActionListCentres
from actions.config import conversation_retention_days
from actions.data_rights import (
    ERASE_OFFER,
    erase,
    erasure_just_offered,
    precheck_stopped_for_erasure,
    resume_precheck_button,
)
from actions.handoff import request_adviser
from actions.sessions import ActionListSessions
from language import clarification
from language.clarification import clarification_between, ranking_without_fallback

FAILURES_BEFORE_ADVISER = 2
IGNORED_ACTIONS = frozenset({"action_listen", "action_extract_slots"})
PLACE_ENTITIES = frozenset({"city", "region"})
# Words that may stand beside a place said alone: "à Agadir", "f kenitra", "من وجدة".
PLACE_WORDS = frozenset({"a", "à", "au", "en", "f", "fi", "mn", "ف", "في", "من"})


class ActionWelcome(TawjihAction):
    """First contact: what Tawjih does, that it is automated, what is kept and how to erase it."""

    def name(self) -> str:
        return "action_welcome"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        dispatcher.utter_message(response="utter_welcome", days=conversation_retention_days())
        return []


def failures_in_a_row(tracker: Tracker) -> int:
    """How many of the person's latest messages in a row were not understood."""
    count = 0
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        parse_data = event.get("parse_data") or {}
        if (parse_data.get("intent") or {}).get("name") != "nlu_fallback" or says_only_a_place(parse_data):
            break
        count += 1
    return count


class ActionFallback(TawjihAction):
    """Not sure of the question: offer the two likeliest as buttons when they are clear enough
    (``language.clarification``), else ask to rephrase with examples; after two misses in a row
    with nothing to offer, offer an adviser."""

    def name(self) -> str:
        return "action_fallback"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        # "et à Agadir ?" right after a list, or "kenitra" alone: a place the classifier was unsure of.
        if follow_up_for(tracker) is not None or says_only_a_place(tracker.latest_message):
            return await ActionAcknowledgeInform().act(dispatcher, tracker, domain)
        register = wording.register_of(tracker)
        two = clarification_between(ranking_without_fallback(tracker.latest_message))
        if two is not None:
            first, second = two
            dispatcher.utter_message(
                response="utter_clarify",
                first=clarification.question_part(first, register),
                second=clarification.question_part(second, register),
                buttons=[wording.button(clarification.button_title(intent, register), intent) for intent in two],
            )
            return []
        if failures_in_a_row(tracker) >= FAILURES_BEFORE_ADVISER:
            dispatcher.utter_message(
                response="utter_fallback_offer_adviser", buttons=[wording.adviser_button(register)]
            )
            return [SlotSet("offer", "human")]
        dispatcher.utter_message(response="utter_default")
        return []


class ActionAcceptOffer(TawjihAction):
    """ "Oui" / "ah" / "واخا" after an offer: do what was offered."""

    def name(self) -> str:
        return "action_accept_offer"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        offer = tracker.get_slot("offer")
        events: List[Dict[str, Any]] = [SlotSet("offer", None)]
        if offer == "sessions":
            return await ActionListSessions().act(dispatcher, tracker, domain) + events
        if offer == "human":
            return events + await request_adviser(dispatcher, tracker, "offer")
        if offer == ERASE_OFFER and erasure_just_offered(tracker.events):
            return erase(dispatcher)
        dispatcher.utter_message(response="utter_what_else")
        return events


class ActionDeclineOffer(TawjihAction):
    def name(self) -> str:
        return "action_decline_offer"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        if tracker.get_slot("offer") == ERASE_OFFER and erasure_just_offered(tracker.events):
            # Nothing erased; a no in the middle of the pre-check gets the way back to its questions.
            resume = precheck_stopped_for_erasure(tracker.events)
            buttons = [resume_precheck_button(wording.register_of(tracker))] if resume else None
            dispatcher.utter_message(response="utter_erasure_declined", buttons=buttons)
        else:
            dispatcher.utter_message(response="utter_offer_declined")
        return [SlotSet("offer", None)]


def previous_answer(tracker: Tracker) -> Optional[str]:
    """The action that answered the person's previous message."""
    seen_this_message = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            if seen_this_message:
                return None
            seen_this_message = True
        elif seen_this_message and event.get("event") == "action" and event.get("name") not in IGNORED_ACTIONS:
            return str(event.get("name"))
    return None


class ActionAcknowledgeInform(TawjihAction):
    """The person gave a fact without a question. Right after a list of centres or sessions,
    "et à Agadir ?" asks for the same list somewhere else; otherwise note it and offer next steps."""

    def name(self) -> str:
        return "action_acknowledge_inform"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        follow_up = follow_up_for(tracker)
        if follow_up is not None:
            return await follow_up().act(dispatcher, tracker, domain)
        register = wording.register_of(tracker)
        dispatcher.utter_message(response="utter_inform_noted", buttons=wording.next_step_buttons(register))
        return []


FOLLOW_UPS: Dict[str, Type[TawjihAction]] = {
    "action_list_sessions": ActionListSessions,
    "action_list_centres": ActionListCentres,
}


def says_only_a_place(message: Dict[str, Any]) -> bool:
    """The parsed message is a catalogue place and nothing more ("kenitra", "f Agadir ?", "الرباط")."""
    text = list(message.get("text") or "")
    places = [
        entity
        for entity in message.get("entities") or []
        if entity.get("entity") in PLACE_ENTITIES
        and isinstance(entity.get("start"), int)
        and isinstance(entity.get("end"), int)
    ]
    if not places:
        return False
    for place in places:
        text[place["start"] : place["end"]] = " " * (place["end"] - place["start"])
    rest = re.findall(r"\w+", "".join(text).lower())
    return all(word in PLACE_WORDS for word in rest)


def follow_up_for(tracker: Tracker) -> Optional[Type[TawjihAction]]:
    """The list to show again when a message names only a place or programme right after one."""
    said = {e.get("entity") for e in tracker.latest_message.get("entities") or []}
    if not said & {"city", "region", "programme"}:
        return None
    return FOLLOW_UPS.get(previous_answer(tracker) or "")
