"""A first conversation through the REST channel, with the trained model, the action server and the registry."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Dict, List

import pytest
import requests
import yaml

from tests.e2e.conftest import MODEL, Stack
from tests.support.processes import ROOT

pytestmark = pytest.mark.e2e
DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))


def response_variation(name: str, register: str) -> Dict:
    """The domain's wording of a response for a register (the variation without condition is French)."""
    for variation in DOMAIN["responses"][name]:
        conditions = variation.get("condition") or []
        if any(c["name"] == "register" and c["value"] == register for c in conditions) or (
            not conditions and register == "french"
        ):
            return variation
    raise KeyError(name)


def new_sender() -> str:
    return f"e2e-{uuid.uuid4().hex[:8]}"


def texts(messages: List[dict]) -> str:
    return "\n".join(m.get("text", "") for m in messages)


def programmes(stack: Stack) -> List[dict]:
    return requests.get(f"{stack.registry.url}/api/v1/programmes", timeout=5).json()["data"]


def welcome(register: str) -> str:
    """The first-contact message, with the action server's default retention period."""
    return response_variation("utter_welcome", register)["text"].format(days=90)


def test_salam_is_welcomed_then_greeted_in_darija(stack: Stack) -> None:
    sender = new_sender()
    assert texts(stack.rasa.say(sender, "salam")) == welcome("darija_latin")
    assert texts(stack.rasa.say(sender, "salam")) == response_variation("utter_greet", "darija_latin")["text"]


def test_the_programmes_come_live_from_the_registry(stack: Stack) -> None:
    sender = new_sender()
    stack.rasa.say(sender, "bonjour")
    replies = stack.rasa.say(sender, "quelles formations proposez-vous ?")
    reply = texts(replies)
    assert reply.startswith("Voici les formations disponibles")
    listed = programmes(stack)
    for programme in listed:
        assert f"• {programme['name_fr']}" in reply
    buttons = [b["title"] for m in replies for b in m.get("buttons", [])]
    assert buttons == [p["name_fr"] for p in listed]


def test_a_staff_change_shows_in_the_next_answer_without_retraining(stack: Stack) -> None:
    model_mtime = MODEL.stat().st_mtime
    sender = new_sender()
    before = texts(stack.rasa.say(sender, "quelles formations proposez-vous ?"))
    assert "• Digital-Offshoring\n" in before
    renamed = "Digital-Offshoring et relation client"
    response = requests.patch(
        f"{stack.registry.url}/api/v1/programmes/digital-offshoring",
        json={"name_fr": renamed},
        headers=stack.registry.staff_headers(),
        timeout=5,
    )
    assert response.status_code == 200
    # The list of programmes is reused for REGISTRY_REFERENCE_TTL_SECONDS (1 s in these tests), then asked again.
    deadline = time.monotonic() + 15
    after = ""
    while f"• {renamed}" not in after and time.monotonic() < deadline:
        after = texts(stack.rasa.say(sender, "quelles formations proposez-vous ?"))
    assert f"• {renamed}" in after
    assert MODEL.stat().st_mtime == model_mtime


def test_arabic_script_gets_arabic_replies(stack: Stack) -> None:
    sender = new_sender()
    replies = stack.rasa.say(sender, "السلام عليكم")
    assert texts(replies) == welcome("darija_arabic")
    reply = texts(stack.rasa.say(sender, "شنو هوما التكوينات اللي كاينين؟"))
    assert all(f"• {p['name_ar']}" in reply for p in programmes(stack))


def test_a_hung_registry_gets_a_kind_answer_in_the_persons_register(stack: Stack) -> None:
    sender = new_sender()
    stack.rasa.say(sender, "salam")
    stack.registry.pause()
    try:
        # Sessions are asked of the registry on every use (lists of programmes may come from the cache).
        replies = stack.rasa.say(sender, "imta katbda session jaya dyal JobInTech f Rabat?")
    finally:
        stack.registry.resume()
    expected = response_variation("utter_registry_unavailable", "darija_latin")
    assert texts(replies) == expected["text"]
    assert [b["payload"] for b in replies[0]["buttons"]] == ["/request_human"]
    assert "Traceback" not in stack.actions.log_text()
    assert sender not in stack.actions.log_text()


def test_rasa_http_api_needs_the_token(stack: Stack) -> None:
    assert requests.get(f"{stack.rasa.url}/status", timeout=5).status_code == 401
    assert requests.get(f"{stack.rasa.url}/status", params={"token": "wrong"}, timeout=5).status_code == 401
    assert requests.get(f"{stack.rasa.url}/status", params={"token": stack.rasa.token}, timeout=5).status_code == 200


def test_the_token_is_not_on_rasas_command_line_where_ps_shows_it(stack: Stack) -> None:
    command_line = Path(f"/proc/{stack.rasa.process.pid}/cmdline").read_bytes().decode()
    assert "serve_rasa.py" in command_line
    assert stack.rasa.token not in command_line


def test_a_token_beginning_with_a_dash_reaches_rasa_whole() -> None:
    # secrets.token_urlsafe begins with "-" once in 64 draws: Rasa must still start with it.
    import importlib.util

    from rasa.__main__ import create_argument_parser

    spec = importlib.util.spec_from_file_location("serve_rasa", ROOT / "scripts" / "serve_rasa.py")
    assert spec is not None and spec.loader is not None
    serve_rasa = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(serve_rasa)
    arguments = create_argument_parser().parse_args(serve_rasa.rasa_argv(["--port", "5005"], "-Xy_9")[1:])
    assert arguments.auth_token == "-Xy_9" and arguments.port == 5005


def test_rasa_refuses_to_start_without_a_token() -> None:
    environment = {key: value for key, value in os.environ.items() if key != "RASA_AUTH_TOKEN"}
    finished = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "serve_rasa.py"), "--port", "1"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert finished.returncode != 0
    assert "RASA_AUTH_TOKEN" in finished.stderr


def test_conversations_are_kept_in_the_sql_tracker_store(stack: Stack) -> None:
    sender = new_sender()
    stack.rasa.say(sender, "salam")
    with sqlite3.connect(Path(stack.tracker_db)) as connection:
        rows = connection.execute("SELECT type_name FROM events WHERE sender_id = ? ORDER BY id", (sender,)).fetchall()
    kinds = [row[0] for row in rows]
    assert "user" in kinds and "bot" in kinds
