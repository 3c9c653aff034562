"""The WhatsApp Cloud API channel, against the running stack: signed fixture payloads in,
what would have been sent to Meta recorded by a stand-in Graph API on loopback."""

from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
import uuid
from typing import Any, Dict, List, Optional

import pytest
import requests

from tests.e2e.conftest import Stack
from tests.e2e.test_rest_conversation import response_variation, welcome

pytestmark = pytest.mark.e2e
PHONE = "212612345678"


def webhook(stack: Stack) -> str:
    return f"{stack.rasa.url}/webhooks/whatsapp/webhook"


def delivery(phone: str, message: Dict[str, Any]) -> Dict[str, Any]:
    """A webhook body as Meta sends it, holding one message."""
    message = {"from": phone, "id": f"wamid.{uuid.uuid4().hex}", "timestamp": "1790000000", **message}
    value = {"messaging_product": "whatsapp", "metadata": {"phone_number_id": "109876543210"}, "messages": [message]}
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}],
    }


def post(stack: Stack, body: Dict[str, Any], signed: bool = True, key: Optional[str] = None) -> requests.Response:
    """POST a delivery signed with the app secret (or with another key, or not at all)."""
    raw = json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if signed:
        signing_key = key or stack.platforms.env["WHATSAPP_APP_SECRET"]
        headers["X-Hub-Signature-256"] = "sha256=" + hmac.new(signing_key.encode(), raw, hashlib.sha256).hexdigest()
    return requests.post(webhook(stack), data=raw, headers=headers, timeout=10)


def send_and_collect(stack: Stack, body: Dict[str, Any], replies: int) -> List[Dict[str, Any]]:
    """Post a signed delivery, then wait for that many messages to the same person at the Graph API stand-in."""
    phone = body["entry"][0]["changes"][0]["value"]["messages"][0]["from"]
    mark = stack.platforms.graph.mark()
    answer = post(stack, body)
    assert answer.status_code == 200 and answer.text == "ok"
    recorded = stack.platforms.graph.wait_for(replies, since=mark, match=lambda r: r.json()["to"] == phone)
    return [r.json() for r in recorded]


def person() -> str:
    return "2126" + str(uuid.uuid4().int)[:8]


def text_of(sent: Dict[str, Any]) -> str:
    if sent["type"] == "text":
        return str(sent["text"]["body"])
    return str(sent["interactive"]["body"]["text"])


def test_verification_answers_the_challenge_only_with_the_right_token(stack: Stack) -> None:
    token = stack.platforms.env["WHATSAPP_VERIFY_TOKEN"]
    ok = requests.get(
        webhook(stack),
        params={"hub.mode": "subscribe", "hub.verify_token": token, "hub.challenge": "1158201444"},
        timeout=10,
    )
    assert (ok.status_code, ok.text) == (200, "1158201444")
    wrong = requests.get(
        webhook(stack), params={"hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "1"}, timeout=10
    )
    assert wrong.status_code == 403
    assert requests.get(webhook(stack), params={"hub.challenge": "1"}, timeout=10).status_code == 403


def test_a_missing_or_wrong_signature_is_refused_and_nothing_is_sent(stack: Stack) -> None:
    mark = stack.platforms.graph.mark()
    body = delivery(person(), {"type": "text", "text": {"body": "salam"}})
    assert post(stack, body, signed=False).status_code == 403
    assert post(stack, body, key="not-the-app-secret").status_code == 403
    # the same body, signed, is handled: only its replies reach the Graph API
    assert send_and_collect(stack, body, 1)
    phone = body["entry"][0]["changes"][0]["value"]["messages"][0]["from"]
    assert [r.json()["to"] for r in stack.platforms.graph.requests[mark:]].count(phone) == 1


def test_a_text_question_is_answered_and_the_number_is_kept_out_of_logs_and_trackers(stack: Stack) -> None:
    phone = person()
    [first] = send_and_collect(stack, delivery(phone, {"type": "text", "text": {"body": "salam"}}), 1)
    assert first == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": phone,
        "type": "text",
        "text": {"body": welcome("darija_latin"), "preview_url": False},
    }
    sent = send_and_collect(
        stack, delivery(phone, {"type": "text", "text": {"body": "fin kaynin les centres f fes?"}}), 1
    )
    centres = requests.get(f"{stack.registry.url}/api/v1/centres", params={"city": "Fès"}, timeout=5).json()["data"]
    assert all(c["name"] in text_of(sent[0]) for c in centres)
    assert phone not in stack.rasa.log_text() and phone not in stack.actions.log_text()
    with sqlite3.connect(stack.tracker_db) as db:
        rows = db.execute("SELECT sender_id, data FROM events").fetchall()
    assert rows and not any(phone in sender or phone in data for sender, data in rows)


def test_a_duplicate_delivery_is_answered_once(stack: Stack) -> None:
    phone = person()
    body = delivery(phone, {"type": "text", "text": {"body": "bonjour"}})
    mark = stack.platforms.graph.mark()
    assert post(stack, body).status_code == 200
    assert post(stack, body).status_code == 200  # Meta retries: the same message id
    # A duplicate is dropped when it arrives, so once the next message's answer is in, all is in.
    answers = send_and_collect(stack, delivery(phone, {"type": "text", "text": {"body": "merci"}}), 2)
    assert [text_of(a) for a in answers] == [
        welcome("french"),
        response_variation("utter_you_are_welcome", "french")["text"],
    ]
    assert [r.json()["to"] for r in stack.platforms.graph.requests[mark:]].count(phone) == 2


def test_status_callbacks_are_ignored(stack: Stack) -> None:
    mark = stack.platforms.graph.mark()
    phone = person()
    status = {"id": "wamid.x", "status": "delivered", "timestamp": "1790000000", "recipient_id": phone}
    body = {"object": "whatsapp_business_account", "entry": [{"changes": [{"value": {"statuses": [status]}}]}]}
    assert post(stack, body).status_code == 200
    send_and_collect(stack, delivery(phone, {"type": "text", "text": {"body": "salam"}}), 1)
    assert [r.json()["to"] for r in stack.platforms.graph.requests[mark:]].count(phone) == 1


def test_a_voice_note_gets_a_kind_request_for_text_in_the_persons_register(stack: Stack) -> None:
    phone = person()
    send_and_collect(stack, delivery(phone, {"type": "text", "text": {"body": "السلام عليكم"}}), 1)
    voice = {"type": "audio", "audio": {"id": "media-1", "mime_type": "audio/ogg; codecs=opus", "voice": True}}
    [sent] = send_and_collect(stack, delivery(phone, voice), 1)
    assert text_of(sent) == response_variation("utter_ask_for_text", "darija_arabic")["text"]


def test_a_shared_location_gets_the_nearest_centres(stack: Stack) -> None:
    phone = person()
    send_and_collect(stack, delivery(phone, {"type": "text", "text": {"body": "salam"}}), 1)
    tetouan = {"latitude": 35.5785, "longitude": -5.3684, "name": "Tétouan"}
    [sent] = send_and_collect(stack, delivery(phone, {"type": "location", "location": tetouan}), 1)
    nearest = requests.get(
        f"{stack.registry.url}/api/v1/centres", params={"near": "35.5785,-5.3684"}, timeout=5
    ).json()["data"][:3]
    body = text_of(sent)
    assert body.startswith("Hahoma a9rab centres l blastek")
    assert [body.index(c["name"]) for c in nearest] == sorted(body.index(c["name"]) for c in nearest)


def test_buttons_become_reply_buttons_a_list_or_numbered_text(stack: Stack) -> None:
    phone = person()
    send_and_collect(stack, delivery(phone, {"type": "text", "text": {"body": "bonjour"}}), 1)
    # Four programme names, some longer than a list row allows: numbered text, and "2" picks the second
    [listing] = send_and_collect(
        stack, delivery(phone, {"type": "text", "text": {"body": "quelles formations proposez-vous ?"}}), 1
    )
    programmes = requests.get(f"{stack.registry.url}/api/v1/programmes", timeout=5).json()["data"]
    assert listing["type"] == "text" and f"2. {programmes[1]['name_fr']}" in listing["text"]["body"]
    [details] = send_and_collect(stack, delivery(phone, {"type": "text", "text": {"body": "2"}}), 1)
    assert text_of(details).startswith(programmes[1]["name_fr"])
    # The eligibility form: the level question's five short options come as a list
    send_and_collect(stack, delivery(phone, {"type": "text", "text": {"body": "suis-je éligible ?"}}), 1)
    [level] = send_and_collect(stack, delivery(phone, {"type": "text", "text": {"body": "j'ai 20 ans"}}), 1)
    assert level["type"] == "interactive" and level["interactive"]["type"] == "list", level
    assert level["interactive"]["action"]["button"] == "Choisir"
    rows = level["interactive"]["action"]["sections"][0]["rows"]
    assert [r["title"] for r in rows][:3] == ["Collège", "Lycée sans le bac", "Bac"]
    reply = {
        "type": "interactive",
        "interactive": {"type": "list_reply", "list_reply": {"id": rows[3]["id"], "title": rows[3]["title"]}},
    }
    [region] = send_and_collect(stack, delivery(phone, reply), 1)
    assert text_of(region) == response_variation("utter_ask_home_region", "french")["text"]
    # A programme with other conditions: "Oui" / "Non" come as reply buttons
    [conditions] = send_and_collect(stack, delivery(phone, {"type": "text", "text": {"body": "j'habite à Kénitra"}}), 1)
    assert conditions["interactive"]["type"] == "button"
    buttons = conditions["interactive"]["action"]["buttons"]
    assert [b["reply"]["title"] for b in buttons] == ["Oui", "Non"]
    tapped = {"type": "interactive", "interactive": {"type": "button_reply", "button_reply": buttons[0]["reply"]}}
    verdict = send_and_collect(stack, delivery(phone, tapped), 2)
    assert text_of(verdict[0]).startswith(f"Voici les conditions de {programmes[1]['name_fr']}")


def test_a_graph_api_failure_is_retried(stack: Stack) -> None:
    phone = person()
    stack.platforms.graph.fail_next(1)
    first, retry = send_and_collect(stack, delivery(phone, {"type": "text", "text": {"body": "salam"}}), 2)
    assert first == retry and text_of(retry) == welcome("darija_latin")
