"""The retention purge reaches the console: `python -m privacy purge` deletes old events from the tracker
store, and `console.retention.purge_console` (which privacy calls) drops those sessions' index entries,
reviews, tags, notes and annotations; sessions inside the retention period stay."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from typing import Dict

import sqlalchemy as sa

from console.db import create_engine, migrate, session_factory
from console.indexer import Indexer
from console.models import Annotation, ConversationSession, Review, SessionTag
from console.retention import purge_console
from console.review import update_review
from console.tracker import TrackerReader, tracker_engine
from privacy.retention import purge_expired
from tests.console.conftest import DAY, save_conversations, session_start, turn
from tests.support.processes import ROOT, VENV_BIN


def _counts(database_url: str) -> Dict[str, int]:
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            return {
                model.__tablename__: connection.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()
                for model in (ConversationSession, Review, SessionTag, Annotation)
            }
    finally:
        engine.dispose()


def _seed(tmp_path: Path) -> tuple:
    tracker_url = f"sqlite:///{tmp_path / 'tracker.db'}"
    database_url = f"sqlite:///{tmp_path / 'console.db'}"
    now = time.time()
    senders = save_conversations(
        tracker_url,
        {
            "old": session_start(now - 100 * DAY)
            + turn("bonjour", "greet", now - 100 * DAY + 1, "rest", "french", "action_welcome", "Bonjour"),
            "recent": session_start(now - 10 * DAY)
            + turn("salam", "greet", now - 10 * DAY + 1, "rest", "darija_latin", "action_welcome", "Salam"),
        },
        "retention",
    )
    env = {**os.environ, "CONSOLE_DATABASE_URL": database_url, "TRACKER_STORE_URL": tracker_url}
    done = subprocess.run(
        [str(VENV_BIN / "python"), "-m", "console", "reindex"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    engine = create_engine(database_url)
    with session_factory(engine)() as session:
        for row in session.execute(sa.select(ConversationSession)).scalars():
            update_review(session, row.id, "reviewer", "needs_work", ["a-revoir"], "note")
            session.add(
                Annotation(
                    session_id=row.id, event_id=row.id + 3, text="x", intent="greet", entities=[], created_by="r"
                )
            )
        session.commit()
    engine.dispose()
    return tracker_url, database_url, senders


def test_the_purge_drops_what_the_console_kept_about_purged_sessions(tmp_path: Path) -> None:
    tracker_url, database_url, _senders = _seed(tmp_path)
    assert _counts(database_url) == {"conversation_sessions": 2, "reviews": 2, "session_tags": 2, "annotations": 2}
    tracker = sa.create_engine(tracker_url)
    assert purge_expired(tracker, days=90) > 0
    tracker.dispose()
    assert purge_console(database_url, days=90) == 1
    assert _counts(database_url) == {"conversation_sessions": 1, "reviews": 1, "session_tags": 1, "annotations": 1}
    assert purge_console(database_url, days=90) == 0


def test_the_index_drops_purged_sessions_even_before_the_purge_reaches_it(tmp_path: Path) -> None:
    tracker_url, database_url, senders = _seed(tmp_path)
    tracker = sa.create_engine(tracker_url)
    purge_expired(tracker, days=90)
    tracker.dispose()
    engine = create_engine(database_url)
    migrate(engine)
    indexer = Indexer(session_factory(engine), TrackerReader(tracker_engine(tracker_url, 3)), 90, 0)
    assert indexer.reconcile() == {"purged": 1, "erased": 0}
    with session_factory(engine)() as session:
        assert [r.sender_id for r in session.execute(sa.select(ConversationSession)).scalars()] == [senders["recent"]]
    engine.dispose()
    assert _counts(database_url)["annotations"] == 1


def test_a_console_database_not_made_yet_holds_nothing_to_purge(tmp_path: Path) -> None:
    assert purge_console(f"sqlite:///{tmp_path / 'none.db'}", days=90) == 0
    assert not (tmp_path / "none.db").exists()


def test_the_purge_command_purges_the_console_too(tmp_path: Path) -> None:
    tracker_url, database_url, _senders = _seed(tmp_path)
    env = {**os.environ, "CONSOLE_DATABASE_URL": database_url, "TRACKER_STORE_URL": tracker_url}
    done = subprocess.run(
        [str(VENV_BIN / "python"), "-m", "privacy", "purge"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    assert "dropped 1 sessions from the staff console" in done.stderr
    assert _counts(database_url) == {"conversation_sessions": 1, "reviews": 1, "session_tags": 1, "annotations": 1}
