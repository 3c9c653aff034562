"""The welcome promises two things: conversations are kept TAWJIH_RETENTION_DAYS days, and
"supprime mes données" erases them. Checked on Rasa's SQL tracker store, on SQLite and (in CI)
on PostgreSQL, the production database."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import List, Optional

import pytest
import sqlalchemy as sa
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from privacy.retention import purge_expired
from privacy.settings import PrivacySettings
from privacy.tracker_store import ERASURE_SLOT, PrivateSQLTrackerStore, TurnNotSaved
from tests.privacy.conftest import DOMAIN

ROOT = Path(__file__).resolve().parents[2]
DAY = 86400.0


def session(started: float, text: str, intent: str = "ask_programmes") -> List[Event]:
    return [
        ActionExecuted("action_session_start", timestamp=started),
        SessionStarted(timestamp=started + 0.1),
        ActionExecuted("action_listen", timestamp=started + 0.2),
        UserUttered(text, {"name": intent, "confidence": 0.99}, timestamp=started + 1),
        BotUttered("réponse", timestamp=started + 2),
        ActionExecuted("action_listen", timestamp=started + 3),
    ]


def save(store: PrivateSQLTrackerStore, sender: str, events: List[Event]) -> None:
    asyncio.run(store.save(DialogueStateTracker.from_events(sender, events, slots=DOMAIN.slots)))


def texts(store: PrivateSQLTrackerStore, sender: str) -> Optional[List[str]]:
    tracker = asyncio.run(store.retrieve_full_tracker(sender))
    return None if tracker is None else [e.text for e in tracker.events if isinstance(e, UserUttered)]


def new_sender() -> str:
    return f"privacy-{uuid.uuid4().hex[:10]}"


def test_what_is_older_than_the_retention_period_is_deleted_and_nothing_else(store: PrivateSQLTrackerStore) -> None:
    now = time.time()
    old, mixed, recent = new_sender(), new_sender(), new_sender()
    save(store, old, session(now - 100 * DAY, "quelles formations ?"))
    save(store, mixed, session(now - 95 * DAY, "wach kayn takwin?") + session(now - 3 * DAY, "fin kayn lmarkaz?"))
    save(store, recent, session(now - 89 * DAY, "شحال كيكلف؟"))

    removed = purge_expired(store.engine, days=90, now=now)

    assert removed == 2 * len(session(0, ""))
    assert texts(store, old) is None
    assert texts(store, mixed) == ["fin kayn lmarkaz?"]
    assert texts(store, recent) == ["شحال كيكلف؟"]
    # The live session of the mixed conversation is intact: Rasa reads it back and goes on.
    tracker = asyncio.run(store.retrieve(mixed))
    assert tracker is not None and tracker.latest_message and tracker.latest_message.text == "fin kayn lmarkaz?"


def test_asking_for_erasure_deletes_every_session_of_that_conversation_and_no_other(
    store: PrivateSQLTrackerStore,
) -> None:
    now = time.time()
    leaving, staying = new_sender(), new_sender()
    earlier = session(now - 10 * DAY, "3ndi 17 3am w ana f casa")
    save(store, leaving, earlier)
    save(store, staying, session(now - 10 * DAY, "salam"))
    assert texts(store, leaving) == ["3ndi 17 3am w ana f casa"]

    asked = earlier + session(now, "mse7 les données dyali", intent="request_data_deletion")
    save(store, leaving, asked)
    # Asking is not confirming: nothing goes until the person says yes.
    assert texts(store, leaving) == ["3ndi 17 3am w ana f casa", "mse7 les données dyali"]

    save(
        store, leaving, [*asked, UserUttered("/confirm_data_deletion", timestamp=now + 5), SlotSet(ERASURE_SLOT, True)]
    )

    assert texts(store, leaving) is None
    assert texts(store, staying) == ["salam"]


def test_a_store_that_cannot_be_written_says_so_and_keeps_nothing_in_memory(tmp_path: Path) -> None:
    from rasa.core.agent import Agent

    path = tmp_path / "tracker.db"
    store = PrivateSQLTrackerStore(domain=DOMAIN, host=f"sqlite:///{path}")
    # Rasa's agent no longer puts its in-memory fallback around this store.
    assert Agent._create_tracker_store(store, DOMAIN) is store
    sender = new_sender()
    save(store, sender, session(time.time(), "salam"))
    locker = sqlite3.connect(path, isolation_level=None)
    locker.execute("BEGIN IMMEDIATE")
    try:
        store.engine.dispose()
        with pytest.raises(TurnNotSaved) as raised:
            save(store, sender, session(time.time() - 100, "salam") + session(time.time(), "wach kayn takwin?"))
        assert raised.value.part == "tracker_store"
        with pytest.raises(TurnNotSaved):
            save(store, sender, [*session(time.time(), "x"), SlotSet(ERASURE_SLOT, True)])
        assert not store.health.ok and not store.probe()
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    assert texts(store, sender) == ["salam"]
    assert store.probe() and store.health.ok


def test_a_turn_whose_custom_action_failed_is_not_stored(store: PrivateSQLTrackerStore) -> None:
    import privacy.tracker_store as module

    sender = new_sender()

    async def failed_turn() -> None:
        module.new_turn()
        module._failed_action.set("action_welcome")
        await store.save(DialogueStateTracker.from_events(sender, session(time.time(), "salam"), slots=DOMAIN.slots))

    with pytest.raises(TurnNotSaved) as raised:
        asyncio.run(failed_turn())
    assert raised.value.part == "action_server"
    assert texts(store, sender) is None


def test_a_question_that_is_not_an_erasure_request_is_stored_as_usual(store: PrivateSQLTrackerStore) -> None:
    sender = new_sender()
    save(store, sender, session(time.time(), "c'est quoi vos données sur les salaires ?", intent="ask_careers"))
    assert texts(store, sender) == ["c'est quoi vos données sur les salaires ?"]


def test_purging_a_tracker_store_no_conversation_has_reached_yet_deletes_nothing(tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    assert purge_expired(engine, days=90) == 0


def purge_command(env: dict) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in ("TRACKER_STORE_URL", "TAWJIH_RETENTION_DAYS")}
    return subprocess.run(
        [sys.executable, "-m", "privacy", "purge"],
        cwd=ROOT,
        env={**environment, "SQLALCHEMY_SILENCE_UBER_WARNING": "1", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_purge_command_uses_the_tracker_store_and_retention_of_the_environment(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    store = PrivateSQLTrackerStore(domain=DOMAIN, host=url)
    now = time.time()
    old, recent = new_sender(), new_sender()
    save(store, old, session(now - 40 * DAY, "bonjour"))
    save(store, recent, session(now - 20 * DAY, "salam"))

    finished = purge_command({"TRACKER_STORE_URL": url, "TAWJIH_RETENTION_DAYS": "30"})

    assert finished.returncode == 0, finished.stderr
    assert f"Retention 30 days: deleted {len(session(0, ''))} conversation events" in finished.stderr
    assert texts(store, old) is None and texts(store, recent) == ["salam"]


def test_the_purge_command_refuses_to_run_without_a_tracker_store_or_with_a_retention_under_a_day(
    tmp_path: Path,
) -> None:
    missing = purge_command({})
    assert missing.returncode == 2 and "TRACKER_STORE_URL is not set" in missing.stderr
    zero = purge_command({"TRACKER_STORE_URL": f"sqlite:///{tmp_path / 't.db'}", "TAWJIH_RETENTION_DAYS": "0"})
    assert zero.returncode == 2 and "TAWJIH_RETENTION_DAYS must be a whole number of days, at least 1" in zero.stderr


def test_an_unreachable_database_fails_the_purge_without_showing_its_password() -> None:
    finished = purge_command({"TRACKER_STORE_URL": "postgresql://tawjih:s3cret-pass@127.0.0.1:1/tracker"})
    assert finished.returncode == 1
    assert "Could not purge the tracker store or the console (OperationalError)" in finished.stderr
    assert "s3cret-pass" not in finished.stdout + finished.stderr


def test_the_welcome_and_the_purge_read_one_retention_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    from actions.config import ActionServerSettings

    monkeypatch.setenv("TAWJIH_RETENTION_DAYS", "45")
    monkeypatch.setenv("TRACKER_STORE_URL", "sqlite:///x.db")
    assert ActionServerSettings().retention_days == PrivacySettings().retention_days == 45


def test_purging_before_the_first_conversation_of_a_new_install_deletes_nothing(tmp_path: Path) -> None:
    finished = purge_command({"TRACKER_STORE_URL": f"sqlite:///{tmp_path / 'var' / 'tracker.db'}"})
    assert finished.returncode == 0, finished.stderr
    assert "Retention 90 days: deleted 0 conversation events" in finished.stderr
    assert not (tmp_path / "var").exists()


def test_the_store_adds_the_indexes_a_turn_and_the_purge_need_once(tracker_store_url: str) -> None:
    from privacy.tracker_store import EVENT_INDEXES

    for _ in range(2):  # a second start (another instance, a restart) finds them there and changes nothing
        opened = PrivateSQLTrackerStore(domain=DOMAIN, host=tracker_store_url)
        indexes = {index["name"] for index in sa.inspect(opened.engine).get_indexes("events")}
        opened.engine.dispose()
        assert set(EVENT_INDEXES) <= indexes
