"""When a part Tawjih needs fails mid-conversation, the person is told kindly and nothing is pretended.

Each test breaks a real part under a real Rasa: the tracker database locked against writes (as a
read-only file or a full disk would), PostgreSQL cut off behind a relay, the action server killed.
"""

from __future__ import annotations

import sqlite3
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import psycopg2
import pytest

from channels.turns import TECHNICAL_PROBLEM
from tests.conftest import POSTGRES_URL
from tests.e2e.conftest import MODEL
from tests.e2e.test_rest_conversation import response_variation, texts, welcome
from tests.support.processes import ActionServerProcess, RasaProcess, RegistryProcess
from tests.support.tcp_proxy import TcpProxy

pytestmark = pytest.mark.e2e


def new_sender() -> str:
    return f"fragile-{uuid.uuid4().hex[:8]}"


def eventually(condition: Callable[[], bool], timeout: float = 60) -> None:
    """Poll a condition the system reaches by itself (a health route turning green)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError("condition not reached before the deadline")


@dataclass
class Fragile:
    registry: RegistryProcess
    actions: ActionServerProcess
    rasa: RasaProcess
    tracker_db: Path
    log_dir: Path

    def events_of(self, sender: str) -> int:
        with sqlite3.connect(self.tracker_db) as db:
            return db.execute("SELECT count(*) FROM events WHERE sender_id = ?", (sender,)).fetchone()[0]


@pytest.fixture(scope="module")
def fragile(
    tmp_path_factory: pytest.TempPathFactory, log_dir: Path, sqlite_registry: RegistryProcess
) -> Iterator[Fragile]:
    """A Rasa and an action server of their own, for tests that break them."""
    work = tmp_path_factory.mktemp("fragile")
    actions = ActionServerProcess(sqlite_registry.url, log_dir)
    tracker_db = work / "tracker.db"
    rasa = RasaProcess(MODEL, actions.url, f"sqlite:///{tracker_db}", log_dir)
    stack = Fragile(sqlite_registry, actions, rasa, tracker_db, log_dir)
    yield stack
    rasa.stop()
    stack.actions.stop()


class WriteLock:
    """Another connection holding SQLite's write lock: reads still work, every write fails."""

    def __init__(self, path: Path) -> None:
        self.connection = sqlite3.connect(path, isolation_level=None)

    def __enter__(self) -> "WriteLock":
        self.connection.execute("BEGIN IMMEDIATE")
        return self

    def __exit__(self, *exc: object) -> None:
        self.connection.execute("ROLLBACK")
        self.connection.close()


def test_an_unwritable_tracker_store_is_said_and_nothing_is_kept_in_memory(fragile: Fragile) -> None:
    person = new_sender()
    assert texts(fragile.rasa.say(person, "salam")) == welcome("darija_latin")
    stored = fragile.events_of(person)
    with WriteLock(fragile.tracker_db):
        reply = fragile.rasa.post(person, "3afak chno homa les formations li kaynin?")
        assert reply.status_code == 503
        assert texts(reply.json()) == TECHNICAL_PROBLEM["darija_latin"]
        health = fragile.rasa.health()
        assert health.status_code == 503 and health.json()["tracker_store"]["status"] == "failing"
        # Not remembered behind anyone's back: the next turn does not find the failed one either.
        assert texts(fragile.rasa.post(person, "salam").json()) == TECHNICAL_PROBLEM["darija_latin"]
    assert fragile.events_of(person) == stored
    eventually(lambda: fragile.rasa.health().status_code == 200)
    # The conversation goes on where it was stored: no second welcome.
    assert texts(fragile.rasa.say(person, "salam")) == response_variation("utter_greet", "darija_latin")["text"]
    log = fragile.rasa.log_text()
    assert "3afak chno homa" not in log and person not in log


def test_an_erasure_that_cannot_be_done_is_not_said_to_be_done(fragile: Fragile) -> None:
    person = new_sender()
    fragile.rasa.say(person, "bonjour, j'ai 19 ans")
    asked = fragile.rasa.say(person, "supprime mes données")
    confirm = [b["payload"] for b in asked[-1].get("buttons", []) if "confirm_data_deletion" in b["payload"]]
    assert confirm, "the erasure is confirmed with a button"
    stored = fragile.events_of(person)
    with WriteLock(fragile.tracker_db):
        reply = fragile.rasa.post(person, confirm[0])
        assert reply.status_code == 503
        assert texts(reply.json()) == TECHNICAL_PROBLEM["french"]
    assert fragile.events_of(person) == stored > 0
    erased = fragile.rasa.say(person, confirm[0])
    assert texts(erased) == response_variation("utter_data_erased", "french")["text"]
    assert fragile.events_of(person) == 0


def test_a_killed_action_server_is_said_and_the_welcome_waits_for_it(fragile: Fragile) -> None:
    person = new_sender()
    port = fragile.actions.port
    fragile.actions.stop()
    try:
        reply = fragile.rasa.post(person, "السلام عليكم")
        assert reply.status_code == 503
        assert texts(reply.json()) == TECHNICAL_PROBLEM["darija_arabic"]
        assert fragile.rasa.health().json()["action_server"]["status"] == "failing"
        assert fragile.events_of(person) == 0  # the welcome is not recorded as shown
    finally:
        fragile.actions = ActionServerProcess(fragile.registry.url, fragile.log_dir, port=port)
    eventually(lambda: fragile.rasa.health().status_code == 200)
    assert texts(fragile.rasa.say(person, "السلام عليكم")) == welcome("darija_arabic")


@pytest.mark.postgres
def test_postgresql_cut_off_is_said_and_service_comes_back_by_itself(
    tmp_path_factory: pytest.TempPathFactory,
    log_dir: Path,
    sqlite_registry: RegistryProcess,
    fragile: Fragile,
    postgres_schema_url: str,
) -> None:
    assert POSTGRES_URL
    params = psycopg2.extensions.parse_dsn(POSTGRES_URL)
    relay = TcpProxy((params.get("host", "127.0.0.1"), int(params.get("port", 5432)))).start()
    relayed = postgres_schema_url.replace(f":{params.get('port', 5432)}/", f":{relay.port}/", 1)
    rasa = RasaProcess(MODEL, fragile.actions.url, relayed, log_dir)
    try:
        person = new_sender()
        assert texts(rasa.say(person, "bonjour")) == welcome("french")
        relay.stop()
        reply = rasa.post(person, "quelles formations proposez-vous ?")
        assert reply.status_code == 503
        assert texts(reply.json()) == TECHNICAL_PROBLEM["french"]
        health = rasa.health().json()
        assert health["tracker_store"]["status"] == "failing", health
        relay.start()
        eventually(lambda: rasa.health().status_code == 200)
        replies = rasa.say(person, "quelles formations proposez-vous ?")
        assert "JobInTech" in texts(replies)
        with psycopg2.connect(postgres_schema_url.split("?")[0]) as db, db.cursor() as cursor:
            schema = postgres_schema_url.split("search_path%3D")[1]
            query = f'SELECT type_name FROM "{schema}".events WHERE sender_id = %s ORDER BY id'  # noqa: S608 - our schema
            cursor.execute(query, (person,))
            kinds = [row[0] for row in cursor.fetchall()]
        # Two turns stored (the one during the cut is not), each once.
        assert kinds.count("user") == 2
        assert "password" not in rasa.log_text().lower()
    finally:
        rasa.stop()
        relay.stop()
