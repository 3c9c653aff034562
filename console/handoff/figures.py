"""The handoff figures of the analytics page, from the handoff log (``handoff_log``) alone.

Every figure is about the requests made in the range, [begin, finish), and what became of them since:

- requests per day: 'requested' rows by the console's local day, split within / outside opening hours;
- share handed off: those requests ÷ conversation sessions started in the range;
- time to first reply: first 'reply_sent' − 'requested', per request, in minutes: p50 and p90 (linear
  interpolation between ranks, as numpy's default), within and outside opening hours (``within_hours`` of the
  'requested' row); requests not answered yet are not in it (``answered`` counts those that are);
- abandoned: no adviser reply reached the person, and the request ended anyway: the person ended it or an
  adviser closed it as 'no_reply' before any reply was sent ("ended_by_person" / "no_reply"), or no adviser
  took it within HANDOFF_WAIT_MINUTES (a 'timeout' row) and no reply was ever sent ("timeout"). Each request is
  counted once, in the first reason that applies in that order. Requests still waiting (no reply, not closed,
  not timed out) are ``waiting``, not abandoned;
- outcomes: the ``outcome`` of each request's closing row ('closed' by an adviser, 'ended_by_person' by the
  person); requests not closed yet are not in it.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session

from console.models import OUTCOMES, ConversationSession, HandoffLogEntry

READ_KINDS = ("requested", "reply_sent", "closed", "ended_by_person", "timeout", "erased")
CLOSING_KINDS = ("closed", "ended_by_person")
ABANDONED_REASONS = ("ended_by_person", "no_reply", "timeout")


@dataclass(frozen=True)
class LogRow:
    """One row of ``handoff_log``, the columns the figures read."""

    at: float
    handoff_key: str
    kind: str
    within_hours: Optional[bool] = None
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class _Request:
    requested_at: float
    within_hours: Optional[bool]
    first_reply_at: Optional[float] = None
    closed_at: Optional[float] = None
    outcome: Optional[str] = None
    timed_out: bool = False
    erased: bool = False

    def abandoned(self) -> Optional[str]:
        """Why the request was abandoned (one of ABANDONED_REASONS), or None."""
        if self.closed_at is not None and self.outcome in ("ended_by_person", "no_reply"):
            if self.first_reply_at is None or self.first_reply_at > self.closed_at:
                return self.outcome
        if self.timed_out and self.first_reply_at is None:
            return "timeout"
        return None


def percentile(values: Sequence[float], fraction: float) -> Optional[float]:
    """The ``fraction`` quantile of ``values``, interpolated between the closest ranks; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * fraction
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _times(minutes: List[float]) -> Dict[str, Any]:
    p50, p90 = percentile(minutes, 0.5), percentile(minutes, 0.9)
    return {
        "answered": len(minutes),
        "p50": None if p50 is None else round(p50, 1),
        "p90": None if p90 is None else round(p90, 1),
    }


def local_days(begin: float, finish: float, tz: dt.tzinfo) -> List[str]:
    """The local days (YYYY-MM-DD) from ``begin`` up to, not including, ``finish``."""
    first = dt.datetime.fromtimestamp(begin, tz).date()
    last = dt.datetime.fromtimestamp(finish - 1e-3, tz).date()
    return [(first + dt.timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]


def summarise(
    rows: Iterable[LogRow],
    begin: float,
    finish: float,
    tz: dt.tzinfo,
    conversations: int,
    days: Optional[Sequence[str]] = None,
) -> Dict[str, Any]:
    """The handoff figures (module docstring) for the requests made in [begin, finish): a pure function."""
    ordered = sorted(rows, key=lambda row: row.at)
    requests: Dict[str, _Request] = {}
    for row in ordered:
        if row.kind == "requested" and row.handoff_key not in requests:
            requests[row.handoff_key] = _Request(row.at, row.within_hours)
    for row in ordered:
        request = requests.get(row.handoff_key)
        if request is None or row.at < request.requested_at:
            continue
        if row.kind == "reply_sent" and request.first_reply_at is None:
            request.first_reply_at = row.at
        elif row.kind in CLOSING_KINDS and request.closed_at is None:
            request.closed_at = row.at
            outcome = (row.detail or {}).get("outcome") or (row.kind if row.kind == "ended_by_person" else None)
            request.outcome = str(outcome) if outcome else "unknown"
        elif row.kind == "timeout":
            request.timed_out = True
        elif row.kind == "erased":
            request.erased = True
    cohort = {key: r for key, r in requests.items() if begin <= r.requested_at < finish}

    day_list = list(days) if days is not None else local_days(begin, finish, tz)
    per_day: Dict[str, Dict[str, Any]] = {
        day: {"day": day, "count": 0, "within_hours": 0, "outside_hours": 0} for day in day_list
    }
    minutes: Dict[str, List[float]] = {"all": [], "within_hours": [], "outside_hours": []}
    abandoned = dict.fromkeys(ABANDONED_REASONS, 0)
    outcomes: Dict[str, int] = dict.fromkeys(OUTCOMES, 0)
    waiting = erased = 0
    for request in cohort.values():
        where = None if request.within_hours is None else ("within_hours" if request.within_hours else "outside_hours")
        bucket = per_day.get(dt.datetime.fromtimestamp(request.requested_at, tz).date().isoformat())
        if bucket is not None:
            bucket["count"] += 1
            if where:
                bucket[where] += 1
        if request.first_reply_at is not None:
            waited = max(0.0, request.first_reply_at - request.requested_at) / 60
            minutes["all"].append(waited)
            if where:
                minutes[where].append(waited)
        reason = request.abandoned()
        if reason:
            abandoned[reason] += 1
        if request.outcome is not None:
            outcomes[request.outcome] = outcomes.get(request.outcome, 0) + 1
        erased += request.erased
        if (
            request.first_reply_at is None
            and request.closed_at is None
            and not request.timed_out
            and not request.erased
        ):
            waiting += 1
    total = len(cohort)
    abandoned_count = sum(abandoned.values())
    return {
        "requests": total,
        "conversations": conversations,
        "share_handed_off": round(total / conversations, 4) if conversations else None,
        "requests_per_day": [per_day[day] for day in day_list],
        "first_reply_minutes": {name: _times(values) for name, values in minutes.items()},
        "abandoned": {
            "count": abandoned_count,
            "rate": round(abandoned_count / total, 4) if total else None,
            "by_reason": abandoned,
        },
        "waiting": waiting,
        "erased": erased,
        "outcomes": outcomes,
    }


def handoff_figures(
    session: Session,
    begin: float,
    finish: float,
    tz: dt.tzinfo,
    conversations: Optional[int] = None,
    days: Optional[Sequence[str]] = None,
) -> Dict[str, Any]:
    """``summarise`` over the log rows of the requests made in [begin, finish) (``conversations``: the sessions
    started in the range, counted here when not given)."""
    log = HandoffLogEntry
    cohort = sa.select(log.handoff_key).where(log.kind == "requested", log.at >= begin, log.at < finish)
    rows = session.execute(
        sa.select(log.at, log.handoff_key, log.kind, log.within_hours, log.detail)
        # everything about a request comes after it: `at` bounds the scan (it is indexed, the key is not)
        .where(log.at >= begin, log.kind.in_(READ_KINDS), log.handoff_key.in_(cohort))
        .order_by(log.at, log.id)
    ).all()
    if conversations is None:
        conversations = session.execute(
            sa.select(sa.func.count())
            .select_from(ConversationSession)
            .where(ConversationSession.started_at >= begin, ConversationSession.started_at < finish)
        ).scalar_one()
    return summarise(
        (LogRow(row.at, row.handoff_key, row.kind, row.within_hours, row.detail or {}) for row in rows),
        begin,
        finish,
        tz,
        int(conversations),
        days,
    )
