"""The conversation list's filters: read from the URL (so a filter can be bookmarked), checked with a clear
message per bad value, and turned into one query on the index."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from typing import Any, Dict, List, Mapping, Optional, Tuple
from urllib.parse import urlencode

import sqlalchemy as sa

from console.indexer import REGISTERS, fold_text
from console.masking import mask
from console.models import REVIEW_STATUSES, ConversationSession, Review, SessionIntent, SessionTag

YES = {"1", "true", "yes", "oui", "on"}
NO = {"0", "false", "no", "non", "off"}
MAX_PAGE = 100_000


@dataclass
class ConversationFilter:
    date_from: Optional[dt.date] = None
    date_to: Optional[dt.date] = None
    channel: Optional[str] = None
    register: Optional[str] = None
    intent: Optional[str] = None
    had_fallback: Optional[bool] = None
    asked_adviser: Optional[bool] = None
    verdict_given: Optional[bool] = None
    status: Optional[str] = None
    tag: Optional[str] = None
    q: Optional[str] = None
    min_length: Optional[int] = None

    def params(self) -> Dict[str, str]:
        """The filter as URL parameters, the empty ones left out."""
        found: Dict[str, str] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if value is None:
                continue
            if isinstance(value, bool):
                found[item.name] = "yes" if value else "no"
            else:
                found[item.name] = str(value)
        return found

    def query_string(self, **extra: Any) -> str:
        return urlencode({**self.params(), **{k: str(v) for k, v in extra.items() if v is not None}})


def _flag(value: str) -> bool:
    folded = value.strip().lower()
    if folded in YES:
        return True
    if folded in NO:
        return False
    raise ValueError("answer yes or no")


def parse_filters(params: Mapping[str, str]) -> Tuple[ConversationFilter, Dict[str, str], int]:
    """The filter, the message for each parameter that could not be read (that one is ignored), and the page."""
    found = ConversationFilter()
    errors: Dict[str, str] = {}

    def text(name: str, limit: int = 200) -> Optional[str]:
        value = (params.get(name) or "").strip()
        if len(value) > limit:
            errors[name] = f"at most {limit} characters"
            return None
        return value or None

    for name in ("date_from", "date_to"):
        raw = text(name, 10)
        if raw:
            try:
                day = dt.date.fromisoformat(raw)
                if day == dt.date.max:  # the range ends the next midnight, which does not exist
                    raise ValueError(raw)
                setattr(found, name, day)
            except ValueError:
                errors[name] = "a date is written YYYY-MM-DD, e.g. 2026-11-30"
    if found.date_from and found.date_to and found.date_from > found.date_to:
        errors["date_to"] = "the end of the range comes before its start"
        found.date_to = None
    found.channel = text("channel", 64)
    register = text("register", 32)
    if register and register not in REGISTERS:
        errors["register"] = f"one of {', '.join(REGISTERS)}"
    else:
        found.register = register
    found.intent = text("intent", 128)
    for name in ("had_fallback", "asked_adviser", "verdict_given"):
        raw = text(name, 8)
        if raw:
            try:
                setattr(found, name, _flag(raw))
            except ValueError:
                errors[name] = "answer yes or no"
    status = text("status", 16)
    if status and status not in REVIEW_STATUSES:
        errors["status"] = f"one of {', '.join(REVIEW_STATUSES)}"
    else:
        found.status = status
    found.tag = text("tag", 64)
    # Searched in the masked messages (the index holds no other), so masked too: a personal value typed in the
    # filter is neither echoed in the page and its links nor usable to probe what the masking hides.
    query = text("q", 200)
    found.q = mask(query) if query else None
    raw_length = text("min_length", 6)
    if raw_length:
        if raw_length.isdigit():
            found.min_length = int(raw_length)
        else:
            errors["min_length"] = "a whole number of messages, e.g. 3"
    page = 1
    raw_page = text("page", 7)
    if raw_page:
        if raw_page.isdigit() and 1 <= int(raw_page) <= MAX_PAGE:
            page = int(raw_page)
        else:
            errors["page"] = "a page number from 1"
    return found, errors, page


def _day_start(day: dt.date, tz: dt.tzinfo) -> float:
    return dt.datetime.combine(day, dt.time.min, tzinfo=tz).timestamp()


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def filtered_query(found: ConversationFilter, tz: dt.tzinfo) -> Any:
    """A SELECT of the matching sessions (not erased), newest activity first."""
    query = sa.select(ConversationSession).where(ConversationSession.erased.is_(False))
    if found.date_from:
        query = query.where(ConversationSession.last_activity_at >= _day_start(found.date_from, tz))
    if found.date_to:
        end = _day_start(found.date_to + dt.timedelta(days=1), tz)
        query = query.where(ConversationSession.started_at < end)
    if found.channel:
        query = query.where(ConversationSession.channel == found.channel)
    if found.register:
        query = query.where(ConversationSession.register == found.register)
    if found.intent:
        query = query.where(
            sa.exists().where(SessionIntent.session_id == ConversationSession.id, SessionIntent.intent == found.intent)
        )
    if found.had_fallback is not None:
        query = query.where(ConversationSession.had_fallback.is_(found.had_fallback))
    if found.asked_adviser is not None:
        query = query.where(ConversationSession.asked_adviser.is_(found.asked_adviser))
    if found.verdict_given is not None:
        query = query.where(ConversationSession.verdict_given.is_(found.verdict_given))
    if found.status:
        reviewed = sa.select(Review.session_id).where(Review.status != "new")
        if found.status == "new":
            query = query.where(ConversationSession.id.not_in(reviewed))
        else:
            query = query.where(
                sa.exists().where(Review.session_id == ConversationSession.id, Review.status == found.status)
            )
    if found.tag:
        query = query.where(
            sa.exists().where(SessionTag.session_id == ConversationSession.id, SessionTag.tag == found.tag)
        )
    if found.q:
        pattern = f"%{_escape_like(fold_text(found.q))}%"
        query = query.where(ConversationSession.search_text.like(pattern, escape="\\"))
    if found.min_length is not None:
        query = query.where(ConversationSession.user_messages >= found.min_length)
    return query.order_by(ConversationSession.last_activity_at.desc(), ConversationSession.id.desc())


def describe_errors(errors: Dict[str, str]) -> List[str]:
    return [f"{name}: {message}" for name, message in errors.items()]
