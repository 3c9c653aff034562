"""Conversations had with the real Rasa, through the REST channel, as the staff console shows them.

The console reads the very tracker store the running Rasa writes (the e2e stack's SQLite file).
"""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path
from typing import Dict, Iterator, List

import pytest

from tests.console.conftest import ConsoleProcess
from tests.e2e.conftest import Stack

pytestmark = pytest.mark.e2e

PERSONAL = ("06 61 23 45 67", "0661234567", "Karima", "Tazi", "karima.tazi@example.ma", "BE123456")
TURNS: Dict[str, List[str]] = {
    "french": [
        "Bonjour",
        "je m'appelle Karima Tazi, mon numéro 06 61 23 45 67, mon e-mail karima.tazi@example.ma, ma CIN BE123456",
        "quelles formations proposez-vous ?",
    ],
    "darija_latin": ["salam", "chno homa les formations li kaynin?"],
    "darija_arabic": ["السلام عليكم", "شنو هوما التكوينات اللي كاينين؟"],
}


@pytest.fixture(scope="module")
def talked(stack: Stack) -> Dict[str, str]:
    """One person per register, in this order (the last is the newest)."""
    senders = {}
    for register, turns in TURNS.items():
        senders[register] = f"review-{uuid.uuid4().hex[:8]}"
        for text in turns:
            stack.rasa.say(senders[register], text)
    return senders


@pytest.fixture(scope="module")
def console(
    stack: Stack, talked: Dict[str, str], tmp_path_factory: pytest.TempPathFactory, log_dir: Path
) -> Iterator[ConsoleProcess]:
    database = tmp_path_factory.mktemp("console") / "console.db"
    process = ConsoleProcess(f"sqlite:///{database}", f"sqlite:///{stack.tracker_db}", log_dir)
    yield process
    process.stop()


def rows_of(stack: Stack, sender: str) -> int:
    with sqlite3.connect(stack.tracker_db) as db:
        return int(db.execute("SELECT count(*) FROM events WHERE sender_id = ?", (sender,)).fetchone()[0])


def newest(console: ConsoleProcess, **filters: str) -> List[dict]:
    client = console.login("reviewer")
    reply = client.get("/api/v1/conversations", params={"channel": "rest", **filters})
    assert reply.status_code == 200, reply.text[:300]
    return reply.json()["data"]


def test_each_register_finds_its_conversation_with_what_was_understood(console: ConsoleProcess) -> None:
    latest = newest(console)[:3]
    assert [row["register"] for row in latest] == ["darija_arabic", "darija_latin", "french"]
    assert all("ask_programmes" in row["intents"] for row in latest)
    for register in TURNS:
        found = newest(console, register=register)
        assert found and found[0]["session_id"] == next(r["session_id"] for r in latest if r["register"] == register)
        assert {row["register"] for row in found} == {register}


def test_personal_data_said_to_the_bot_never_reaches_a_reviewer(console: ConsoleProcess) -> None:
    french = newest(console, register="french")[0]["session_id"]
    client = console.login("reviewer")
    replies = [
        client.get(f"/api/v1/conversations/{french}"),
        client.page(f"/conversations/{french}"),
        client.page("/conversations?channel=rest"),
        client.get("/api/v1/stats.csv"),
        client.get(f"/api/v1/conversations/{french}/story"),
    ]
    assert [reply.status_code for reply in replies] == [200] * len(replies)
    shown = [reply.text for reply in replies]
    assert "[téléphone]" in shown[0] and "[e-mail]" in shown[0] and "[CIN]" in shown[0] and "[nom]" in shown[0]
    assert "ask_programmes" in shown[0]
    for text in shown:
        for value in PERSONAL:
            assert value not in text


def test_a_supervisor_erases_one_person_and_only_them(
    stack: Stack, talked: Dict[str, str], console: ConsoleProcess
) -> None:
    french = newest(console, register="french")[0]["session_id"]
    others = {register: rows_of(stack, talked[register]) for register in ("darija_latin", "darija_arabic")}
    assert rows_of(stack, talked["french"]) > 0 and all(others.values())
    reviewer = console.login("reviewer")
    assert reviewer.post_json(f"/api/v1/conversations/{french}/erase", {"confirm": True}).status_code == 403
    supervisor = console.login("supervisor")
    assert supervisor.post_json(f"/api/v1/conversations/{french}/erase", {"confirm": True}).status_code == 200
    assert rows_of(stack, talked["french"]) == 0
    assert {register: rows_of(stack, talked[register]) for register in others} == others
