"""The handoff figures of the analytics page, on a log with known values: requests per day, share handed off,
time to first reply within and outside opening hours, abandoned requests, outcomes."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Dict, Iterator, List, Optional, Tuple
from zoneinfo import ZoneInfo

import jinja2
import pytest
from sqlalchemy.orm import Session

from console.db import create_engine, migrate, session_factory
from console.handoff.figures import LogRow, handoff_figures, local_days, percentile, summarise
from console.models import ConversationSession, HandoffLogEntry
from console.stats import compute_stats, stats_csv
from tests.support.processes import ROOT

CASA = ZoneInfo("Africa/Casablanca")
MINUTE = 60.0


def at(day: int, hour: int, minute: int = 0, month: int = 12) -> float:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=CASA).timestamp()


# (key, requested at, within opening hours, [(minutes after the request, kind, detail)])
REQUESTS: List[Tuple[str, float, Optional[bool], List[Tuple[float, str, Dict[str, Any]]]]] = [
    # answered within hours in 4 minutes (a second reply does not change it), closed "answered"
    (
        "A",
        at(1, 10),
        True,
        [(1, "claimed", {}), (4, "reply_sent", {}), (10, "reply_sent", {}), (30, "closed", {"outcome": "answered"})],
    ),
    # a failed send is not a reply; answered in 10 minutes, referred to a centre
    ("B", at(1, 11), True, [(3, "reply_failed", {}), (10, "reply_sent", {}), (40, "closed", {"outcome": "referred"})]),
    # asked at night: timed out, answered the next morning at 09:30 (810 minutes): not abandoned
    ("C", at(1, 20), False, [(15, "timeout", {}), (810, "reply_sent", {}), (900, "closed", {"outcome": "answered"})]),
    # answered in 2 minutes, then the person ended it: not abandoned
    ("D", at(2, 9, 30), True, [(2, "reply_sent", {}), (20, "ended_by_person", {"outcome": "ended_by_person"})]),
    # the person ended it before any reply: abandoned
    ("E", at(2, 12), True, [(5, "ended_by_person", {"outcome": "ended_by_person"})]),
    # asked at night, timed out, never answered, still queued: abandoned
    ("F", at(2, 22), False, [(15, "timeout", {})]),
    # taken, then closed "no reply" without a word sent: abandoned
    ("G", at(3, 10), True, [(1, "claimed", {}), (60, "closed", {"outcome": "no_reply"})]),
    # still waiting
    ("H", at(3, 15), True, []),
    # timed out, then the person erased their data: abandoned, and erased
    ("I", at(3, 16), True, [(15, "timeout", {}), (30, "erased", {"why": "erased_in_chat"})]),
    # asked late on the last day, answered after the range (570 minutes): still counted
    ("J", at(3, 23, 30), False, [(570, "reply_sent", {})]),
    # outside the range: before it and after it
    ("K", at(30, 23, month=11), False, [(60, "reply_sent", {})]),
    ("L", at(4, 0, 30), False, [(5, "reply_sent", {})]),
]
BEGIN, FINISH = at(1, 0), at(4, 0)
DAYS = ["2026-12-01", "2026-12-02", "2026-12-03"]

EXPECTED = {
    "requests": 10,
    "conversations": 40,
    "share_handed_off": 0.25,
    "requests_per_day": [
        {"day": "2026-12-01", "count": 3, "within_hours": 2, "outside_hours": 1},
        {"day": "2026-12-02", "count": 3, "within_hours": 2, "outside_hours": 1},
        {"day": "2026-12-03", "count": 4, "within_hours": 3, "outside_hours": 1},
    ],
    "first_reply_minutes": {
        "all": {"answered": 5, "p50": 10.0, "p90": 714.0},  # 2, 4, 10, 570, 810
        "within_hours": {"answered": 3, "p50": 4.0, "p90": 8.8},  # 2, 4, 10
        "outside_hours": {"answered": 2, "p50": 690.0, "p90": 786.0},  # 570, 810
    },
    "abandoned": {"count": 4, "rate": 0.4, "by_reason": {"ended_by_person": 1, "no_reply": 1, "timeout": 2}},
    "waiting": 1,
    "erased": 1,
    "outcomes": {"answered": 2, "referred": 1, "no_reply": 1, "ended_by_person": 2},
}


def log_rows() -> List[LogRow]:
    rows = []
    for key, requested, within, events in REQUESTS:
        rows.append(LogRow(requested, key, "requested", within, {"channel": "socketio"}))
        rows += [LogRow(requested + minutes * MINUTE, key, kind, within, detail) for minutes, kind, detail in events]
    return rows


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    engine = create_engine(f"sqlite:///{tmp_path / 'console.db'}")
    migrate(engine)
    with session_factory(engine)() as db:
        for row in log_rows():
            erased = row.handoff_key == "I"  # after erasure the log keeps the key only
            db.add(
                HandoffLogEntry(
                    at=row.at,
                    handoff_id=None if erased else ord(row.handoff_key),
                    handoff_key=row.handoff_key * 32,
                    kind=row.kind,
                    within_hours=row.within_hours,
                    detail=dict(row.detail),
                )
            )
        # 40 conversations started in the range, 7 outside it
        starts = [BEGIN + n * 3 * 3600 for n in range(24)] + [at(3, 18) + n * 60 for n in range(16)]
        starts += [BEGIN - 3600 * n for n in range(1, 4)] + [FINISH + 60 * n for n in range(4)]
        for n, started in enumerate(starts):
            db.add(
                ConversationSession(
                    id=n + 1, sender_id=f"person-{n}", started_at=started, last_activity_at=started, last_event_id=n + 1
                )
            )
        db.commit()
        yield db
    engine.dispose()


def test_the_figures_from_the_pure_function() -> None:
    assert summarise(log_rows(), BEGIN, FINISH, CASA, conversations=40) == EXPECTED


def test_the_figures_from_the_database(session: Session) -> None:
    assert handoff_figures(session, BEGIN, FINISH, CASA) == EXPECTED


def test_rows_in_any_order_give_the_same_figures() -> None:
    assert summarise(reversed(log_rows()), BEGIN, FINISH, CASA, conversations=40) == EXPECTED


def test_nothing_yet() -> None:
    figures = summarise([], BEGIN, FINISH, CASA, conversations=0)
    assert figures["requests"] == 0 and figures["share_handed_off"] is None and figures["abandoned"]["rate"] is None
    assert figures["first_reply_minutes"]["within_hours"] == {"answered": 0, "p50": None, "p90": None}
    assert figures["outcomes"] == {"answered": 0, "referred": 0, "no_reply": 0, "ended_by_person": 0}
    assert [d["count"] for d in figures["requests_per_day"]] == [0, 0, 0]


def test_a_request_without_its_hours_counts_in_all_only() -> None:
    rows = [LogRow(at(1, 10), "X", "requested", None), LogRow(at(1, 10, 6), "X", "reply_sent", None)]
    figures = summarise(rows, BEGIN, FINISH, CASA, conversations=1)
    assert figures["first_reply_minutes"]["all"] == {"answered": 1, "p50": 6.0, "p90": 6.0}
    assert figures["first_reply_minutes"]["within_hours"]["answered"] == 0
    assert figures["requests_per_day"][0] == {"day": "2026-12-01", "count": 1, "within_hours": 0, "outside_hours": 0}


def test_percentile_interpolates_between_ranks() -> None:
    assert percentile([], 0.5) is None
    assert percentile([7.0], 0.9) == 7.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    assert percentile([10.0, 0.0, 20.0], 0.9) == pytest.approx(18.0)


def test_local_days_across_ramadans_clock_change() -> None:
    begin = dt.datetime(2026, 2, 14, tzinfo=CASA).timestamp()
    finish = dt.datetime(2026, 2, 17, tzinfo=CASA).timestamp()  # the clocks go back on the 15th
    assert local_days(begin, finish, CASA) == ["2026-02-14", "2026-02-15", "2026-02-16"]


def test_the_analytics_figures_json_and_csv_carry_them(session: Session) -> None:
    stats = compute_stats(session, None, dt.date(2026, 12, 1), dt.date(2026, 12, 3), CASA)
    assert stats["handoffs"] == EXPECTED
    rows = list(csv.reader(io.StringIO(stats_csv(stats))))
    assert ["handoff_requests", "2026-12-03", "count", "4"] in rows
    assert ["handoff_share", "", "share", "0.25"] in rows
    assert ["handoff_first_reply_minutes_within_hours", "", "p90", "8.8"] in rows
    assert ["handoff_abandoned", "", "timeout", "2"] in rows
    assert ["handoff_outcomes", "", "referred", "1"] in rows


def test_the_analytics_page_shows_them(session: Session) -> None:
    stats = compute_stats(session, None, dt.date(2026, 12, 1), dt.date(2026, 12, 3), CASA)
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(ROOT / "console" / "templates")), autoescape=True, undefined=jinja2.Undefined
    )
    env.globals["csrf_token"] = lambda request: "token"
    env.filters["when"] = lambda iso: iso
    page = env.get_template("analytics.html").render(figures=stats, request=SimpleNamespace(), user=None)
    assert "Demandes de conseiller" in page
    assert "25.0 % (10 / 40)" in page
    assert "<td>3</td><td>4.0</td><td>8.8</td>" in page  # within opening hours: answered, p50, p90
    assert "<td>2</td><td>690.0</td><td>786.0</td>" in page
    assert "4 (40.0 %)" in page
    assert 'id="chart-handoff-requests"' in page and 'id="chart-handoff-outcomes"' in page
    assert "Abandonnée" in page  # the definition is on the page
