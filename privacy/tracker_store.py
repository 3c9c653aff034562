"""The tracker store Tawjih runs with (endpoints.yml): Rasa's SQL tracker store, made honest.

- A turn is stored whole or not at all. When the database cannot be read or written, or when one
  of the turn's custom actions could not run (the action server down), ``TurnNotSaved`` is raised
  and the channel that carried the message tells the person kindly, in their register, to try
  again (``channels.turns``); the replies of a turn that was not stored are never delivered.
- A conversation is erased when its author confirmed it: the turn that sets ``erasure_confirmed``
  deletes every event of every session under that conversation id, and is not stored itself.

Importing this module adjusts Rasa in two places, both about what is stored: ``Agent`` no longer
wraps this store in ``FailSafeTrackerStore`` (which keeps conversations in memory, silently, when
the database fails), and a custom action that fails is noted, so that its turn is not stored as if
the action had run. Rasa is pinned (3.6.21), and tests/privacy checks both adjustments.
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import time
from dataclasses import dataclass
from typing import Any, Iterable, List, Optional

import sqlalchemy as sa
from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
from rasa.core.agent import Agent
from rasa.core.tracker_store import SQLTrackerStore, TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event, SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker

from privacy.retention import erase_conversation
from scaling import tracker_window

ERASURE_SLOT = "erasure_confirmed"
logger = logging.getLogger(__name__)


class TurnNotSaved(Exception):
    """The turn could not be stored; ``part`` says which part failed: "tracker_store" or "action_server"."""

    def __init__(self, part: str) -> None:
        super().__init__(part)
        self.part = part


_failed_action: "contextvars.ContextVar[Optional[str]]" = contextvars.ContextVar("tawjih_failed_action", default=None)


def new_turn() -> None:
    """Called by a channel before it hands Rasa a message: no failure carried over from a previous one."""
    _failed_action.set(None)


@dataclass
class StoreHealth:
    """What the health route reports: the last read or write and whether it worked."""

    ok: bool = True
    last_failure: Optional[str] = None
    failed_at: Optional[float] = None
    failures: int = 0

    def failed(self, operation: str, error: BaseException) -> None:
        self.ok = False
        self.last_failure = f"{operation}: {type(error).__name__}"
        self.failed_at = time.time()
        self.failures += 1

    def worked(self) -> None:
        self.ok = True


# Rasa's events table indexes sender_id alone. Each turn reads the latest session start of the conversation
# (sender_id, type_name, max timestamp), then its events since (sender_id, timestamp ≥ start), and the purge
# deletes by time: without these, a turn reads every event of the conversation and the purge the whole table.
EVENT_INDEXES = {
    "ix_events_sender_type_timestamp": "sender_id, type_name, timestamp",
    "ix_events_sender_timestamp": "sender_id, timestamp",
    "ix_events_timestamp": "timestamp",
}


def ensure_indexes(engine: sa.engine.Engine) -> None:
    """Add the indexes the tracker store's queries need to Rasa's events table (idempotent, at start)."""
    with engine.begin() as connection:
        for name, columns in EVENT_INDEXES.items():
            connection.exec_driver_sql(f"CREATE INDEX IF NOT EXISTS {name} ON events ({columns})")


_stores: List["PrivateSQLTrackerStore"] = []


def current_store() -> Optional["PrivateSQLTrackerStore"]:
    """The tracker store of this Rasa process (the channels keep sealed addresses in its database)."""
    return _stores[-1] if _stores else None


def erasure_confirmed(tracker: DialogueStateTracker) -> bool:
    """Whether the turn being saved is the person confirming that their conversation be erased."""
    slot = tracker.slots.get(ERASURE_SLOT)
    return slot is not None and slot.value is True


def _sqlite_folder(url: Optional[str]) -> None:
    """`rasa shell` from a fresh checkout: a SQLite file's folder (var/) may not exist yet."""
    if url and url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        folder = os.path.dirname(url[len("sqlite:///") :])
        if folder:
            os.makedirs(folder, exist_ok=True)


class PrivateSQLTrackerStore(SQLTrackerStore):
    """``SQLTrackerStore`` that stores a turn whole or raises, and erases a conversation on request."""

    def __init__(
        self,
        domain: Optional[Domain] = None,
        host: Optional[str] = None,
        window_messages: Any = tracker_window.DEFAULT_KEEP_MESSAGES,
        **kwargs: Any,
    ) -> None:
        # How many of the person's latest messages a read of a long session holds (scaling/tracker_window.py;
        # endpoints.yml ``window_messages``, TAWJIH_TRACKER_WINDOW_MESSAGES); 0 reads every session whole.
        self.window_messages = window_setting(window_messages)
        # Our code in the Rasa process logs at Rasa's level (--log-level / LOG_LEVEL, INFO by default),
        # which Rasa sets on its own logger only: the erasure line is an INFO line.
        for ours in ("privacy", "channels", "language"):
            logging.getLogger(ours).setLevel(logging.getLogger("rasa").getEffectiveLevel())
        _sqlite_folder(host)
        super().__init__(domain=domain, host=host, **kwargs)
        ensure_indexes(self.engine)
        tracker_window.ensure_table(self.engine)
        self.health = StoreHealth()
        _stores.append(self)

    async def _read(self, sender_id: str, all_sessions: bool) -> Optional[DialogueStateTracker]:
        try:
            try:
                tracker = await self._retrieve(sender_id, fetch_events_from_all_sessions=all_sessions)
            except sa.exc.DBAPIError as error:
                if not error.connection_invalidated:
                    raise
                # A pooled connection the database closed while idle: the pool is renewed, try once more.
                tracker = await self._retrieve(sender_id, fetch_events_from_all_sessions=all_sessions)
        except sa.exc.SQLAlchemyError as error:
            self.health.failed("read", error)
            logger.error("The tracker store could not be read (%s).", type(error).__name__)
            raise TurnNotSaved("tracker_store") from None
        return tracker

    async def retrieve(self, sender_id: str) -> Optional[DialogueStateTracker]:
        return await self._read(sender_id, all_sessions=False)

    async def _retrieve(self, sender_id: str, fetch_events_from_all_sessions: bool) -> Optional[DialogueStateTracker]:
        """Rasa's read, through the conversation's window when it has a current one (a long session: the
        prefix, then the events of its latest messages), and noting which stored rows the tracker holds."""
        with self.session_scope() as session:
            window = None
            if not fetch_events_from_all_sessions and self.window_messages:
                window = self._current_window(session, sender_id)
            if window is not None:
                rows = (
                    session.query(self.SQLEvent.id, self.SQLEvent.data)
                    .filter(self.SQLEvent.sender_id == sender_id, self.SQLEvent.id >= window.first_event_id)
                    .order_by(self.SQLEvent.id)
                    .all()
                )
                prefix = window.prefix
            else:
                query = self._event_query(session, sender_id, fetch_events_from_all_sessions)
                rows = query.with_entities(self.SQLEvent.id, self.SQLEvent.data).all()
                prefix = []
            if not self.domain or not rows:
                return None
            events = [*prefix, *(json.loads(row.data) for row in rows)]
            tracker = DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
            if len(tracker.events) == len(events):  # every stored event read back as an event
                tracker_window.mark_read_back(tracker, [None] * len(prefix) + [row.id for row in rows])
            return tracker

    def _session_started_at(self, session: Any, sender_id: str) -> Optional[float]:
        return (
            session.query(sa.func.max(self.SQLEvent.timestamp))
            .filter(self.SQLEvent.sender_id == sender_id, self.SQLEvent.type_name == SessionStarted.type_name)
            .scalar()
        )

    def _current_window(self, session: Any, sender_id: str) -> Optional[tracker_window.Window]:
        """The conversation's window, if it belongs to its latest session."""
        window = tracker_window.load(session.connection(), sender_id)
        if window is None or window.session_started_at != self._session_started_at(session, sender_id):
            return None
        if not self._still_stored(session, sender_id, [window.first_event_id]):
            return None  # its events were erased or purged: read what there is
        return window

    def _event_query(self, session: Any, sender_id: str, fetch_events_from_all_sessions: bool) -> Any:
        """Rasa's query for a conversation's events (those of its latest session), with the session's start
        as a scalar subquery that the database evaluates once. Rasa joins it as a derived table, and
        PostgreSQL, whose statistics lag behind a growing table, ran it once per event: 46 ms for a
        600-event session instead of 1 ms, twice per read, several reads per turn."""
        query = session.query(self.SQLEvent).filter(self.SQLEvent.sender_id == sender_id)
        if not fetch_events_from_all_sessions:
            session_start = (
                session.query(sa.func.max(self.SQLEvent.timestamp))
                .filter(self.SQLEvent.sender_id == sender_id, self.SQLEvent.type_name == SessionStarted.type_name)
                .scalar_subquery()
            )
            query = query.filter(sa.or_(self.SQLEvent.timestamp >= session_start, session_start.is_(None)))
        return query.order_by(self.SQLEvent.id)

    async def retrieve_full_tracker(self, conversation_id: str) -> Optional[DialogueStateTracker]:
        return await self._read(conversation_id, all_sessions=True)

    async def keys(self) -> Iterable[str]:
        try:
            return await super().keys()
        except sa.exc.SQLAlchemyError as error:
            self.health.failed("read", error)
            raise TurnNotSaved("tracker_store") from None

    async def save(self, tracker: DialogueStateTracker) -> None:
        failed_action = _failed_action.get()
        if failed_action is not None:
            _failed_action.set(None)
            # The action's own failure was logged where it happened (Rasa names the action).
            raise TurnNotSaved("action_server")
        try:
            if erasure_confirmed(tracker):
                erased = erase_conversation(self.engine, tracker.sender_id)
                # Neither the conversation id nor any text: just that it happened.
                logger.info("Erased a conversation at its author's confirmed request (%d events).", erased)
                publish_erasure = getattr(self.event_broker, "publish_erasure", None)
                if publish_erasure is not None:
                    # The stream's consumers delete what they hold of it (scaling/event_broker.py).
                    publish_erasure(tracker.sender_id)
            else:
                written = self._write(tracker)
                if written and self.event_broker is not None:
                    # Published once stored, exactly what was stored: the stream never carries a turn, or an
                    # event, the store does not have.
                    await self._stream_new_events(self.event_broker, written, tracker.sender_id)
        except sa.exc.SQLAlchemyError as error:
            self.health.failed("write", error)
            logger.error("The tracker store could not be written (%s): the turn was not kept.", type(error).__name__)
            raise TurnNotSaved("tracker_store") from None
        self.health.worked()

    def _write(self, tracker: DialogueStateTracker) -> List[Event]:
        """Rasa's ``SQLTrackerStore.save`` without the event stream, which ``save`` publishes after; returns
        the events written. A tracker read from this store writes the events it did not hold when read (no
        count of the stored ones), and its conversation's window moves forward in the same transaction when
        the session has grown and what was read is still there (not erased meanwhile)."""
        read = tracker_window.read_back(tracker)
        with self.session_scope() as session:
            if read is not None:
                new_events = list(tracker.events)[read.stored :]
            else:
                new_events = list(self._additional_events(session, tracker))
            rows = []
            for event in new_events:
                data = event.as_dict()
                rows.append(
                    self.SQLEvent(
                        sender_id=tracker.sender_id,
                        type_name=event.type_name,
                        timestamp=data.get("timestamp"),
                        intent_name=data.get("parse_data", {}).get("intent", {}).get("name"),
                        action_name=data.get("name"),
                        data=json.dumps(data),
                    )
                )
            session.add_all(rows)
            session.flush()  # the new rows' ids
            stored_before = read.event_ids if read is not None else [None] * (len(tracker.events) - len(rows))
            event_ids = [*stored_before, *(row.id for row in rows)]
            if (
                read is not None
                and self.window_messages
                and self.domain is not None
                and tracker_window.window_due(list(tracker.events), event_ids, self.window_messages)
            ):
                if self._still_stored(session, tracker.sender_id, read.event_ids):
                    moved = tracker_window.next_window(
                        tracker,
                        event_ids,
                        self.domain.slots,
                        self.window_messages,
                        self._session_started_at(session, tracker.sender_id),
                    )
                    if moved is not None:
                        window, first_event_at = moved
                        tracker_window.store(session.connection(), tracker.sender_id, window, first_event_at)
            session.commit()
        # Stored now: a second save of the same tracker writes only what was added since.
        tracker_window.mark_read_back(tracker, event_ids)
        return new_events

    def _still_stored(self, session: Any, sender_id: str, event_ids: List[Optional[int]]) -> bool:
        """Whether the first stored event a tracker was read with is still in the database: an erasure (the
        console's) between the read and this write leaves it gone, and no window is made from the tracker."""
        first = next((event_id for event_id in event_ids if event_id is not None), None)
        if first is None:
            return False
        found = (
            session.query(self.SQLEvent.id)
            .filter(self.SQLEvent.id == first, self.SQLEvent.sender_id == sender_id)
            .first()
        )
        return found is not None

    def probe(self) -> bool:
        """A live check for the health route: the store answers, and (SQLite) its write lock can be taken."""
        try:
            with self.engine.connect() as connection:
                if self.engine.dialect.name == "sqlite":
                    # Only a short wait: a health check must answer quickly, and a held lock is the finding.
                    connection.exec_driver_sql("PRAGMA busy_timeout = 200")
                    try:
                        connection.exec_driver_sql("BEGIN IMMEDIATE")
                        connection.exec_driver_sql("ROLLBACK")
                    finally:
                        connection.exec_driver_sql("PRAGMA busy_timeout = 5000")
                else:
                    connection.execute(sa.text("SELECT 1"))
        except sa.exc.SQLAlchemyError as error:
            self.health.failed("probe", error)
            return False
        self.health.worked()
        return True


def window_setting(value: Any) -> int:
    """``window_messages`` as a whole number from 0 (0: no window), or a refusal to start naming it."""
    try:
        messages = int(str(value).strip())
    except ValueError:
        messages = -1
    if messages < 0 or (0 < messages < tracker_window.MIN_KEEP_MESSAGES):
        raise ValueError(
            f"tracker_store window_messages (TAWJIH_TRACKER_WINDOW_MESSAGES) must be 0 (off) or a whole number "
            f"from {tracker_window.MIN_KEEP_MESSAGES}, not {value!r}"
        )
    return messages


def _store_as_is(store: Optional[TrackerStore], domain: Domain) -> TrackerStore:
    if isinstance(store, PrivateSQLTrackerStore):
        store.domain = domain
        return store
    return _rasa_create_tracker_store(store, domain)


async def _noting_failure(
    self: RemoteAction, output_channel: Any, nlg: Any, tracker: DialogueStateTracker, domain: Domain
) -> Any:
    try:
        return await _rasa_remote_run(self, output_channel, nlg, tracker, domain)
    except ActionExecutionRejection:
        raise
    except Exception:
        _failed_action.set(self.name())
        raise


class _ProcessorCarriesOnFilter(logging.Filter):
    """Rasa's processor logs a failed action a second time, with a traceback and "Bot will continue":
    the turn does not go on here (it is not stored, the person is told), so that line is dropped."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Encountered an exception while running action")


_rasa_create_tracker_store = Agent._create_tracker_store
_rasa_remote_run = RemoteAction.run
if not getattr(Agent, "_tawjih_adjusted", False):
    Agent._create_tracker_store = staticmethod(_store_as_is)  # type: ignore[method-assign]
    RemoteAction.run = _noting_failure  # type: ignore[method-assign]
    logging.getLogger("rasa.core.processor").addFilter(_ProcessorCarriesOnFilter())
    Agent._tawjih_adjusted = True  # type: ignore[attr-defined]
