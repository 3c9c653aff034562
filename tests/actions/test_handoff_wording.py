"""What the person is told about their request for an adviser: the queue and when advisers are back."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from actions.handoff import queue_line, when_text
from actions.handoff_service import Ticket, ticket_from

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


def test_the_consoles_answer_is_read_strictly() -> None:
    read = ticket_from(
        {"id": 7, "status": "queued", "open_now": False, "position": 2, "estimate_minutes": None,
         "next_opening": "2026-11-30T09:00:00+01:00", "wait_minutes": 10},
        already_open=False,
    )  # fmt: skip
    assert read.next_opening == dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert read.position == 2 and not read.open_now
