"""The analytics figures for a range of days, as JSON and as CSV (formula injection neutralised)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections import Counter, defaultdict
from typing import Any, Dict, List, Optional

import sqlalchemy as sa
from sqlalchemy.orm import Session

from console.handoff.figures import handoff_figures
from console.masking import mask_many
from console.models import AuditEntry, ConversationSession, SessionIntent
from console.tracker import TrackerReader, TrackerUnavailable

DELETION_ACTIONS = ("erased_in_chat", "erase_person")
MAX_DAYS = 366


class StatsError(ValueError):
    """A range of days that cannot be read; the message says why."""


def parse_range(raw_from: Optional[str], raw_to: Optional[str], today: dt.date) -> tuple:
    """``from``/``to`` as YYYY-MM-DD, both included; the last 30 days by default."""
    try:
        end = dt.date.fromisoformat(raw_to) if raw_to else today
        start = dt.date.fromisoformat(raw_from) if raw_from else end - dt.timedelta(days=29)
        end + dt.timedelta(days=1)  # the range ends the next midnight: that day must exist too
    except (ValueError, OverflowError):
        raise StatsError("`from` and `to` are dates written YYYY-MM-DD, e.g. 2026-11-30.") from None
    if start > end:
        raise StatsError("`from` comes after `to`.")
    if (end - start).days >= MAX_DAYS:
        raise StatsError(f"At most {MAX_DAYS} days at once.")
    return start, end


def _day(timestamp: float, tz: dt.tzinfo) -> str:
    return dt.datetime.fromtimestamp(timestamp, tz).date().isoformat()


def compute_stats(
    session: Session, reader: Optional[TrackerReader], start: dt.date, end: dt.date, tz: dt.tzinfo
) -> Dict[str, Any]:
    begin = dt.datetime.combine(start, dt.time.min, tzinfo=tz).timestamp()
    finish = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz).timestamp()
    days = [(start + dt.timedelta(days=n)).isoformat() for n in range((end - start).days + 1)]
    rows = session.execute(
        sa.select(
            ConversationSession.id,
            ConversationSession.started_at,
            ConversationSession.channel,
            ConversationSession.register,
            ConversationSession.user_messages,
            ConversationSession.fallback_count,
            ConversationSession.asked_adviser,
            ConversationSession.eligibility_started,
            ConversationSession.verdict_given,
        ).where(ConversationSession.started_at >= begin, ConversationSession.started_at < finish)
    ).all()
    per_day: Dict[str, Dict[str, Any]] = {
        day: {"total": 0, "channel": Counter(), "register": Counter(), "messages": 0, "fallbacks": 0, "adviser": 0}
        for day in days
    }
    eligibility = {"started": 0, "finished": 0}
    for row in rows:
        bucket = per_day.get(_day(row.started_at, tz))
        if bucket is None:
            continue
        bucket["total"] += 1
        bucket["channel"][row.channel or "unknown"] += 1
        bucket["register"][row.register or "unknown"] += 1
        bucket["messages"] += row.user_messages
        bucket["fallbacks"] += row.fallback_count
        bucket["adviser"] += 1 if row.asked_adviser else 0
        eligibility["started"] += 1 if (row.eligibility_started or row.verdict_given) else 0
        eligibility["finished"] += 1 if row.verdict_given else 0
    intents = session.execute(
        sa.select(SessionIntent.intent, sa.func.sum(SessionIntent.count))
        .join(ConversationSession, ConversationSession.id == SessionIntent.session_id)
        .where(ConversationSession.started_at >= begin, ConversationSession.started_at < finish)
        .group_by(SessionIntent.intent)
        .order_by(sa.func.sum(SessionIntent.count).desc(), SessionIntent.intent)
        .limit(15)
    ).all()
    deletions: Dict[str, int] = defaultdict(int)
    for (at,) in session.execute(
        sa.select(AuditEntry.at).where(
            AuditEntry.action.in_(DELETION_ACTIONS), AuditEntry.at >= begin, AuditEntry.at < finish
        )
    ):
        deletions[_day(at, tz)] += 1
    fallback_messages: Optional[List[Dict[str, Any]]] = None
    if reader is not None:
        try:
            raw = [text for text, _ in reader.fallback_texts(begin, finish)]
            counted = Counter(mask_many(raw))
            fallback_messages = [{"text": text, "count": n} for text, n in counted.most_common(10)]
        except TrackerUnavailable:
            fallback_messages = None
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "days": days,
        "conversations_per_day": [
            {
                "day": day,
                "total": per_day[day]["total"],
                "by_channel": dict(per_day[day]["channel"]),
                "by_register": dict(per_day[day]["register"]),
            }
            for day in days
        ],
        "fallback_rate_per_day": [
            {
                "day": day,
                "user_messages": per_day[day]["messages"],
                "fallbacks": per_day[day]["fallbacks"],
                "rate": round(per_day[day]["fallbacks"] / per_day[day]["messages"], 4)
                if per_day[day]["messages"]
                else 0.0,
            }
            for day in days
        ],
        "top_intents": [{"intent": intent, "count": int(count)} for intent, count in intents],
        # None when the tracker store could not be read.
        "top_fallback_messages": fallback_messages,
        "eligibility": eligibility,
        "adviser_requests_per_day": [{"day": day, "count": per_day[day]["adviser"]} for day in days],
        "deletion_requests_per_day": [{"day": day, "count": deletions.get(day, 0)} for day in days],
        # Requests for an adviser made in the range and what became of them (console/handoff/figures.py).
        "handoffs": handoff_figures(session, begin, finish, tz, conversations=len(rows), days=days),
    }


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def csv_cell(value: Any) -> str:
    """A cell a spreadsheet will not run: text starting with = + - @ (or a tab, a CR) gets a leading quote.
    Control characters a person typed (NUL stops Python's csv writer) are dropped."""
    text = CONTROL_CHARACTERS.sub("", "" if value is None else str(value))
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _handoff_rows(handoffs: Optional[Dict[str, Any]]) -> List[List[Any]]:
    if not handoffs:
        return []
    rows: List[List[Any]] = []
    for entry in handoffs["requests_per_day"]:
        rows += [
            ["handoff_requests", entry["day"], key, entry[key]] for key in ("count", "within_hours", "outside_hours")
        ]
    rows.append(["handoff_share", "", "requests", handoffs["requests"]])
    rows.append(["handoff_share", "", "conversations", handoffs["conversations"]])
    rows.append(["handoff_share", "", "share", handoffs["share_handed_off"]])
    for when, times in handoffs["first_reply_minutes"].items():
        rows += [[f"handoff_first_reply_minutes_{when}", "", key, times[key]] for key in ("answered", "p50", "p90")]
    rows.append(["handoff_abandoned", "", "count", handoffs["abandoned"]["count"]])
    rows.append(["handoff_abandoned", "", "rate", handoffs["abandoned"]["rate"]])
    rows += [["handoff_abandoned", "", reason, n] for reason, n in handoffs["abandoned"]["by_reason"].items()]
    rows.append(["handoff_waiting", "", "count", handoffs["waiting"]])
    rows.append(["handoff_erased", "", "count", handoffs["erased"]])
    rows += [["handoff_outcomes", "", outcome, n] for outcome, n in handoffs["outcomes"].items()]
    return rows


def stats_csv(stats: Dict[str, Any]) -> str:
    rows: List[List[Any]] = [["figure", "day", "key", "value"]]
    for entry in stats["conversations_per_day"]:
        rows.append(["conversations", entry["day"], "total", entry["total"]])
        rows += [["conversations_by_channel", entry["day"], k, v] for k, v in sorted(entry["by_channel"].items())]
        rows += [["conversations_by_register", entry["day"], k, v] for k, v in sorted(entry["by_register"].items())]
    for entry in stats["fallback_rate_per_day"]:
        rows.append(["fallback_rate", entry["day"], "rate", entry["rate"]])
    for entry in stats["top_intents"]:
        rows.append(["top_intents", "", entry["intent"], entry["count"]])
    for entry in stats["top_fallback_messages"] or []:
        rows.append(["top_fallback_messages", "", entry["text"], entry["count"]])
    rows.append(["eligibility", "", "started", stats["eligibility"]["started"]])
    rows.append(["eligibility", "", "finished", stats["eligibility"]["finished"]])
    for entry in stats["adviser_requests_per_day"]:
        rows.append(["adviser_requests", entry["day"], "count", entry["count"]])
    for entry in stats["deletion_requests_per_day"]:
        rows.append(["deletion_requests", entry["day"], "count", entry["count"]])
    rows += _handoff_rows(stats.get("handoffs"))
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow([csv_cell(cell) for cell in row])
    return out.getvalue()
