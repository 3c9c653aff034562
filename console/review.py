"""Review state of a session (new → reviewed / needs work), tags and note. Every change is a function that
records who made it and when (``ReviewEvent``); nothing else writes these tables."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Iterable, List, Optional

import sqlalchemy as sa
from sqlalchemy.orm import Session

from console.masking import find_personal_data
from console.models import REVIEW_STATUSES, Review, ReviewEvent, SessionTag

TAG_PATTERN = re.compile(r"^[\w\- ]{1,64}$", re.UNICODE)
MAX_NOTE = 5000


class ReviewError(ValueError):
    """A review change that cannot be made; the message says why."""


@dataclass
class ReviewState:
    status: str
    tags: List[str]
    note: str
    updated_by: Optional[str]
    updated_at: Optional[float]


def clean_tags(raw: Iterable[str]) -> List[str]:
    tags = []
    for tag in raw:
        tag = " ".join(str(tag).split()).lower()
        if not tag:
            continue
        if not TAG_PATTERN.match(tag):
            raise ReviewError(f"A tag is 1 to 64 letters, digits, spaces, - or _: {tag[:20]!r} is not.")
        if find_personal_data(tag):
            # Tags are shown unmasked in every list, suggestion and filter: no personal data in them.
            raise ReviewError("A tag may not hold a phone number, an e-mail address, a CIN number or a name.")
        if tag not in tags:
            tags.append(tag)
    if len(tags) > 20:
        raise ReviewError("At most 20 tags on a session.")
    return tags


def review_state(session: Session, session_id: int) -> ReviewState:
    review = session.get(Review, session_id)
    tags = list(
        session.execute(sa.select(SessionTag.tag).where(SessionTag.session_id == session_id).order_by(SessionTag.tag))
        .scalars()
        .all()
    )
    if review is None:
        return ReviewState("new", tags, "", None, None)
    return ReviewState(review.status, tags, review.note, review.updated_by, review.updated_at)


def update_review(
    session: Session,
    session_id: int,
    username: str,
    status: Optional[str] = None,
    tags: Optional[List[str]] = None,
    note: Optional[str] = None,
) -> ReviewState:
    """Apply what changed and record it; values left as None stay as they are."""
    if status is not None and status not in REVIEW_STATUSES:
        raise ReviewError(f"The status must be one of: {', '.join(REVIEW_STATUSES)}.")
    if note is not None and len(note) > MAX_NOTE:
        raise ReviewError(f"A note is at most {MAX_NOTE} characters.")
    new_tags = clean_tags(tags) if tags is not None else None
    before = review_state(session, session_id)
    review = session.get(Review, session_id)
    if review is None:
        review = Review(session_id=session_id, status="new", note="")
        session.add(review)
    changes = []
    if status is not None and status != before.status:
        changes.append(f"status {before.status} → {status}")
        review.status = status
    if note is not None and note != before.note:
        changes.append("note edited" if note else "note removed")
        review.note = note
    if new_tags is not None and new_tags != before.tags:
        added = [t for t in new_tags if t not in before.tags]
        removed = [t for t in before.tags if t not in new_tags]
        session.execute(sa.delete(SessionTag).where(SessionTag.session_id == session_id))
        session.add_all([SessionTag(session_id=session_id, tag=tag) for tag in new_tags])
        changes.append(("tags " + " ".join([f"+{t}" for t in added] + [f"-{t}" for t in removed]))[:255])
    if changes:
        now = time.time()
        review.updated_by, review.updated_at = username, now
        session.add_all([ReviewEvent(session_id=session_id, username=username, at=now, change=c) for c in changes])
    session.flush()
    return review_state(session, session_id)


def history(session: Session, session_id: int) -> List[ReviewEvent]:
    return list(
        session.execute(
            sa.select(ReviewEvent).where(ReviewEvent.session_id == session_id).order_by(ReviewEvent.at.desc())
        )
        .scalars()
        .all()
    )


def tags_in_use(session: Session, limit: int = 200) -> List[str]:
    rows = session.execute(
        sa.select(SessionTag.tag, sa.func.count())
        .group_by(SessionTag.tag)
        .order_by(sa.func.count().desc(), SessionTag.tag)
        .limit(limit)
    )
    return [row[0] for row in rows]
