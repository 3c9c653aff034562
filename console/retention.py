"""The console's side of the retention purge: ``python -m privacy purge`` deletes old events from the tracker
store; this drops the console's index entries, reviews, tags, notes and annotations of those sessions."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Optional

import sqlalchemy as sa

from console.db import create_engine
from console.indexer import drop_sessions
from console.models import ConversationSession


def purge_expired_sessions(engine: sa.engine.Engine, days: int, now: Optional[float] = None) -> int:
    """Drop every session whose last activity is older than ``days`` days; returns how many went. A console
    database not made yet (no table) holds nothing to purge."""
    cutoff = (time.time() if now is None else now) - days * 86400
    if not sa.inspect(engine).has_table(ConversationSession.__tablename__):
        return 0
    with sa.orm.Session(engine, future=True) as session:
        ids = set(
            session.execute(
                sa.select(ConversationSession.id).where(ConversationSession.last_activity_at < cutoff)
            ).scalars()
        )
        drop_sessions(session, ids)
        session.commit()
    return len(ids)


def purge_console(database_url: str, days: int, now: Optional[float] = None) -> int:
    """What ``python -m privacy purge`` calls after purging the tracker store (CONSOLE_DATABASE_URL). A SQLite
    file that does not exist yet is left uncreated: there is nothing in it to purge."""
    url = sa.engine.make_url(database_url)
    if (
        url.get_backend_name() == "sqlite"
        and url.database not in (None, "", ":memory:")
        and not Path(url.database).exists()
    ):
        return 0
    engine = create_engine(database_url)
    try:
        return purge_expired_sessions(engine, days, now)
    finally:
        engine.dispose()
