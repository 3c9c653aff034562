"""Reading Rasa's tracker store: the ``events`` table, by event id, read-only.

Every failure becomes ``TrackerUnavailable``, which names only the kind of error: the message of a
database error can carry the connection string, password included, and must reach neither a page nor a log.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

from privacy.events_table import EVENTS


class TrackerUnavailable(Exception):
    """The tracker store could not be read; ``kind`` is the exception's class name, safe to show and log."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


@dataclass(frozen=True)
class StoredEvent:
    id: int
    sender_id: str
    type_name: str
    timestamp: float
    intent_name: Optional[str]
    action_name: Optional[str]
    data: Dict[str, Any]


def tracker_engine(url: str, timeout_seconds: float) -> Engine:
    """An engine that gives up quickly: a slow or stopped database must not hold a page for long."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return sa.create_engine(url, connect_args={"timeout": timeout_seconds, "check_same_thread": False})
    connect_args: Dict[str, Any] = {}
    if parsed.get_backend_name() == "postgresql":
        millis = int(timeout_seconds * 1000)
        options = str(parsed.query.get("options") or "")
        # connect_args replaces the URL's own `options` (the tests' search_path): keep both.
        connect_args = {
            "connect_timeout": max(1, int(timeout_seconds)),
            "options": f"{options} -c statement_timeout={millis}".strip(),
        }
    return sa.create_engine(url, pool_pre_ping=True, connect_args=connect_args)


def _decode(row: Any) -> StoredEvent:
    try:
        data = json.loads(row.data) if row.data else {}
    except ValueError:
        data = {}
    return StoredEvent(
        id=int(row.id),
        sender_id=row.sender_id,
        type_name=row.type_name,
        timestamp=float(row.timestamp or 0.0),
        intent_name=row.intent_name,
        action_name=row.action_name,
        data=data if isinstance(data, dict) else {},
    )


class TrackerReader:
    """The queries the console runs on the tracker store."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._table_seen = False

    def _rows(self, query: Any) -> Sequence[Any]:
        try:
            with self.engine.connect() as connection:
                if not self._table_seen:
                    if not sa.inspect(connection).has_table("events"):
                        return []  # Rasa creates the table with the first conversation
                    self._table_seen = True
                return connection.execute(query).fetchall()
        except sa.exc.SQLAlchemyError as error:
            raise TrackerUnavailable(type(error).__name__) from None

    def ping(self) -> None:
        self._rows(sa.select(sa.literal(1)))

    def event(self, event_id: int) -> Optional[StoredEvent]:
        rows = self._rows(sa.select(EVENTS).where(EVENTS.c.id == event_id))
        return _decode(rows[0]) if rows else None

    def events_after(self, last_id: int, limit: int) -> List[StoredEvent]:
        query = sa.select(EVENTS).where(EVENTS.c.id > last_id).order_by(EVENTS.c.id).limit(limit)
        return [_decode(row) for row in self._rows(query)]

    def session_events(
        self, sender_id: str, first_id: int, last_id: int, offset: int = 0, limit: Optional[int] = None
    ) -> List[StoredEvent]:
        query = (
            sa.select(EVENTS)
            .where(EVENTS.c.sender_id == sender_id, EVENTS.c.id >= first_id, EVENTS.c.id <= last_id)
            .order_by(EVENTS.c.id)
            .offset(offset)
        )
        if limit is not None:
            query = query.limit(limit)
        return [_decode(row) for row in self._rows(query)]

    def count_session_events(self, sender_id: str, first_id: int, last_id: int) -> int:
        query = sa.select(sa.func.count()).where(
            EVENTS.c.sender_id == sender_id, EVENTS.c.id >= first_id, EVENTS.c.id <= last_id
        )
        rows = self._rows(query)
        return int(rows[0][0]) if rows else 0

    def first_event_ids(self) -> Dict[str, int]:
        """Each conversation still in the store, with the id of its oldest event left."""
        query = sa.select(EVENTS.c.sender_id, sa.func.min(EVENTS.c.id)).group_by(EVENTS.c.sender_id)
        return {row[0]: int(row[1]) for row in self._rows(query)}

    def slot_events(self, sender_id: str, first_id: int, last_id: int) -> List[StoredEvent]:
        query = (
            sa.select(EVENTS)
            .where(
                EVENTS.c.sender_id == sender_id,
                EVENTS.c.id >= first_id,
                EVENTS.c.id <= last_id,
                EVENTS.c.type_name == "slot",
            )
            .order_by(EVENTS.c.id)
        )
        return [_decode(row) for row in self._rows(query)]

    def sender_events(self, sender_id: str) -> List[StoredEvent]:
        query = sa.select(EVENTS).where(EVENTS.c.sender_id == sender_id).order_by(EVENTS.c.id)
        return [_decode(row) for row in self._rows(query)]

    def fallback_texts(self, start: float, end: float, limit: int = 5000) -> List[Tuple[str, float]]:
        """What people wrote that the NLU could not read (intent ``nlu_fallback``), in a time range."""
        query = (
            sa.select(EVENTS.c.data, EVENTS.c.timestamp)
            .where(
                EVENTS.c.type_name == "user",
                EVENTS.c.intent_name == "nlu_fallback",
                EVENTS.c.timestamp >= start,
                EVENTS.c.timestamp < end,
            )
            .order_by(EVENTS.c.id.desc())
            .limit(limit)
        )
        found = []
        for row in self._rows(query):
            try:
                text = json.loads(row.data).get("text") or ""
            except (ValueError, AttributeError):
                continue
            found.append((str(text), float(row.timestamp or 0)))
        return found


def iter_chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
