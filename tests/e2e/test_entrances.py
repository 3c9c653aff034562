"""What comes in at each entrance is bounded and checked: REST and the web chat's socket.io.

(WhatsApp's and Twilio's entrances are tested in their own modules.)
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import sqlite3
import time
import uuid
from typing import Any, Dict, List

import pytest
import requests
import socketio

from channels.turns import TOO_LONG
from tests.e2e.conftest import Stack
from tests.e2e.test_rest_conversation import response_variation, texts, welcome

pytestmark = pytest.mark.e2e


def new_sender() -> str:
    return f"door-{uuid.uuid4().hex[:8]}"


def stored_texts(stack: Stack, sender: str) -> List[str]:
    with sqlite3.connect(stack.tracker_db) as db:
        rows = db.execute("SELECT data FROM events WHERE sender_id = ? AND type_name = 'user'", (sender,)).fetchall()
    return [row[0] for row in rows]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"[]", "JSON object"),
        (b"null", "JSON object"),
        (b'"x"', "JSON object"),
        (b"", "JSON object"),
        (b"not json", "JSON object"),
        (b"\xff\xfe", "JSON object"),
        (b'{"sender": 1, "message": 2}', "sender"),
        (b'{"message": "salam"}', "sender"),
        (b'{"sender": "", "message": "salam"}', "sender"),
        (b'{"sender": "a\\u0000b", "message": "salam"}', "sender"),
        (b'{"sender": "a", "message": null}', "message"),
        (b'{"sender": "a"}', "message"),
        (b'{"sender": "a", "message": ["salam"]}', "message"),
        (b'{"sender": "a", "message": "salam", "metadata": 3}', "metadata"),
        (b'{"sender": "a", "message": "salam", "metadata": "x"}', "metadata"),
    ],
)
def test_an_odd_rest_envelope_gets_a_400_with_its_reason(stack: Stack, body: bytes, reason: str) -> None:
    reply = requests.post(
        f"{stack.rasa.url}/webhooks/rest/webhook",
        data=body,
        headers={**stack.rasa.rest_headers(), "Content-Type": "application/json"},
        timeout=10,
    )
    assert reply.status_code == 400
    assert reason in reply.json()["error"]
    assert "Traceback" not in stack.rasa.log_text()


@pytest.mark.parametrize("header", [None, "Bearer ", "Bearer wrong-token", "Basic dXNlcjpwYXNz"])
def test_rest_refuses_anyone_without_its_token(stack: Stack, header: Any) -> None:
    person = new_sender()
    headers = {"Authorization": header} if header else {}
    reply = requests.post(
        f"{stack.rasa.url}/webhooks/rest/webhook",
        json={"sender": person, "message": "salam"},
        headers=headers,
        timeout=10,
    )
    assert reply.status_code == 401
    assert stored_texts(stack, person) == []


def test_two_clients_without_a_sender_share_nothing(stack: Stack) -> None:
    url = f"{stack.rasa.url}/webhooks/rest/webhook"
    first = requests.post(
        url, json={"message": "j'ai 19 ans et j'habite à Oujda"}, headers=stack.rasa.rest_headers(), timeout=10
    )
    second = requests.post(url, json={"message": "quel âge j'ai ?"}, headers=stack.rasa.rest_headers(), timeout=10)
    assert first.status_code == second.status_code == 400
    assert stored_texts(stack, "default") == []


@pytest.mark.parametrize("command", ["/restart", "/session_start", "/back", "/nlu_fallback", "/action_restart"])
def test_a_typed_rasa_command_gets_a_real_answer(stack: Stack, command: str) -> None:
    person = new_sender()
    stack.rasa.say(person, "bonjour")
    replies = stack.rasa.say(person, command)
    assert texts(replies).strip(), f"no answer to {command}"
    # The conversation was not restarted: no second welcome.
    assert welcome("french") not in texts(replies)


def test_an_overlong_message_is_answered_kindly_and_not_stored(stack: Stack) -> None:
    person = new_sender()
    for register, text in (("french", "je veux une formation " * 300), ("darija_arabic", "بغيت نتسجل " * 500)):
        replies = stack.rasa.say(person, text)
        assert texts(replies) == TOO_LONG[register].format(limit=4096)
    assert stored_texts(stack, person) == []


def test_a_huge_body_is_refused_and_nobody_waits_behind_it(stack: Stack) -> None:
    huge = {"sender": new_sender(), "message": "formation " * 60_000}  # 600 KB, the size that held Rasa 22 s
    url = f"{stack.rasa.url}/webhooks/rest/webhook"
    person = new_sender()
    stack.rasa.say(person, "bonjour")
    with concurrent.futures.ThreadPoolExecutor(max_workers=5) as pool:
        floods = [
            pool.submit(requests.post, url, json=huge, headers=stack.rasa.rest_headers(), timeout=60) for _ in range(4)
        ]
        started = time.monotonic()
        answer = pool.submit(stack.rasa.say, person, "merci")
        replies = answer.result(timeout=60)
        waited = time.monotonic() - started
        statuses = [flood.result().status_code for flood in floods]
    assert statuses == [413] * 4
    assert texts(replies) == response_variation("utter_you_are_welcome", "french")["text"]
    # Not held behind the flood (it was held 22 s): a generous bound, far from a normal turn's time.
    assert waited < 10
    assert stored_texts(stack, huge["sender"]) == []


def first_socket_reply(stack: Stack, packets: List[Any]) -> Dict[str, Any]:
    """Packets sent over the web chat's socket.io, as the widget sends them; the first reply that comes back."""

    async def run() -> Dict[str, Any]:
        session_id = uuid.uuid4().hex
        client = socketio.AsyncClient(reconnection=False)
        confirmed = asyncio.Event()
        replies: "asyncio.Queue[Dict[str, Any]]" = asyncio.Queue()
        client.on("session_confirm", lambda _: confirmed.set())
        client.on("bot_uttered", replies.put_nowait)
        await client.connect(stack.rasa.url, headers={"Origin": stack.web.url}, transports=["polling"])
        try:
            await client.emit("session_request", {"session_id": session_id})
            await asyncio.wait_for(confirmed.wait(), 10)
            for packet in packets:
                message = {"message": packet, "session_id": session_id} if isinstance(packet, str) else packet
                await client.emit("user_uttered", message)
            return await asyncio.wait_for(replies.get(), 30)
        finally:
            # Without waiting for the long poll in flight to end (up to socket.io's 25 s ping interval).
            await client.eio.disconnect(abort=True)

    return asyncio.run(run())


def test_the_web_chat_answers_an_overlong_message_kindly(stack: Stack) -> None:
    reply = first_socket_reply(stack, ["wach kayn chi formation f casa " * 200])
    assert reply["text"] == TOO_LONG["darija_latin"].format(limit=4096)


def test_the_web_chat_answers_only_real_messages(stack: Stack) -> None:
    # Packets the widget never sends get nothing (no reply, nothing stored); the message after them is
    # answered as the first of the conversation.
    reply = first_socket_reply(stack, [{"message": 5}, ["x"], {"message": None, "session_id": "x"}, "salam"])
    assert reply["text"] == welcome("darija_latin").split("\n\n")[0]
