"""The console's eyes on the tracker store for handoffs: a background thread that reads the new events of
conversations with an open request (the person's messages, masked; the person ending it), hands timed-out
requests back to the bot, and drops the requests of people whose conversation was erased.

Everything it learns is in the console's database, its cursor too, so a restart loses nothing. Two guards make
reading twice harmless and missing nothing likely: each handoff remembers the last event it folded in
(``last_event_id``), and a periodic sweep reads each open handoff's conversation after that event (it catches
events that PostgreSQL committed out of id order, and those SQLite wrote under the ids of deleted ones).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Dict, Iterable, List, Optional, Sequence, Set

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from console.handoff import service
from console.handoff.rasa_api import RasaClient, RasaError
from console.handoff.summary import remember_before, what_was_sent
from console.indexer import _set_state, _state
from console.masking import mask
from console.models import OPEN_STATUSES, Handoff, HandoffMessage
from console.tracker import EVENTS, StoredEvent, TrackerReader, TrackerUnavailable

logger = logging.getLogger("console.handoff")

CURSOR = "handoff_watcher_last_event_id"
CURSOR_EVENT = "handoff_watcher_last_event_key"
BATCH = 2000
# A request whose conversation has no event yet (its first turn is being stored) is not taken for erased.
ERASURE_GRACE_SECONDS = 300.0
END_ACTION = "action_end_handoff"
# The person's messages just before a request that are read for distress words.
LOOK_BACK = 3


def event_key(event: StoredEvent) -> str:
    return f"{event.sender_id}|{event.timestamp!r}"[:255]


class HandoffWatcher:
    def __init__(
        self,
        factory: sessionmaker,
        reader: TrackerReader,
        rasa: RasaClient,
        terms: Any,
        wait_minutes: float,
        poll_seconds: float,
        reconcile_seconds: float,
        retention_days: int,
    ) -> None:
        self.factory = factory
        self.reader = reader
        self.rasa = rasa
        self.terms = terms
        self.wait_seconds = wait_minutes * 60
        self.poll_seconds = poll_seconds
        self.reconcile_seconds = reconcile_seconds
        self.retention_days = retention_days
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._last_reconcile = 0.0
        self._problem: Optional[str] = None  # logged once per streak, not every round
        self._telling_failed: Set[int] = set()  # handoffs whose timeout Rasa could not announce yet
        # A reply still "sending" from before this process was made was cut off by a stop (see fail_interrupted).
        self.started_at = time.time()
        self._empty_store_told = False

    # --- the thread ------------------------------------------------------------------------------------------
    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="console-handoff-watcher", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            self.round_logged()
            self._stop.wait(max(0.05, self.poll_seconds - (time.monotonic() - started)))

    def round_logged(self) -> None:
        try:
            self.run_once()
        except TrackerUnavailable as error:
            self._report(f"the tracker store could not be read ({error.kind})")
        except sa.exc.SQLAlchemyError as error:
            self._report(f"the console database failed ({type(error).__name__})")
        except Exception as error:  # noqa: BLE001 - the thread must live on; the kind only (no values)
            self._report(f"unexpected {type(error).__name__}")
        else:
            if self._problem is not None:
                logger.info("Handoff watcher: working again.")
            self._problem = None

    def _report(self, problem: str) -> None:
        if problem != self._problem:
            logger.warning("Handoff watcher: %s; trying again every %.1f s.", problem, self.poll_seconds)
        self._problem = problem

    # --- one round -------------------------------------------------------------------------------------------
    def run_once(self, now: Optional[float] = None) -> None:
        now = time.time() if now is None else now
        with self.factory() as session:
            cursor = _state(session, CURSOR)
            key = _state(session, CURSOR_EVENT)
        if cursor is None:
            # First start: what came before the handoffs existed is none of the watcher's business.
            self._save_cursor(self._max_event_id(), "")
            self.sweep()
        elif not self._cursor_event_still_there(int(cursor), key or ""):
            # Events were deleted at the top of the store (an erasure): their ids may come back.
            self.reconcile(now)
            self._save_cursor(self._max_event_id(), "")
        else:
            self.read_new_events(int(cursor))
        self.time_out_waiting(now)
        if time.monotonic() - self._last_reconcile >= self.reconcile_seconds:
            self.reconcile(now)

    def read_new_events(self, cursor: int, max_seconds: float = 5.0) -> None:
        started = time.monotonic()
        while True:
            events = self.reader.events_after(cursor, BATCH)
            if not events:
                return
            by_sender: Dict[str, List[StoredEvent]] = {}
            for event in events:
                by_sender.setdefault(event.sender_id, []).append(event)
            with self.factory() as session:
                for handoff in self._open_handoffs(session, list(by_sender)):
                    if not handoff.last_event_id:
                        self.begin(session, handoff)
                    self.fold(session, handoff, by_sender[handoff.conversation_id])
                session.commit()
            cursor = events[-1].id
            self._save_cursor(cursor, event_key(events[-1]))
            if len(events) < BATCH or time.monotonic() - started > max_seconds:
                return

    def sweep(self) -> None:
        """Read each open handoff's conversation after the last event it folded in."""
        with self.factory() as session:
            for handoff in self._open_handoffs(session, None):
                if not handoff.last_event_id:
                    self.begin(session, handoff)
                events = self.reader.session_events(handoff.conversation_id, int(handoff.last_event_id) + 1, 2**62)
                self.fold(session, handoff, events)
            session.commit()

    def begin(self, session: Session, handoff: Handoff) -> None:
        """A new request: read on from its conversation's last event before it was made; keep the person's last
        messages before it (masked) for the inbox, and read them for distress words."""
        before = [
            e for e in self.reader.session_events(handoff.conversation_id, 1, 2**62) if e.timestamp < handoff.created_at
        ]
        handoff.last_event_id = max((e.id for e in before), default=0)
        recent = [e for e in before if e.type_name == "user"][-LOOK_BACK:]
        remember_before(handoff, recent)
        for event in recent:
            self._check_distress(session, handoff, event)

    def begin_now(self, session: Session, handoff: Handoff) -> None:
        """``begin`` as the request is made (the inbox then shows it with its last messages at once); when the
        tracker store cannot be read, the watcher does it in a later round."""
        try:
            self.begin(session, handoff)
        except TrackerUnavailable:
            handoff.last_event_id = 0

    def fold(self, session: Session, handoff: Handoff, events: Sequence[StoredEvent]) -> None:
        """What the new events of one conversation change in its open handoff (each event once)."""
        for event in sorted(events, key=lambda e: e.id):
            if event.id <= (handoff.last_event_id or 0):
                continue
            handoff.last_event_id = event.id
            if handoff.status not in OPEN_STATUSES:
                continue
            if event.timestamp < handoff.created_at:
                # The turn in which the person asked: not a message to the adviser, but its words count.
                if event.type_name == "user":
                    remember_before(handoff, [event])
                    self._check_distress(session, handoff, event)
                continue
            if event.type_name == "user":
                self._person_wrote(session, handoff, event)
            elif event.type_name == "action" and event.action_name == END_ACTION:
                service.system_message(session, handoff, "La personne a mis fin à l'échange.", event.timestamp)
                service.close_now(session, handoff, "ended_by_person", "ended_by_person", None, event.timestamp)
            elif event.type_name == "bot":
                self._bot_said(session, handoff, event)

    def _person_wrote(self, session: Session, handoff: Handoff, event: StoredEvent) -> None:
        raw = event.data.get("text")
        raw = raw if isinstance(raw, str) else ""
        kind, note = what_was_sent(raw)
        service.message_in(session, handoff, event.id, event.timestamp, kind, note if note else mask(raw))
        self._check_distress(session, handoff, event)

    def _check_distress(self, session: Session, handoff: Handoff, event: StoredEvent) -> None:
        """The raw text is read for the safeguarding words only, and kept nowhere."""
        raw = event.data.get("text")
        if not isinstance(raw, str) or not raw or what_was_sent(raw)[1] is not None:
            return
        categories = self.terms.matches(raw)
        if categories:
            service.make_urgent(session, handoff, categories)

    def _bot_said(self, session: Session, handoff: Handoff, event: StoredEvent) -> None:
        metadata = event.data.get("metadata") or {}
        adviser_id = metadata.get("adviser_id") if isinstance(metadata, dict) else None
        if adviser_id is not None:
            # The adviser's reply, recorded by Rasa: link it to the console's row. A reply cut off by a stop of
            # the console ("interrupted") that Rasa did record went out after all.
            row = session.execute(
                sa.select(HandoffMessage)
                .where(
                    HandoffMessage.handoff_id == handoff.id,
                    HandoffMessage.direction == "out",
                    HandoffMessage.author_id == adviser_id,
                    HandoffMessage.event_id.is_(None),
                    sa.or_(
                        HandoffMessage.state == "sent",
                        sa.and_(HandoffMessage.state == "failed", HandoffMessage.reason == "interrupted"),
                    ),
                )
                .order_by(HandoffMessage.id)
                .limit(1)
            ).scalar_one_or_none()
            if row is not None:
                row.event_id, row.state, row.reason = event.id, "sent", None
            return
        text = event.data.get("text")
        if isinstance(text, str) and text:
            # What Tawjih itself said meanwhile (its notices, its answers while the person waits), for context.
            session.add(
                HandoffMessage(
                    handoff_id=handoff.id,
                    at=event.timestamp,
                    direction="out",
                    kind="text",
                    text=mask(text),
                    event_id=event.id,
                    state="sent",
                )
            )

    def time_out_waiting(self, now: float) -> None:
        """Requests taken by no adviser within the wait: Rasa tells the person and the bot answers again; when
        Rasa fails, the next round tries again."""
        with self.factory() as session:
            due = session.execute(
                sa.select(Handoff.id, Handoff.conversation_id, Handoff.channel).where(
                    Handoff.status == "queued",
                    Handoff.bot_active.is_(False),
                    Handoff.claimed_at.is_(None),
                    Handoff.timed_out_at.is_(None),
                    Handoff.created_at < now - self.wait_seconds,
                )
            ).all()
        for handoff_id, conversation_id, channel in due:
            try:
                # A closed tab or a number that cannot be reached: the bot answers again all the same.
                self.rasa.notify(conversation_id, "action_handoff_timeout", channel)
            except RasaError as error:
                if handoff_id not in self._telling_failed:
                    logger.warning(
                        "Handoff %d waited too long, but Rasa could not tell the person (%s); trying again.",
                        handoff_id,
                        error.reason,
                    )
                self._telling_failed.add(handoff_id)
                continue
            self._telling_failed.discard(handoff_id)
            with self.factory() as session:
                service.timed_out(session, handoff_id, time.time())

    def reconcile(self, now: float) -> None:
        """Sweep the open handoffs, then drop those whose conversation left the tracker store."""
        self._last_reconcile = time.monotonic()
        self.sweep()
        first_ids = self.reader.first_event_ids()
        cutoff = now - self.retention_days * 86400
        erased = 0
        with self.factory() as session:
            if (
                not first_ids
                and session.execute(sa.select(Handoff.id).where(Handoff.last_event_id > 0).limit(1)).first()
            ):
                # Conversations were read, and now there is none at all: more likely a tracker store emptied or
                # swapped by mistake than everyone erasing at once: nothing is dropped, and the log says why.
                if not self._empty_store_told:
                    logger.warning(
                        "Handoff watcher: the tracker store holds no conversation at all; no handoff is dropped."
                    )
                self._empty_store_told = True
                return
        self._empty_store_told = False
        with self.factory() as session:
            for handoff in session.execute(sa.select(Handoff)).scalars().all():
                first = first_ids.get(handoff.conversation_id)
                seen = bool(handoff.last_event_id)
                if first is None:
                    gone = seen or handoff.created_at < now - ERASURE_GRACE_SECONDS
                else:
                    gone = seen and first > handoff.last_event_id
                if gone:
                    last_activity = max(handoff.created_at, handoff.closed_at or 0, handoff.last_inbound_at or 0)
                    service.erase(session, handoff, "purged" if last_activity < cutoff else "erased")
                    erased += 1
            session.commit()
        if erased:
            logger.info("Handoffs: %d dropped, their conversation having left the tracker store.", erased)

    def fail_interrupted_sends(self) -> None:
        """Replies left ``sending`` by a console that stopped mid-call: shown as failed, never as sent (if Rasa
        did record one, the watcher marks it sent when it reads it). Called at start-up, before any request."""
        with self.factory() as session:
            session.execute(
                sa.update(HandoffMessage)
                .where(HandoffMessage.state == "sending", HandoffMessage.at < self.started_at)
                .values(state="failed", reason="interrupted")
                .execution_options(synchronize_session=False)
            )
            session.commit()

    # --- helpers ---------------------------------------------------------------------------------------------
    def _open_handoffs(self, session: Session, conversation_ids: Optional[Iterable[str]]) -> List[Handoff]:
        query = sa.select(Handoff).where(Handoff.status.in_(OPEN_STATUSES))
        if conversation_ids is None:
            return list(session.execute(query).scalars())
        ids = list(conversation_ids)
        found: List[Handoff] = []
        for start in range(0, len(ids), 500):
            found += session.execute(query.where(Handoff.conversation_id.in_(ids[start : start + 500]))).scalars()
        return found

    def _cursor_event_still_there(self, cursor: int, key: str) -> bool:
        if not cursor or not key:
            return True
        found = self.reader.event(cursor)
        return found is not None and event_key(found) == key

    def _max_event_id(self) -> int:
        try:
            with self.reader.engine.connect() as connection:
                if not sa.inspect(connection).has_table("events"):
                    return 0
                return int(connection.execute(sa.select(sa.func.max(EVENTS.c.id))).scalar() or 0)
        except sa.exc.SQLAlchemyError as error:
            raise TrackerUnavailable(type(error).__name__) from None

    def _save_cursor(self, cursor: int, key: str) -> None:
        with self.factory() as session:
            _set_state(session, CURSOR, str(cursor))
            _set_state(session, CURSOR_EVENT, key)
            session.commit()
