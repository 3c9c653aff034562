"""What the pages and the JSON API both show, computed once: the list, one session, the figures. Every text a
person or the bot wrote is masked by the time it is in these dictionaries."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any, Dict, List, Mapping, Optional

import sqlalchemy as sa
from sqlalchemy.orm import Session

from console.api.deps import Console, NotFound, pseudonym
from console.filters import filtered_query, parse_filters
from console.indexer import IndexStatus
from console.masking import mask
from console.models import Annotation, AuditEntry, ConversationSession, Review, SessionTag
from console.review import history, review_state
from console.tracker import TrackerUnavailable
from console.transcript import build_items, final_slots

# A list request waits this long for new events before answering from the index as it is.
INDEX_WAIT_SECONDS = 1.5


def when(timestamp: Optional[float], tz: dt.tzinfo) -> Optional[str]:
    if timestamp is None:
        return None
    return dt.datetime.fromtimestamp(timestamp, tz).isoformat(timespec="seconds")


def index_status(ctx: Console) -> Dict[str, Any]:
    status: IndexStatus = ctx.indexer.ensure_fresh(INDEX_WAIT_SECONDS)
    return {
        "ok": status.ok,
        # Only the kind of problem: never an error message, which may carry the connection string.
        "problem": status.problem,
        "last_success": when(status.last_success, ctx.tz),
    }


def session_summary(row: ConversationSession, ctx: Console, status: str, tags: List[str]) -> Dict[str, Any]:
    return {
        "session_id": row.id,
        "conversation": pseudonym(row.sender_id),
        "started_at": when(row.started_at, ctx.tz),
        "last_activity_at": when(row.last_activity_at, ctx.tz),
        "channel": row.channel,
        "register": row.register,
        "length": row.user_messages,
        "events": row.event_count,
        "intents": sorted(row.intents or {}, key=lambda name: -(row.intents or {})[name]),
        "had_fallback": row.had_fallback,
        "fallbacks": row.fallback_count,
        "asked_adviser": row.asked_adviser,
        "eligibility_started": row.eligibility_started,
        "verdict_given": row.verdict_given,
        "erased": row.erased,
        "review_status": status,
        "tags": tags,
    }


def list_conversations(ctx: Console, session: Session, params: Mapping[str, str]) -> Dict[str, Any]:
    found, errors, page = parse_filters(params)
    status = index_status(ctx)
    query = filtered_query(found, ctx.tz)
    count = session.execute(sa.select(sa.func.count()).select_from(query.order_by(None).subquery())).scalar_one()
    size = ctx.settings.page_size
    rows = session.execute(query.limit(size).offset((page - 1) * size)).scalars().all()
    ids = [row.id for row in rows]
    statuses = dict(
        session.execute(sa.select(Review.session_id, Review.status).where(Review.session_id.in_(ids))).all()
    )
    tags: Dict[int, List[str]] = {}
    for session_id, tag in session.execute(
        sa.select(SessionTag.session_id, SessionTag.tag).where(SessionTag.session_id.in_(ids)).order_by(SessionTag.tag)
    ):
        tags.setdefault(session_id, []).append(tag)
    return {
        "data": [session_summary(row, ctx, statuses.get(row.id, "new"), tags.get(row.id, [])) for row in rows],
        "count": count,
        "page": page,
        "pages": max(1, -(-count // size)),
        "page_size": size,
        "filters": found.params(),
        "errors": errors,
        "index": status,
        "_filter": found,
    }


def get_session(session: Session, session_id: int) -> ConversationSession:
    # An id no database column can hold (the URL's number is unbounded) is no session either, not a 500.
    row = session.get(ConversationSession, session_id) if 0 < session_id < 2**63 else None
    if row is None or row.erased:
        raise NotFound("No such conversation session (or it was erased).")
    return row


def conversation_detail(ctx: Console, session: Session, session_id: int, page: int = 1) -> Dict[str, Any]:
    row = get_session(session, session_id)
    state = review_state(session, session_id)
    size = ctx.settings.transcript_page_size
    annotations = {
        a.event_id: {"intent": a.intent, "entities": a.entities, "by": a.created_by, "at": when(a.created_at, ctx.tz)}
        for a in session.execute(sa.select(Annotation).where(Annotation.session_id == session_id)).scalars()
    }
    detail: Dict[str, Any] = {
        "session": session_summary(row, ctx, state.status, state.tags),
        "review": {
            "status": state.status,
            "tags": state.tags,
            # Typed by staff, who may copy a revealed value into it: masked like everything else.
            "note": mask(state.note) if state.note else "",
            "updated_by": state.updated_by,
            "updated_at": when(state.updated_at, ctx.tz),
            "history": [
                {"by": e.username, "at": when(e.at, ctx.tz), "change": e.change} for e in history(session, session_id)
            ],
        },
        "annotations": annotations,
        "page": page,
        "pages": 1,
        "items": [],
        "slots": {},
        "tracker": {"ok": True, "problem": None},
    }
    try:
        total = ctx.reader.count_session_events(row.sender_id, row.id, row.last_event_id)
        pages = max(1, -(-total // size))
        page = min(max(1, page), pages)
        offset = (page - 1) * size
        # One event more before the page, for the time since the previous turn.
        events = ctx.reader.session_events(
            row.sender_id, row.id, row.last_event_id, offset=max(0, offset - 1), limit=size + (1 if offset else 0)
        )
        previous = events[0].timestamp if offset and events else None
        page_events = events[1:] if offset else events
        items = build_items(page_events, previous)
        detail.update(page=page, pages=pages, items=[vars(item) for item in items])
        for item in detail["items"]:
            item["masked_values"] = [vars(v) for v in item["masked_values"]]
            item["time"] = when(item["timestamp"], ctx.tz)
        if page == pages:
            detail["slots"] = final_slots(ctx.reader.slot_events(row.sender_id, row.id, row.last_event_id))
    except TrackerUnavailable as error:
        detail["tracker"] = {"ok": False, "problem": error.kind}
    return detail


def user_message(ctx: Console, session: Session, session_id: int, event_id: int) -> Any:
    """The stored user event ``event_id`` of this session (for annotating and revealing)."""
    row = get_session(session, session_id)
    if not row.id <= event_id <= row.last_event_id:
        raise NotFound("That message is not in this session.")
    events = ctx.reader.session_events(row.sender_id, event_id, event_id)
    if not events or events[0].type_name != "user":
        raise NotFound("That message is not in this session.")
    return events[0]


def now_iso(ctx: Console) -> str:
    return when(time.time(), ctx.tz) or ""


AUDIT_PAGE_SIZE = 100


def audit_entries(session: Session, page: int) -> List[AuditEntry]:
    """One page of the audit log, newest first (the page and the API show the same)."""
    return list(
        session.execute(
            sa.select(AuditEntry)
            .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
            .limit(AUDIT_PAGE_SIZE)
            .offset((page - 1) * AUDIT_PAGE_SIZE)
        ).scalars()
    )
