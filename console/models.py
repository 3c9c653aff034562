"""The console's own tables: people and their logins, the index of conversation sessions, what staff
record about a session (review state, tags, notes, annotations) and the audit log.

Times are Unix timestamps (floats), as in Rasa's ``events`` table, so the index compares them directly."""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import declarative_base

Base: Any = declarative_base()  # typed as Any: SQLAlchemy 1.4 has no typed declarative base

ROLES = ("reviewer", "adviser", "supervisor", "admin")
REVIEW_STATUSES = ("new", "reviewed", "needs_work")


def now() -> float:
    return time.time()


class User(Base):
    __tablename__ = "users"

    id = sa.Column(sa.Integer, primary_key=True)
    username = sa.Column(sa.String(64), nullable=False, unique=True)
    password_hash = sa.Column(sa.String(255), nullable=False)
    role = sa.Column(sa.String(16), nullable=False)
    disabled = sa.Column(sa.Boolean, nullable=False, default=False)
    created_at = sa.Column(sa.Float, nullable=False, default=now)
    last_login_at = sa.Column(sa.Float, nullable=True)


class Login(Base):
    """A signed-in browser: the cookie carries a random token whose hash is kept here, so that logging out,
    disabling a user or the session's end takes effect at once."""

    __tablename__ = "logins"

    id = sa.Column(sa.Integer, primary_key=True)
    token_hash = sa.Column(sa.String(64), nullable=False, unique=True)
    user_id = sa.Column(sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    created_at = sa.Column(sa.Float, nullable=False, default=now)
    expires_at = sa.Column(sa.Float, nullable=False)
    revoked = sa.Column(sa.Boolean, nullable=False, default=False)


class LoginAttempt(Base):
    """Failed logins, kept in the database so that a restart does not forgive them."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        sa.Index("ix_login_attempts_username_at", "username", "at"),
        sa.Index("ix_login_attempts_client_at", "client", "at"),
    )

    id = sa.Column(sa.Integer, primary_key=True)
    username = sa.Column(sa.String(64), nullable=False)
    client = sa.Column(sa.String(64), nullable=False)
    at = sa.Column(sa.Float, nullable=False, default=now)


class IndexState(Base):
    """Where the index stopped reading the tracker store (``last_event_id``) and when it last reconciled."""

    __tablename__ = "index_state"

    key = sa.Column(sa.String(64), primary_key=True)
    value = sa.Column(sa.String(255), nullable=False)


class ConversationSession(Base):
    """One session of one conversation. Its id is the id of its first event in the tracker store: stable,
    and unique without a counter of our own."""

    __tablename__ = "conversation_sessions"
    __table_args__ = (sa.Index("ix_conversation_sessions_sender_id_id", "sender_id", "id"),)

    id = sa.Column(sa.BigInteger, primary_key=True, autoincrement=False)
    sender_id = sa.Column(sa.String(255), nullable=False)
    started_at = sa.Column(sa.Float, nullable=False, index=True)
    last_activity_at = sa.Column(sa.Float, nullable=False, index=True)
    last_event_id = sa.Column(sa.BigInteger, nullable=False)
    last_event_type = sa.Column(sa.String(64), nullable=True)
    event_count = sa.Column(sa.Integer, nullable=False, default=0)
    user_messages = sa.Column(sa.Integer, nullable=False, default=0)
    channel = sa.Column(sa.String(64), nullable=True)
    register = sa.Column(sa.String(32), nullable=True)
    # Messages the NLU could not read (nlu_fallback); ``had_fallback`` also counts action_fallback.
    fallback_count = sa.Column(sa.Integer, nullable=False, default=0)
    had_fallback = sa.Column(sa.Boolean, nullable=False, default=False)
    asked_adviser = sa.Column(sa.Boolean, nullable=False, default=False)
    eligibility_started = sa.Column(sa.Boolean, nullable=False, default=False)
    verdict_given = sa.Column(sa.Boolean, nullable=False, default=False)
    deletion_requested = sa.Column(sa.Boolean, nullable=False, default=False)
    erased = sa.Column(sa.Boolean, nullable=False, default=False)
    erased_at = sa.Column(sa.Float, nullable=True)
    intents = sa.Column(sa.JSON, nullable=False, default=dict)
    # What the person wrote, folded for the free-text filter (cleared when the session is erased).
    search_text = sa.Column(sa.Text, nullable=False, default="")


class SessionIntent(Base):
    __tablename__ = "session_intents"

    session_id = sa.Column(
        sa.BigInteger, sa.ForeignKey("conversation_sessions.id", ondelete="CASCADE"), primary_key=True
    )
    intent = sa.Column(sa.String(128), primary_key=True, index=True)
    count = sa.Column(sa.Integer, nullable=False, default=0)


class Review(Base):
    """The review state of a session; each change is also a ``ReviewEvent`` (who did what, when)."""

    __tablename__ = "reviews"

    session_id = sa.Column(
        sa.BigInteger, sa.ForeignKey("conversation_sessions.id", ondelete="CASCADE"), primary_key=True
    )
    status = sa.Column(sa.String(16), nullable=False, default="new", index=True)
    note = sa.Column(sa.Text, nullable=False, default="")
    updated_by = sa.Column(sa.String(64), nullable=True)
    updated_at = sa.Column(sa.Float, nullable=True)


class ReviewEvent(Base):
    __tablename__ = "review_events"

    id = sa.Column(sa.Integer, primary_key=True)
    session_id = sa.Column(
        sa.BigInteger, sa.ForeignKey("conversation_sessions.id", ondelete="CASCADE"), nullable=False, index=True
    )
    username = sa.Column(sa.String(64), nullable=False)
    at = sa.Column(sa.Float, nullable=False, default=now)
    # "status new→reviewed", "tags +x -y", "note": what changed, never the note's text.
    change = sa.Column(sa.String(255), nullable=False)


class SessionTag(Base):
    __tablename__ = "session_tags"

    session_id = sa.Column(
        sa.BigInteger, sa.ForeignKey("conversation_sessions.id", ondelete="CASCADE"), primary_key=True
    )
    tag = sa.Column(sa.String(64), primary_key=True, index=True)


class Annotation(Base):
    """A corrected reading of one user message. ``text`` is the message as masked when it was annotated, and
    the entity offsets are in that text: what goes into training data never carries personal data."""

    __tablename__ = "annotations"
    __table_args__ = (sa.UniqueConstraint("session_id", "event_id", name="uq_annotations_session_event"),)

    id = sa.Column(sa.Integer, primary_key=True)
    session_id = sa.Column(
        sa.BigInteger, sa.ForeignKey("conversation_sessions.id", ondelete="CASCADE"), nullable=False, index=True
    )
    event_id = sa.Column(sa.BigInteger, nullable=False)
    text = sa.Column(sa.Text, nullable=False)
    predicted_intent = sa.Column(sa.String(128), nullable=True)
    intent = sa.Column(sa.String(128), nullable=False)
    entities = sa.Column(sa.JSON, nullable=False, default=list)
    created_by = sa.Column(sa.String(64), nullable=False)
    created_at = sa.Column(sa.Float, nullable=False, default=now, index=True)


class AuditEntry(Base):
    """Who revealed, exported or erased what, and why: identifiers and counts, never the content."""

    __tablename__ = "audit_log"

    id = sa.Column(sa.Integer, primary_key=True)
    at = sa.Column(sa.Float, nullable=False, default=now, index=True)
    username = sa.Column(sa.String(64), nullable=False)
    action = sa.Column(sa.String(64), nullable=False, index=True)
    session_id = sa.Column(sa.BigInteger, nullable=True)
    detail = sa.Column(sa.JSON, nullable=False, default=dict)


# --- handoff to human advisers (console/handoff) ----------------------------------------------------------------
HANDOFF_STATUSES = ("queued", "assigned", "closed")
OPEN_STATUSES = ("queued", "assigned")
OUTCOMES = ("answered", "referred", "no_reply", "ended_by_person")
ALL_REGIONS = "all"
REGISTERS = ("french", "darija_latin", "darija_arabic")


class AdviserRegion(Base):
    """The regions whose requests an adviser answers; ``all`` stands for every region."""

    __tablename__ = "adviser_regions"

    user_id = sa.Column(sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    region = sa.Column(sa.String(64), primary_key=True)


_OPEN = sa.text("status IN ('queued', 'assigned')")


class Handoff(Base):
    """One request of one person for an adviser. ``key`` names it in the log without naming the person, and
    outlives it: when the person's data is erased, the row goes and the log keeps only the key."""

    __tablename__ = "handoffs"
    __table_args__ = (
        # At most one open request per conversation (the service checks first; this makes a race lose cleanly).
        sa.Index(
            "ux_handoffs_open_conversation",
            "conversation_id",
            unique=True,
            sqlite_where=_OPEN,
            postgresql_where=_OPEN,
        ),
    )

    id = sa.Column(sa.Integer, primary_key=True)
    key = sa.Column(sa.String(32), nullable=False, unique=True)
    conversation_id = sa.Column(sa.String(255), nullable=False, index=True)
    channel = sa.Column(sa.String(64), nullable=True)
    register = sa.Column(sa.String(32), nullable=True)
    # None: unknown, so every adviser sees it.
    region = sa.Column(sa.String(64), nullable=True)
    city = sa.Column(sa.String(64), nullable=True)
    programme = sa.Column(sa.String(128), nullable=True)
    # {"eligibility": {...}, "verdict": ..., "reason": ...}: what the action server knew when the person asked.
    summary = sa.Column(sa.JSON, nullable=False, default=dict)
    status = sa.Column(sa.String(16), nullable=False, default="queued", index=True)
    urgent = sa.Column(sa.Boolean, nullable=False, default=False)
    adviser_id = sa.Column(sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    created_at = sa.Column(sa.Float, nullable=False, default=now)
    # Whether the request came within opening hours.
    within_hours = sa.Column(sa.Boolean, nullable=False, default=True)
    claimed_at = sa.Column(sa.Float, nullable=True)
    first_reply_at = sa.Column(sa.Float, nullable=True)
    closed_at = sa.Column(sa.Float, nullable=True)
    timed_out_at = sa.Column(sa.Float, nullable=True)
    outcome = sa.Column(sa.String(32), nullable=True)
    # True while queued and the bot answers the person (off hours, or after the wait timeout).
    bot_active = sa.Column(sa.Boolean, nullable=False, default=False)
    # The person's last message (tracker time): WhatsApp's 24-hour window runs from it.
    last_inbound_at = sa.Column(sa.Float, nullable=True)
    # The newest tracker event of this conversation the watcher has read.
    last_event_id = sa.Column(sa.BigInteger, nullable=False, default=0)
    unread = sa.Column(sa.Integer, nullable=False, default=0)


class HandoffMessage(Base):
    """What was said during a handoff, as the console shows it: the person's messages masked, the adviser's as
    sent with their delivery state, internal notes, and notices of what happened."""

    __tablename__ = "handoff_messages"

    id = sa.Column(sa.Integer, primary_key=True)
    handoff_id = sa.Column(sa.Integer, sa.ForeignKey("handoffs.id", ondelete="CASCADE"), nullable=False, index=True)
    at = sa.Column(sa.Float, nullable=False, default=now)
    direction = sa.Column(sa.String(8), nullable=False)  # in, out, note, system
    kind = sa.Column(sa.String(16), nullable=False, default="text")
    text = sa.Column(sa.Text, nullable=False, default="")
    author_id = sa.Column(sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    event_id = sa.Column(sa.BigInteger, nullable=True)
    state = sa.Column(sa.String(16), nullable=True)  # sending, sent, failed (out only)
    reason = sa.Column(sa.String(64), nullable=True)
    code = sa.Column(sa.String(32), nullable=True)


class HandoffLogEntry(Base):
    """Append-only: every step of every handoff, with ids, counts and outcomes, never what was written. The live
    stream reads it (its id is the stream's event id) and so do the figures."""

    __tablename__ = "handoff_log"

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    at = sa.Column(sa.Float, nullable=False, default=now, index=True)
    handoff_id = sa.Column(sa.Integer, nullable=True, index=True)
    handoff_key = sa.Column(sa.String(32), nullable=False)
    kind = sa.Column(sa.String(32), nullable=False)
    actor_id = sa.Column(sa.Integer, nullable=True)
    region = sa.Column(sa.String(64), nullable=True)
    within_hours = sa.Column(sa.Boolean, nullable=True)
    detail = sa.Column(sa.JSON, nullable=False, default=dict)


class CannedReply(Base):
    """A ready answer in one register, editable by supervisors."""

    __tablename__ = "canned_replies"

    id = sa.Column(sa.Integer, primary_key=True)
    register = sa.Column(sa.String(32), nullable=False, index=True)
    title = sa.Column(sa.String(80), nullable=False)
    text = sa.Column(sa.Text, nullable=False)
    updated_by = sa.Column(sa.String(64), nullable=False, default="tawjih")
    updated_at = sa.Column(sa.Float, nullable=False, default=now)
