"""A long conversation is read back as its latest messages (scaling/tracker_window.py), and the person cannot
tell: every reply of 75 messages is the one a Rasa that reads the whole session gives, the state at the end
is the same, nothing is lost from the database, and an erasure takes the window's slot values with it."""

from __future__ import annotations

import json
import sqlite3
import uuid
from pathlib import Path
from typing import Iterator, List, Optional

import pytest
import requests

from tests.e2e.conftest import MODEL, Stack
from tests.e2e.test_rest_conversation import response_variation, texts
from tests.support.processes import RasaProcess

pytestmark = pytest.mark.e2e

# The eligibility form left open for a dozen other questions and then answered (its state must cross the
# window's start), "et à Agadir ?" after a list, two misses in a row (the second offers an adviser), thanks,
# "stop" in the middle of the form, in the three registers: 25 messages, three times. The last three leave
# the form open again, so that it is still open when the next round's questions are read.
SCRIPT = [
    "salam",
    "wach nqder ndkhol l jobintech?",
    "fin kaynin les centres f casa?",
    "et à Agadir ?",
    "quand commence la prochaine session ?",
    "c'est payant ?",
    "kifach nsjl?",
    "ch7al kaykhalsou mn b3d?",
    "c'est quoi code 212 ?",
    "xqzv plmk",
    "qsdf jklm",
    "شكرا",
    "chno homa les formations li kaynin?",
    "fin kayn centre f tanja?",
    "3ndi 17 3am",
    "bac",
    "rabat",
    "واش نقدر نتسجل ف الذكاء الاصطناعي؟",
    "عندي 20 عام",
    "stop",
    "merci",
    "non merci",
    "est-ce que je peux m'inscrire ?",
    "j'ai 19 ans",
    "licence",
]
MESSAGES = SCRIPT * 3


@pytest.fixture(scope="module")
def whole_reads(stack: Stack, tmp_path_factory: pytest.TempPathFactory, log_dir: Path) -> Iterator[RasaProcess]:
    """A second Rasa on the same action server and registry that reads every session whole."""
    work = tmp_path_factory.mktemp("whole-reads")
    rasa = RasaProcess(
        MODEL,
        stack.actions.url,
        f"sqlite:///{work / 'tracker.db'}",
        log_dir,
        dict(stack.platforms.env, TAWJIH_TRACKER_WINDOW_MESSAGES="0"),
    )
    try:
        yield rasa
    finally:
        rasa.stop()


def window_of(tracker_db: Path, sender: str) -> Optional[List[dict]]:
    with sqlite3.connect(tracker_db) as db:
        row = db.execute("SELECT prefix FROM tawjih_tracker_windows WHERE conversation_id = ?", (sender,)).fetchone()
    return None if row is None else json.loads(row[0])


def user_texts(tracker_db: Path, sender: str) -> List[str]:
    with sqlite3.connect(tracker_db) as db:
        rows = db.execute(
            "SELECT data FROM events WHERE sender_id = ? AND type_name = 'user' ORDER BY id", (sender,)
        ).fetchall()
    return [json.loads(data)["text"] for (data,) in rows]


def slots(rasa: RasaProcess, sender: str) -> dict:
    response = requests.get(f"{rasa.url}/conversations/{sender}/tracker", params={"token": rasa.token}, timeout=30)
    response.raise_for_status()
    return dict(response.json()["slots"])


def test_seventy_five_messages_get_the_replies_of_a_whole_read_and_lose_nothing(
    stack: Stack, whole_reads: RasaProcess
) -> None:
    person = f"long-{uuid.uuid4().hex[:8]}"
    for index, text in enumerate(MESSAGES, start=1):
        windowed = stack.rasa.say(person, text)
        whole = whole_reads.say(person, text)
        assert windowed == whole, f"message {index} ({text!r}) was answered differently"
        assert windowed, f"message {index} ({text!r}) got no reply"

    # The windowed Rasa did read a window: the latest 10-20 messages after a summed-up state.
    prefix = window_of(stack.tracker_db, person)
    assert prefix is not None, "75 messages and no window: the test would prove nothing"
    assert any(event["event"] == "slot" and event["name"] == "register" for event in prefix)
    # The same state at the end, and every message stored once, in order.
    assert slots(stack.rasa, person) == slots(whole_reads, person)
    assert user_texts(stack.tracker_db, person) == MESSAGES


def test_an_erasure_takes_the_window_with_the_conversation(stack: Stack) -> None:
    person = f"long-{uuid.uuid4().hex[:8]}"
    for text in SCRIPT:
        stack.rasa.say(person, text)
    assert window_of(stack.tracker_db, person) is not None
    asked = stack.rasa.say(person, "supprime mes données")
    confirm = [b["payload"] for b in asked[-1].get("buttons", []) if "confirm_data_deletion" in b["payload"]]
    assert confirm, "the erasure is confirmed with a button"
    erased = stack.rasa.say(person, confirm[0])
    assert texts(erased) == response_variation("utter_data_erased", "french")["text"]
    assert window_of(stack.tracker_db, person) is None
    assert user_texts(stack.tracker_db, person) == []
