"""A person's rights under law 09-08, exercised by a supervisor for one conversation: access (everything kept
about them, as JSON) and erasure (every session in the tracker store, through ``privacy``, and everything the
console kept). Both are audited with identifiers and counts, never with what was written."""

from __future__ import annotations

import time
from typing import Any, Dict, List

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from console.indexer import drop_sessions
from console.models import Annotation, AuditEntry, ConversationSession, Review, ReviewEvent, SessionTag
from console.tracker import TrackerReader, TrackerUnavailable
from privacy.retention import erase_conversation


def audit(session: Session, username: str, action: str, session_id: Any = None, **detail: Any) -> None:
    session.add(AuditEntry(at=time.time(), username=username, action=action, session_id=session_id, detail=detail))


def person_export(session: Session, reader: TrackerReader, sender_id: str) -> Dict[str, Any]:
    """Everything kept about the person who wrote this conversation: it is theirs, so it is not masked."""
    sessions = (
        session.execute(
            sa.select(ConversationSession)
            .where(ConversationSession.sender_id == sender_id)
            .order_by(ConversationSession.id)
        )
        .scalars()
        .all()
    )
    ids = [s.id for s in sessions]
    reviews = {r.session_id: r for r in session.execute(sa.select(Review).where(Review.session_id.in_(ids))).scalars()}
    tags: Dict[int, List[str]] = {}
    for tag in session.execute(sa.select(SessionTag).where(SessionTag.session_id.in_(ids))).scalars():
        tags.setdefault(tag.session_id, []).append(tag.tag)
    annotations = session.execute(sa.select(Annotation).where(Annotation.session_id.in_(ids))).scalars().all()
    events = reader.sender_events(sender_id)
    return {
        "conversation_id": sender_id,
        "exported_at": time.time(),
        "sessions": [
            {
                "session_id": s.id,
                "started_at": s.started_at,
                "last_activity_at": s.last_activity_at,
                "channel": s.channel,
                "register": s.register,
                "user_messages": s.user_messages,
                "intents": s.intents,
                "review_status": reviews[s.id].status if s.id in reviews else "new",
                "review_note": reviews[s.id].note if s.id in reviews else "",
                "tags": sorted(tags.get(s.id, [])),
            }
            for s in sessions
        ],
        "annotations": [
            {
                "session_id": a.session_id,
                "event_id": a.event_id,
                "text": a.text,
                "intent": a.intent,
                "entities": a.entities,
            }
            for a in annotations
        ],
        "tracker_store_events": [
            {"id": e.id, "type": e.type_name, "timestamp": e.timestamp, "data": e.data} for e in events
        ],
    }


def erase_person(session: Session, tracker: Engine, sender_id: str) -> Dict[str, int]:
    """Erase one conversation, all its sessions: the tracker store through privacy.retention, then the
    console's index, reviews, tags, notes and annotations. The tracker store goes first: if it fails, nothing
    in the console is lost and the supervisor can try again."""
    if not sender_id:
        raise ValueError("no conversation")
    try:
        events = erase_conversation(tracker, sender_id)
    except sa.exc.SQLAlchemyError as error:
        raise TrackerUnavailable(type(error).__name__) from None
    ids = set(
        session.execute(sa.select(ConversationSession.id).where(ConversationSession.sender_id == sender_id)).scalars()
    )
    drop_sessions(session, ids)
    return {"sessions": len(ids), "events": int(events or 0)}


def review_history_count(session: Session, session_id: int) -> int:
    return int(session.execute(sa.select(sa.func.count()).where(ReviewEvent.session_id == session_id)).scalar_one())
