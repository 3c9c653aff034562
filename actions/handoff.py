"""Handoff to a human adviser, the person's side: asking, waiting, the adviser taking over, the end.

The queue, the routing and the adviser's screens are the console's (``console/handoff``); the bot's
silence while an adviser has the conversation is Rasa's pause, kept by ``channels/handoff.py``.

- ``action_request_adviser``: queues the request in the console with a summary of the conversation so
  far, then says what happens next, in the person's register: within opening hours, their place in the
  queue and a rough wait, and the bot steps back (paused) so that what they write goes to the adviser;
  outside opening hours, when advisers will answer, and that they can leave their question now (the next
  message is kept for the adviser, then the bot is back). If the console cannot be reached, that is said:
  nothing is promised.
- ``action_handoff_taken`` / ``action_handoff_timeout`` / ``action_handoff_closed``: run by the console
  through Rasa's HTTP API when an adviser takes the request, when nobody took it within
  HANDOFF_WAIT_MINUTES (the request stays queued, the bot is back meanwhile), when the adviser closes it.
- ``action_end_handoff``: the person ended it themselves ("safi", the button); ``action_handoff_question_left``:
  the question left outside opening hours was kept.

Bot messages that change where the person can be reached carry ``tawjih_handoff`` (see channels/handoff.py).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import ActionExecuted, ConversationPaused, ConversationResumed, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import wording
from actions.base import TawjihAction
from actions.handoff_service import HandoffServiceUnavailable, Ticket, handoff_service
from actions.places import city_record, slot_value
from actions.registry_client import RegistryError
from language.register import DARIJA_ARABIC, DARIJA_LATIN, FRENCH

logger = logging.getLogger(__name__)

WAITING, QUEUED, ADVISER, LEAVING_QUESTION = "waiting", "queued", "adviser", "leaving_question"
# Channels an adviser's reply can reach; on the others (REST) the person is told so.
PUSHABLE_CHANNELS = frozenset({"socketio", "whatsapp", "twilio_whatsapp"})
ELIGIBILITY_SLOTS = ("age", "education_level", "home_region", "conditions_declared")
END_BUTTON_PAYLOAD = "tawjih:end_handoff"  # channels.handoff.END_BUTTON_PAYLOAD: the gate recognises it

# Ends the events of an action that gives the conversation back to the bot, as Rasa ends every bot turn:
# the dialogue policies read the next message as coming after the bot listened (not after the handoff).
LISTEN = ActionExecuted("action_listen")
END_BUTTON = {FRENCH: "Revenir à Tawjih", DARIJA_LATIN: "Rje3 l Tawjih", DARIJA_ARABIC: "رجع لتوجيه"}
DAYS = {
    FRENCH: ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
    DARIJA_LATIN: ("letnin", "tlat", "larb3", "lkhmis", "jem3a", "sebt", "l7ed"),
    DARIJA_ARABIC: ("الاثنين", "الثلاثاء", "الأربعاء", "الخميس", "الجمعة", "السبت", "الأحد"),
}
WHEN = {
    FRENCH: "{day} à {time}",
    DARIJA_LATIN: "nhar {day} m3a {time}",
    DARIJA_ARABIC: "نهار {day} مع {time}",
}
TODAY = {FRENCH: "aujourd'hui à {time}", DARIJA_LATIN: "lyouma m3a {time}", DARIJA_ARABIC: "اليوم مع {time}"}
TOMORROW = {FRENCH: "demain à {time}", DARIJA_LATIN: "ghedda m3a {time}", DARIJA_ARABIC: "غدا مع {time}"}
AS_SOON_AS_POSSIBLE = {FRENCH: "dès que possible", DARIJA_LATIN: "f a9rab wa9t", DARIJA_ARABIC: "ف أقرب وقت"}
NOBODY_AHEAD = {
    FRENCH: "Personne n'attend avant toi",
    DARIJA_LATIN: "Ma kayn 7ta wa7ed 9bel mnk",
    DARIJA_ARABIC: "ما كاين حتى واحد قبل منك",
}
AHEAD = {
    FRENCH: "{n} personne(s) attendent avant toi",
    DARIJA_LATIN: "Kaynin {n} 9bel mnk",
    DARIJA_ARABIC: "كاينين {n} قبل منك",
}
ABOUT = {
    FRENCH: " ; compte environ {minutes} minutes",
    DARIJA_LATIN: ", ghadi tsenna chi {minutes} d9i9a",
    DARIJA_ARABIC: "، غادي تسنى شي {minutes} دقيقة",
}


def end_button(register: str) -> Dict[str, str]:
    return {"title": END_BUTTON[register], "payload": END_BUTTON_PAYLOAD}


def queue_line(ticket: Ticket, register: str) -> str:
    """Where the person stands: who is ahead of them and, when the console can tell, roughly how long."""
    ahead = ticket.position - 1
    line = NOBODY_AHEAD[register] if ahead <= 0 else AHEAD[register].format(n=ahead)
    if ticket.estimate_minutes:
        line += ABOUT[register].format(minutes=max(1, ticket.estimate_minutes))
    return line + "."


def when_text(opening: Optional[dt.datetime], register: str, now: Optional[dt.datetime] = None) -> str:
    """When advisers are back, as a person says it: "demain à 09:00", "nhar letnin m3a 09:00"."""
    if opening is None:
        return AS_SOON_AS_POSSIBLE[register]
    now = (now or dt.datetime.now(dt.timezone.utc)).astimezone(opening.tzinfo)
    if opening <= now:
        return AS_SOON_AS_POSSIBLE[register]  # a question left days after the request: advisers are back
    time = opening.strftime("%H:%M")
    days = (opening.date() - now.date()).days
    if days <= 0:
        return TODAY[register].format(time=time)
    if days == 1:
        return TOMORROW[register].format(time=time)
    day = f"{DAYS[register][opening.weekday()]} {opening.day}/{opening.month:02d}"
    return WHEN[register].format(day=day, time=time)


def _entity_value(tracker: Tracker, name: str) -> Optional[Any]:
    value = slot_value(tracker, name)
    return value if value not in (None, "", []) else None


async def _region_of(tracker: Tracker) -> Optional[str]:
    """The region in focus: the region said, else the region of the city said, else the home region."""
    region = _entity_value(tracker, "region")
    if region:
        return str(region)
    city = _entity_value(tracker, "city")
    if city:
        try:
            record = await city_record(str(city))
        except RegistryError:
            record = None  # routed to every adviser rather than not at all
        if record and record.get("region"):
            return str(record["region"])
    home = tracker.get_slot("home_region")
    return str(home) if home else None


async def handoff_request(tracker: Tracker, reason: str) -> Dict[str, Any]:
    """What the console is told: enough for an adviser's summary, nothing the person wrote."""
    eligibility = {name: tracker.get_slot(name) for name in ELIGIBILITY_SLOTS if tracker.get_slot(name) is not None}
    return {
        "conversation_id": tracker.sender_id,
        "channel": tracker.get_latest_input_channel() or "",
        "register": wording.register_of(tracker),
        "region": await _region_of(tracker),
        "city": _entity_value(tracker, "city"),
        "programme": _entity_value(tracker, "programme"),
        "eligibility": eligibility,
        "verdict": tracker.get_slot("eligibility_verdict"),
        "reason": reason,
    }


async def request_adviser(dispatcher: CollectingDispatcher, tracker: Tracker, reason: str) -> List[Dict[str, Any]]:
    """Queue a request for an adviser and say, truthfully, what happens next."""
    register = wording.register_of(tracker)
    state = tracker.get_slot("handoff")
    if state in (WAITING, ADVISER, LEAVING_QUESTION):
        return []  # cannot happen while paused; kept for safety: nothing is queued twice
    channel = tracker.get_latest_input_channel() or ""
    try:
        ticket = await handoff_service().request_adviser(await handoff_request(tracker, reason))
    except HandoffServiceUnavailable:
        dispatcher.utter_message(response="utter_handoff_unavailable")
        return [SlotSet("offer", None)]
    events: List[Dict[str, Any]] = [
        SlotSet("offer", None),
        SlotSet("handoff_id", str(ticket.id)),
        SlotSet("handoff_channel", channel or None),
    ]
    if channel not in PUSHABLE_CHANNELS:
        dispatcher.utter_message(response="utter_handoff_channel_cannot_receive")
        return [*events, SlotSet("handoff", QUEUED)]
    if ticket.already_open and state == QUEUED:
        dispatcher.utter_message(response="utter_handoff_already_queued", tawjih_handoff="opened")
        return events
    if ticket.status == "assigned":
        dispatcher.utter_message(
            response="utter_handoff_taken", buttons=[end_button(register)], tawjih_handoff="opened"
        )
        return [*events, SlotSet("handoff", ADVISER), ConversationPaused()]
    if ticket.open_now:
        dispatcher.utter_message(
            response="utter_handoff_waiting",
            queue_line=queue_line(ticket, register),
            buttons=[end_button(register)],
            tawjih_handoff="opened",
        )
        return [*events, SlotSet("handoff", WAITING), ConversationPaused()]
    opens_at = ticket.next_opening.isoformat() if ticket.next_opening else None
    dispatcher.utter_message(
        response="utter_handoff_off_hours", when=when_text(ticket.next_opening, register), tawjih_handoff="opened"
    )
    return [*events, SlotSet("handoff", LEAVING_QUESTION), SlotSet("handoff_opens_at", opens_at), ConversationPaused()]


class ActionRequestAdviser(TawjihAction):
    def name(self) -> str:
        return "action_request_adviser"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        return await request_adviser(dispatcher, tracker, "form" if _form_just_left(tracker) else "asked")


class ActionHandoffTaken(TawjihAction):
    """Run by the console when an adviser takes the request: the bot steps back."""

    def name(self) -> str:
        return "action_handoff_taken"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        if tracker.get_slot("handoff") not in (WAITING, QUEUED, LEAVING_QUESTION):
            # The person ended it (or it is already taken) meanwhile: nothing to say, nothing to pause; the
            # console reads action_end_handoff in the tracker store and closes the request.
            return []
        # The person's message may be in an earlier session (one expired during the wait): the slot says where.
        channel = tracker.get_latest_input_channel() or tracker.get_slot("handoff_channel") or ""
        if channel not in PUSHABLE_CHANNELS:
            return [LISTEN]  # the adviser cannot write to this channel (REST): the bot keeps answering
        register = wording.register_of(tracker)
        dispatcher.utter_message(response="utter_handoff_taken", buttons=[end_button(register)], tawjih_handoff="taken")
        return [SlotSet("handoff", ADVISER), ConversationPaused()]


class ActionHandoffTimeout(TawjihAction):
    """Run by the console when nobody took the request in time: it stays queued, the bot is back meanwhile."""

    def name(self) -> str:
        return "action_handoff_timeout"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        if tracker.get_slot("handoff") != WAITING:
            return []  # taken or ended meanwhile: the bot is not the one to speak
        dispatcher.utter_message(response="utter_handoff_timeout", tawjih_handoff="timeout")
        return [SlotSet("handoff", QUEUED), ConversationResumed(), LISTEN]


class ActionHandoffClosed(TawjihAction):
    """Run by the console when the adviser closes the conversation: the bot is back."""

    def name(self) -> str:
        return "action_handoff_closed"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        if not tracker.get_slot("handoff"):
            return []  # the person ended it already: they were told then
        dispatcher.utter_message(response="utter_handoff_closed", tawjih_handoff="closed")
        return _over()


class ActionEndHandoff(TawjihAction):
    """The person ended the handoff ("safi", the button): the bot is back. The console reads this
    action in the tracker store and closes the request."""

    def name(self) -> str:
        return "action_end_handoff"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        if not tracker.get_slot("handoff"):
            dispatcher.utter_message(response="utter_handoff_not_active")
            return []
        dispatcher.utter_message(response="utter_handoff_ended", tawjih_handoff="ended")
        return _over()


class ActionHandoffQuestionLeft(TawjihAction):
    """Outside opening hours, the message after the request is the question left for an adviser."""

    def name(self) -> str:
        return "action_handoff_question_left"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        register = wording.register_of(tracker)
        opens_at = tracker.get_slot("handoff_opens_at")
        try:
            opening = dt.datetime.fromisoformat(opens_at) if opens_at else None
        except ValueError:
            opening = None
        dispatcher.utter_message(response="utter_handoff_question_left", when=when_text(opening, register))
        return [SlotSet("handoff", QUEUED), ConversationResumed(), LISTEN]


def _form_just_left(tracker: Tracker) -> bool:
    """Whether this turn left the eligibility form (the request was made in the middle of it)."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "action" and event.get("name") == "action_deactivate_loop":
            return True
    return False


def _over() -> List[Dict[str, Any]]:
    return [
        ConversationResumed(),
        SlotSet("handoff", None),
        SlotSet("handoff_id", None),
        SlotSet("handoff_channel", None),
        SlotSet("handoff_opens_at", None),
        LISTEN,
    ]
