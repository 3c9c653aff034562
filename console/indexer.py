"""The index of conversation sessions, built from the tracker store's new events only (by event id).

A conversation is split into sessions where Rasa starts one (``action_session_start`` followed by
``session_started``). ``apply_event`` is the pure part: what one event changes in what we know of a session.
``Indexer`` reads new events, folds them in and reconciles with erasures and the retention purge.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Set

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from console.masking import mask_many
from console.models import Annotation, AuditEntry, ConversationSession, IndexState, Review, SessionIntent
from console.tracker import StoredEvent, TrackerReader, TrackerUnavailable

logger = logging.getLogger("console.index")

SESSION_START_ACTION = "action_session_start"
FALLBACK_INTENT = "nlu_fallback"
FALLBACK_ACTION = "action_fallback"
ADVISER_INTENT = "request_human"
DELETION_INTENT = "request_data_deletion"
VERDICT_ACTION = "action_eligibility_verdict"
ELIGIBILITY_FORM = "eligibility_form"
REGISTERS = ("french", "darija_latin", "darija_arabic")
BATCH = 2000


def fold_text(text: str) -> str:
    """Lower case, without accents or Arabic diacritics: what the free-text filter compares."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@dataclass
class SessionFacts:
    """What the index knows of one session."""

    id: int
    sender_id: str
    started_at: float
    last_activity_at: float
    last_event_id: int
    last_event_type: Optional[str] = None
    event_count: int = 0
    user_messages: int = 0
    channel: Optional[str] = None
    register: Optional[str] = None
    fallback_count: int = 0
    had_fallback: bool = False
    asked_adviser: bool = False
    eligibility_started: bool = False
    verdict_given: bool = False
    deletion_requested: bool = False
    intents: Dict[str, int] = field(default_factory=dict)
    search_text: str = ""


def event_kind(event: StoredEvent) -> str:
    """``action:NAME`` for actions, the event's type otherwise: enough to tell where a session starts."""
    return f"action:{event.action_name}" if event.type_name == "action" else event.type_name


def starts_session(previous_kind: Optional[str], event: StoredEvent) -> bool:
    """Rasa logs ``action_session_start`` then ``session_started``: either opens a session, but not both."""
    if previous_kind is None:
        return True
    if event.type_name == "action" and event.action_name == SESSION_START_ACTION:
        return True
    return event.type_name == "session_started" and previous_kind != f"action:{SESSION_START_ACTION}"


def _register_of(data: Dict[str, Any]) -> Optional[str]:
    for entity in (data.get("parse_data") or {}).get("entities") or []:
        if isinstance(entity, dict) and entity.get("entity") == "register" and entity.get("value") in REGISTERS:
            return str(entity["value"])
    return None


def apply_event(facts: SessionFacts, event: StoredEvent) -> None:
    """Fold one event of the session into what is known of it."""
    facts.last_event_id = max(facts.last_event_id, event.id)
    facts.last_activity_at = max(facts.last_activity_at, event.timestamp)
    facts.last_event_type = event_kind(event)
    facts.event_count += 1
    data = event.data
    if event.type_name == "user":
        facts.user_messages += 1
        intent = event.intent_name or ((data.get("parse_data") or {}).get("intent") or {}).get("name")
        if intent:
            facts.intents[intent] = facts.intents.get(intent, 0) + 1
        if intent == FALLBACK_INTENT:
            facts.fallback_count += 1
            facts.had_fallback = True
        elif intent == ADVISER_INTENT:
            facts.asked_adviser = True
        elif intent == DELETION_INTENT:
            facts.deletion_requested = True
        channel = data.get("input_channel")
        if channel and not facts.channel:
            facts.channel = str(channel)[:64]
        facts.register = _register_of(data) or facts.register
        text = data.get("text")
        if isinstance(text, str) and text:
            facts.search_text = f"{facts.search_text}\n{fold_text(text)}" if facts.search_text else fold_text(text)
    elif event.type_name == "action":
        if event.action_name == FALLBACK_ACTION:
            facts.had_fallback = True
        elif event.action_name == VERDICT_ACTION:
            facts.verdict_given = True
        elif event.action_name == ELIGIBILITY_FORM:
            facts.eligibility_started = True
    elif event.type_name == "active_loop" and data.get("name") == ELIGIBILITY_FORM:
        facts.eligibility_started = True
    elif event.type_name == "slot" and data.get("name") == "register" and data.get("value") in REGISTERS:
        facts.register = str(data["value"])


def fold_events(open_sessions: Dict[str, SessionFacts], events: List[StoredEvent]) -> Dict[int, SessionFacts]:
    """Fold new events (in id order) into each conversation's open session, opening new ones where Rasa
    started one. Returns every session touched, by id; ``open_sessions`` is left with the newest of each."""
    touched: Dict[int, SessionFacts] = {}
    for event in events:
        current = open_sessions.get(event.sender_id)
        if current is None or starts_session(current.last_event_type, event):
            current = SessionFacts(
                id=event.id,
                sender_id=event.sender_id,
                started_at=event.timestamp,
                last_activity_at=event.timestamp,
                last_event_id=event.id,
            )
            open_sessions[event.sender_id] = current
        apply_event(current, event)
        touched[current.id] = current
    return touched


_COLUMNS = [f.name for f in dataclasses.fields(SessionFacts)]


def _facts_of(row: ConversationSession) -> SessionFacts:
    values = {name: getattr(row, name) for name in _COLUMNS}
    values["intents"] = dict(values["intents"] or {})
    values["search_text"] = values["search_text"] or ""
    return SessionFacts(**values)


@dataclass
class IndexStatus:
    """What the pages say about the index: up to date, or the tracker store could not be read."""

    ok: bool = True
    problem: Optional[str] = None
    last_success: Optional[float] = None
    last_event_id: int = 0


def _masked_user_texts(events: List[StoredEvent]) -> List[StoredEvent]:
    """The events with each user message masked: the free-text filter searches ``search_text``, and a search
    of the raw text would tell a reviewer, one digit at a time, what the masking hides."""
    users = [i for i, e in enumerate(events) if e.type_name == "user" and isinstance(e.data.get("text"), str)]
    masked = mask_many([str(events[i].data["text"]) for i in users])
    found = list(events)
    for i, text in zip(users, masked, strict=True):
        found[i] = dataclasses.replace(events[i], data={**events[i].data, "text": text})
    return found


class Indexer:
    """Keeps the index up to date. One refresh at a time; a request waits for it only briefly."""

    def __init__(self, factory: sessionmaker, reader: TrackerReader, retention_days: int, reconcile_seconds: float):
        self.factory = factory
        self.reader = reader
        self.retention_days = retention_days
        self.reconcile_seconds = reconcile_seconds
        self.status = IndexStatus()
        self._lock = threading.Lock()
        self._running: Optional[threading.Thread] = None
        self._last_reconcile = 0.0

    # --- what requests call -------------------------------------------------------------------------------
    def ensure_fresh(self, wait_seconds: float) -> IndexStatus:
        """Start a refresh unless one is running, and wait for it at most ``wait_seconds``."""
        with self._lock:
            if self._running is None or not self._running.is_alive():
                self._running = threading.Thread(target=self._refresh_logged, name="console-index", daemon=True)
                self._running.start()
            running = self._running
        running.join(wait_seconds)
        if running.is_alive() and self.status.ok:
            return IndexStatus(False, "slow", self.status.last_success, self.status.last_event_id)
        return self.status

    def _refresh_logged(self) -> None:
        try:
            self.refresh()
        except TrackerUnavailable as error:
            self.status = IndexStatus(False, error.kind, self.status.last_success, self.status.last_event_id)
            logger.warning("The tracker store could not be read (%s); the index is left as it was.", error.kind)
        except Exception as error:  # noqa: BLE001 - a page must still render: log the kind, keep the index
            self.status = IndexStatus(False, type(error).__name__, self.status.last_success, self.status.last_event_id)
            logger.error("The index could not be updated (%s).", type(error).__name__)

    # --- the work -----------------------------------------------------------------------------------------
    def refresh(self, max_seconds: float = 60.0) -> int:
        """Read and fold the events that are new since the last refresh; returns how many were read."""
        started = time.monotonic()
        read = 0
        if not self._last_event_still_there():
            self.reconcile()  # events were deleted since: rewind before reading what may reuse their ids
        while time.monotonic() - started < max_seconds:
            with self.factory() as session:
                last_id = int(_state(session, "last_event_id") or 0)
                events = self.reader.events_after(last_id, BATCH)
                if not events:
                    break
                self._store(session, events)
                _set_state(session, "last_event_id", str(events[-1].id))
                _set_state(session, "last_event_key", _event_key(events[-1]))
                session.commit()
                read += len(events)
                self.status.last_event_id = events[-1].id
            if len(events) < BATCH:
                break
        if time.monotonic() - self._last_reconcile >= self.reconcile_seconds:
            self.reconcile()
        self.status = IndexStatus(True, None, time.time(), self.status.last_event_id)
        return read

    def _last_event_still_there(self) -> bool:
        """Whether the last event read is still the same event (SQLite reuses the ids of deleted events)."""
        with self.factory() as session:
            last_id = int(_state(session, "last_event_id") or 0)
            key = _state(session, "last_event_key")
        if not last_id or not key:
            return True
        found = self.reader.event(last_id)
        return found is not None and _event_key(found) == key

    def _store(self, session: Session, events: List[StoredEvent]) -> None:
        senders = sorted({event.sender_id for event in events})
        open_sessions: Dict[str, SessionFacts] = {}
        for chunk_start in range(0, len(senders), 500):
            chunk = senders[chunk_start : chunk_start + 500]
            newest = (
                sa.select(ConversationSession.sender_id, sa.func.max(ConversationSession.id))
                .where(ConversationSession.sender_id.in_(chunk), ConversationSession.erased.is_(False))
                .group_by(ConversationSession.sender_id)
            )
            ids = [row[1] for row in session.execute(newest)]
            if ids:
                for row in session.execute(sa.select(ConversationSession).where(ConversationSession.id.in_(ids))):
                    open_sessions[row[0].sender_id] = _facts_of(row[0])
        existing = {facts.id for facts in open_sessions.values()}
        touched = fold_events(open_sessions, _masked_user_texts(events))
        # On SQLite an erased session's id can come back with a new first event (ids are reused): the erased
        # row, which holds nothing the person wrote, gives way.
        new_ids = [i for i in touched if i not in existing]
        for start in range(0, len(new_ids), 500):
            reused = set(
                session.execute(
                    sa.select(ConversationSession.id).where(
                        ConversationSession.id.in_(new_ids[start : start + 500]), ConversationSession.erased.is_(True)
                    )
                ).scalars()
            )
            drop_sessions(session, reused)
        for facts in touched.values():
            values = dataclasses.asdict(facts)
            if facts.id in existing:
                session.execute(
                    sa.update(ConversationSession).where(ConversationSession.id == facts.id).values(**values)
                )
            else:
                session.add(ConversationSession(**values))
        session.flush()
        touched_ids = list(touched)
        for chunk_start in range(0, len(touched_ids), 500):
            id_chunk = touched_ids[chunk_start : chunk_start + 500]
            session.execute(sa.delete(SessionIntent).where(SessionIntent.session_id.in_(id_chunk)))
        rows = [
            {"session_id": facts.id, "intent": intent[:128], "count": count}
            for facts in touched.values()
            for intent, count in facts.intents.items()
        ]
        if rows:
            session.execute(sa.insert(SessionIntent), rows)

    def reconcile_soon(self) -> None:
        """After an erasure from the console: reconcile (and rewind past the deleted ids) at the next refresh."""
        self._last_reconcile = 0.0

    def reconcile(self, now: Optional[float] = None) -> Dict[str, int]:
        """Sessions whose events left the tracker store: purged (older than the retention period) are dropped
        from the index; erased at the person's request are kept as erased, without anything they wrote."""
        self._last_reconcile = time.monotonic()
        first_ids = self.reader.first_event_ids()
        now = time.time() if now is None else now
        cutoff = now - self.retention_days * 86400
        purged: Set[int] = set()
        erased: Dict[str, List[int]] = {}
        with self.factory() as session:
            rows = session.execute(
                sa.select(
                    ConversationSession.id,
                    ConversationSession.sender_id,
                    ConversationSession.last_event_id,
                    ConversationSession.last_activity_at,
                ).where(ConversationSession.erased.is_(False))
            ).all()
            for session_id, sender_id, last_event_id, last_activity in rows:
                first = first_ids.get(sender_id)
                if first is not None and last_event_id >= first:
                    continue
                if last_activity < cutoff:
                    purged.add(session_id)
                else:
                    erased.setdefault(sender_id, []).append(session_id)
            drop_sessions(session, purged)
            for ids in erased.values():
                mark_erased(session, ids, now)
                # Counted as a deletion request in the figures; no identifier, nothing written.
                session.add(
                    AuditEntry(at=now, username="tawjih", action="erased_in_chat", detail={"sessions": len(ids)})
                )
            session.flush()
            rewind_past_deletions(session)
            session.commit()
        if purged or erased:
            logger.info(
                "Index reconciled: %d purged sessions dropped, %d conversations erased by their author.",
                len(purged),
                len(erased),
            )
        return {"purged": len(purged), "erased": len(erased)}


def rewind_past_deletions(session: Session) -> None:
    """SQLite gives the next event the id after the largest left, so ids of deleted events come back. Every
    event seen and still stored belongs to a session still indexed: reading on from the largest of their last
    ids misses nothing, and reads again nothing that is still there."""
    surviving = session.execute(
        sa.select(sa.func.max(ConversationSession.last_event_id)).where(ConversationSession.erased.is_(False))
    ).scalar_one()
    last = int(_state(session, "last_event_id") or 0)
    if int(surviving or 0) < last:
        _set_state(session, "last_event_id", str(int(surviving or 0)))
        _set_state(session, "last_event_key", "")  # unknown: checked again only after the next read


def drop_sessions(session: Session, ids: Set[int]) -> None:
    """Remove sessions and everything the console kept about them (intents, reviews, tags, annotations)."""
    from console.models import ReviewEvent, SessionTag

    id_list = sorted(ids)
    for start in range(0, len(id_list), 500):
        chunk = id_list[start : start + 500]
        for model in (SessionIntent, Review, ReviewEvent, SessionTag, Annotation):
            session.execute(sa.delete(model).where(model.session_id.in_(chunk)))
        session.execute(sa.delete(ConversationSession).where(ConversationSession.id.in_(chunk)))


def mark_erased(session: Session, ids: List[int], now: float) -> None:
    """The person erased their conversation: keep that it happened (for the figures), not what they wrote."""
    session.execute(sa.delete(Annotation).where(Annotation.session_id.in_(ids)))
    session.execute(sa.update(Review).where(Review.session_id.in_(ids)).values(note=""))
    session.execute(
        sa.update(ConversationSession)
        .where(ConversationSession.id.in_(ids))
        .values(erased=True, erased_at=now, sender_id="", search_text="", register=None)
    )


def _event_key(event: StoredEvent) -> str:
    return f"{event.sender_id}|{event.timestamp!r}"[:255]


def _state(session: Session, key: str) -> Optional[str]:
    row = session.get(IndexState, key)
    return None if row is None else str(row.value)


def _set_state(session: Session, key: str, value: str) -> None:
    row = session.get(IndexState, key)
    if row is None:
        session.add(IndexState(key=key, value=value))
    else:
        row.value = value
