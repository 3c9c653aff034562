"""What the person is told about their request for an adviser: the queue, when advisers are back, and\nnothing when the console's notice comes after the person or another adviser changed the handoff."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any, Dict, List, Tuple
from zoneinfo import ZoneInfo

from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import ActionHandoffClosed, ActionHandoffTaken, ActionHandoffTimeout, queue_line, when_text
from actions.handoff_service import Ticket, ticket_from
from tests.actions.turns import turn

CASABLANCA = ZoneInfo("Africa/Casablanca")
# A Friday evening in Casablanca.
NOW = dt.datetime(2026, 11, 27, 19, 30, tzinfo=CASABLANCA)


def ticket(position: int, minutes: int | None) -> Ticket:
    return Ticket(1, "queued", True, position, minutes, None, False)


def test_the_queue_line_says_who_is_ahead_and_roughly_how_long() -> None:
    assert queue_line(ticket(1, 5), "french") == "Personne n'attend avant toi ; compte environ 5 minutes."
    assert queue_line(ticket(3, 20), "darija_latin") == "Kaynin 2 9bel mnk, ghadi tsenna chi 20 d9i9a."
    assert queue_line(ticket(2, None), "darija_arabic") == "كاينين 1 قبل منك."


def test_when_advisers_are_back_is_said_as_a_person_says_it() -> None:
    saturday = dt.datetime(2026, 11, 28, 9, 0, tzinfo=CASABLANCA)
    monday = dt.datetime(2026, 11, 30, 9, 0, tzinfo=CASABLANCA)
    assert when_text(saturday, "french", NOW) == "demain à 09:00"
    assert when_text(monday, "french", NOW) == "lundi 30/11 à 09:00"
    assert when_text(monday, "darija_latin", NOW) == "nhar letnin 30/11 m3a 09:00"
    assert when_text(monday, "darija_arabic", NOW) == "نهار الاثنين 30/11 مع 09:00"
    assert when_text(None, "french", NOW) == "dès que possible"
    # A question left days after the request, when that opening has passed: no "aujourd'hui à 09:00" at 15:30.
    assert when_text(dt.datetime(2026, 11, 27, 9, 0, tzinfo=CASABLANCA), "french", NOW) == "dès que possible"


def test_the_consoles_answer_is_read_strictly() -> None:
    read = ticket_from(
        {"id": 7, "status": "queued", "open_now": False, "position": 2, "estimate_minutes": None,
         "next_opening": "2026-11-30T09:00:00+01:00", "wait_minutes": 10},
        already_open=False,
    )  # fmt: skip
    assert read.next_opening == dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert read.position == 2 and not read.open_now


# --- the console's actions change nothing that already changed (a race with the person or another adviser) ---
def run(action: Any, slots: Dict[str, Any], channel: str = "whatsapp") -> Tuple[List[str], List[Dict[str, Any]]]:
    tracker = turn("salam", "greet", slots=slots)
    tracker.events[-1]["input_channel"] = channel
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, {}))
    return [str(m.get("response")) for m in dispatcher.messages], events


def test_a_timeout_after_an_adviser_took_the_request_or_the_person_left_says_nothing() -> None:
    assert run(ActionHandoffTimeout(), {"handoff": "adviser"}) == ([], [])
    assert run(ActionHandoffTimeout(), {"handoff": None}) == ([], [])
    said, events = run(ActionHandoffTimeout(), {"handoff": "waiting"})
    assert said == ["utter_handoff_timeout"] and {"event": "resume", "timestamp": None} in events


def test_taking_a_request_the_person_already_ended_pauses_nothing() -> None:
    assert run(ActionHandoffTaken(), {"handoff": None}) == ([], [])
    said, events = run(ActionHandoffTaken(), {"handoff": "queued"})
    assert said == ["utter_handoff_taken"] and {"event": "pause", "timestamp": None} in events


def test_closing_after_the_person_ended_it_does_not_say_the_bot_is_back_twice() -> None:
    assert run(ActionHandoffClosed(), {"handoff": None}) == ([], [])
    said, _ = run(ActionHandoffClosed(), {"handoff": "adviser"})
    assert said == ["utter_handoff_closed"]


def test_taking_a_request_after_the_session_expired_still_tells_the_person_where_they_asked() -> None:
    # The session the console's action runs in began after the person's last message (it expired during the
    # wait): their channel is the one the request was made on, carried in the handoff's slots.
    tracker = turn("salam", "greet", slots={"handoff": "queued", "handoff_channel": "whatsapp"})
    tracker.events = [event for event in tracker.events if event.get("event") != "user"]
    tracker.latest_message = {}
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionHandoffTaken().run(dispatcher, tracker, {}))
    assert [m.get("response") for m in dispatcher.messages] == ["utter_handoff_taken"]
    assert {"event": "pause", "timestamp": None} in events
