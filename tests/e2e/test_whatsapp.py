"""The WhatsApp Cloud API channel, against the running stack: signed fixture payloads in,
what would have been sent to Meta recorded by a stand-in Graph API on loopback."""

from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
import time
import uuid
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, List, Optional, Union

import pytest
import requests
from twilio.request_validator import RequestValidator

from channels.turns import too_long_reply
from tests.e2e.conftest import MODEL, Stack
from tests.e2e.test_rest_conversation import response_variation, welcome
from tests.support.processes import RasaProcess
from tests.support.standins import (
    meta_message,
    meta_number_changed,
    meta_user_id_changed,
    new_bsuid,
)

pytestmark = pytest.mark.e2e
Body = Union[Dict[str, Any], bytes]


def webhook(rasa: Union[Stack, RasaProcess]) -> str:
    url = rasa.rasa.url if isinstance(rasa, Stack) else rasa.url
    return f"{url}/webhooks/whatsapp/webhook"


def delivery(phone: Optional[str], message: Dict[str, Any], user_id: Optional[str] = None) -> Dict[str, Any]:
    """A webhook body as Meta sends it, holding one message of one person."""
    return meta_message(message, phone=phone, user_id=user_id)


def signed(stack: Stack, raw: bytes, key: Optional[str] = None) -> Dict[str, str]:
    signing_key = key or stack.platforms.env["WHATSAPP_APP_SECRET"]
    return {
        "Content-Type": "application/json",
        "X-Hub-Signature-256": "sha256=" + hmac.new(signing_key.encode(), raw, hashlib.sha256).hexdigest(),
    }


def post(
    stack: Stack, body: Body, signed_: bool = True, key: Optional[str] = None, to: Optional[RasaProcess] = None
) -> requests.Response:
    """POST a delivery signed with the app secret (or with another key, or not at all)."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = signed(stack, raw, key) if signed_ else {"Content-Type": "application/json"}
    return requests.post(webhook(to or stack), data=raw, headers=headers, timeout=10)


def addressee(sent: Dict[str, Any]) -> str:
    """Whom a message sent to the Graph API goes to: the number (`to`) or the BSUID (`recipient`)."""
    return str(sent.get("to") or sent.get("recipient"))


def sender_of(body: Dict[str, Any]) -> str:
    """Where the replies to a delivery go: the number when Meta gave one, the BSUID otherwise."""
    message = body["entry"][0]["changes"][0]["value"]["messages"][0]
    return str(message.get("from") or message.get("from_user_id"))


def send_and_collect(stack: Stack, body: Dict[str, Any], replies: int) -> List[Dict[str, Any]]:
    """Post a signed delivery, then wait for that many messages to the same person at the Graph API stand-in."""
    who = sender_of(body)
    mark = stack.platforms.graph.mark()
    answer = post(stack, body)
    assert answer.status_code == 200 and answer.text == "ok"
    recorded = stack.platforms.graph.wait_for(replies, since=mark, match=lambda r: addressee(r.json()) == who)
    return [r.json() for r in recorded]


def person() -> str:
    return "2126" + str(uuid.uuid4().int)[:8]


def text_of(sent: Dict[str, Any]) -> str:
    if sent["type"] == "text":
        return str(sent["text"]["body"])
    return str(sent["interactive"]["body"]["text"])


def conversation(stack: Stack, identifier: str, user: bool) -> str:
    """The conversation id Rasa sees for a BSUID or a number: a keyed hash, as README says."""
    key = stack.platforms.env["TAWJIH_CONVERSATION_ID_KEY"]
    what = f"whatsapp:user:{identifier}" if user else "whatsapp:" + "".join(c for c in identifier if c.isdigit())
    return "whatsapp-" + hmac.new(key.encode(), what.encode(), hashlib.sha256).hexdigest()[:32]


def tracker_rows(tracker_db: Path) -> List[tuple]:
    with sqlite3.connect(tracker_db) as db:
        return db.execute("SELECT sender_id, data FROM events").fetchall()


def events_of(stack: Stack, sender: str) -> int:
    return sum(1 for row in tracker_rows(stack.tracker_db) if row[0] == sender)


def nowhere(stack: Stack, secrets_: Iterable[str]) -> None:
    """None of these (numbers, BSUIDs, words of a message) is in any log or in the tracker store."""
    rows = tracker_rows(stack.tracker_db)
    logs = stack.rasa.log_text() + stack.actions.log_text()
    for secret in secrets_:
        assert secret not in logs
        assert not any(secret in sender or secret in data for sender, data in rows)


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
    assert post(stack, body, signed_=False).status_code == 403
    assert post(stack, body, key="not-the-app-secret").status_code == 403
    # the same body, signed, is handled: only its replies reach the Graph API
    assert send_and_collect(stack, body, 1)
    phone = sender_of(body)
    assert [addressee(r.json()) for r in stack.platforms.graph.requests[mark:]].count(phone) == 1


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
    assert events_of(stack, conversation(stack, phone, user=False)) > 0
    nowhere(stack, [phone])


def test_a_person_without_a_number_is_answered_at_their_bsuid_in_one_conversation(stack: Stack) -> None:
    phone, user_id = person(), new_bsuid()
    # With the number and the BSUID (Meta's webhooks since April 2026): the reply goes to the number.
    [first] = send_and_collect(stack, delivery(phone, {"type": "text", "text": {"body": "bonjour"}}, user_id), 1)
    assert first["to"] == phone and "recipient" not in first and text_of(first) == welcome("french")
    # The number withheld (a username): the reply goes to the BSUID, in the same conversation.
    [second] = send_and_collect(stack, delivery(None, {"type": "text", "text": {"body": "merci"}}, user_id), 1)
    assert second["recipient"] == user_id and "to" not in second
    assert text_of(second) == response_variation("utter_you_are_welcome", "french")["text"]
    # The number back again: still the same conversation (no second welcome).
    [third] = send_and_collect(stack, delivery(phone, {"type": "text", "text": {"body": "merci"}}, user_id), 1)
    assert third["to"] == phone
    assert text_of(third) == response_variation("utter_you_are_welcome", "french")["text"]
    assert events_of(stack, conversation(stack, user_id, user=True)) > 0
    assert events_of(stack, conversation(stack, phone, user=False)) == 0
    nowhere(stack, [phone, user_id, user_id.split(".")[1]])


def test_a_new_number_or_a_new_bsuid_keeps_the_conversation(stack: Stack) -> None:
    old_phone, new_phone = person(), person()
    old_user, new_user, newest_user = new_bsuid(), new_bsuid(), new_bsuid()
    send_and_collect(stack, delivery(old_phone, {"type": "text", "text": {"body": "bonjour"}}, old_user), 1)
    mark = stack.platforms.graph.mark()
    # user_changed_number: a system message, answered to nobody
    changed = post(stack, meta_number_changed(old_phone, new_phone, old_user, new_user))
    assert (changed.status_code, changed.text) == (200, "ok")
    [reply] = send_and_collect(stack, delivery(new_phone, {"type": "text", "text": {"body": "merci"}}, new_user), 1)
    assert reply["to"] == new_phone
    assert text_of(reply) == response_variation("utter_you_are_welcome", "french")["text"]
    # user_changed_user_id: no number in it, nor in the next message
    assert post(stack, meta_user_id_changed(new_user, newest_user)).status_code == 200
    [later] = send_and_collect(stack, delivery(None, {"type": "text", "text": {"body": "merci"}}, newest_user), 1)
    assert later["recipient"] == newest_user
    assert text_of(later) == response_variation("utter_you_are_welcome", "french")["text"]
    sent_to = [addressee(r.json()) for r in stack.platforms.graph.requests[mark:]]
    assert sent_to.count(new_phone) == 1 and sent_to.count(newest_user) == 1 and old_phone not in sent_to
    assert events_of(stack, conversation(stack, old_user, user=True)) > 0
    assert events_of(stack, conversation(stack, new_user, user=True)) == 0
    assert events_of(stack, conversation(stack, newest_user, user=True)) == 0
    nowhere(stack, [old_phone, new_phone, old_user, new_user, newest_user])


def test_a_duplicate_delivery_is_answered_once(stack: Stack) -> None:
    phone = person()
    body = delivery(phone, {"type": "text", "text": {"body": "bonjour"}})
    mark = stack.platforms.graph.mark()
    assert post(stack, body).status_code == 200
    assert post(stack, body).status_code == 200  # Meta retries: the same message id
    # A duplicate is dropped when it arrives, so once the next message's answer is in, all is in. Counted
    # from before the first delivery: "bonjour" may be answered before "merci" is even posted.
    assert post(stack, delivery(phone, {"type": "text", "text": {"body": "merci"}})).status_code == 200
    recorded = stack.platforms.graph.wait_for(2, since=mark, match=lambda r: addressee(r.json()) == phone)
    answers = [r.json() for r in recorded]
    assert [text_of(a) for a in answers] == [
        welcome("french"),
        response_variation("utter_you_are_welcome", "french")["text"],
    ]
    assert [addressee(r.json()) for r in stack.platforms.graph.requests[mark:]].count(phone) == 2


def test_status_callbacks_are_ignored(stack: Stack) -> None:
    mark = stack.platforms.graph.mark()
    phone = person()
    status = {"id": "wamid.x", "status": "delivered", "timestamp": "1790000000", "recipient_id": phone}
    body = {"object": "whatsapp_business_account", "entry": [{"changes": [{"value": {"statuses": [status]}}]}]}
    assert post(stack, body).status_code == 200
    send_and_collect(stack, delivery(phone, {"type": "text", "text": {"body": "salam"}}), 1)
    assert [addressee(r.json()) for r in stack.platforms.graph.requests[mark:]].count(phone) == 1


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


def test_a_body_over_the_limit_is_refused_before_it_is_read(stack: Stack) -> None:
    phone = person()
    huge = delivery(phone, {"type": "text", "text": {"body": "x" * (5 * 1024 * 1024)}})
    raw = json.dumps(huge).encode()
    mark = stack.platforms.graph.mark()
    started = time.monotonic()
    refused = requests.post(webhook(stack), data=raw, headers=signed(stack, raw), timeout=10)
    assert refused.status_code == 413 and time.monotonic() - started < 3
    # Without a Content-Length (chunked): read only up to the limit, then refused.
    chunks = (raw[i : i + 65536] for i in range(0, len(raw), 65536))
    chunked = requests.post(webhook(stack), data=chunks, headers=signed(stack, raw), timeout=10)
    assert chunked.status_code == 413
    # Nothing of it was handled; the channel goes on answering.
    send_and_collect(stack, delivery(phone, {"type": "text", "text": {"body": "salam"}}), 1)
    assert [addressee(r.json()) for r in stack.platforms.graph.requests[mark:]].count(phone) == 1
    assert events_of(stack, conversation(stack, phone, user=False)) > 0
    assert not any("x" * 1000 in data for _, data in tracker_rows(stack.tracker_db))


def test_an_overlong_message_is_answered_kindly_and_not_stored(stack: Stack) -> None:
    phone, user_id = person(), new_bsuid()
    while True:  # a random word can look like Arabizi ("overlonghegmilnk"): draw another
        marker = "overlong" + "".join(chr(ord("a") + int(c, 16)) for c in uuid.uuid4().hex[:8])
        text = f"Bonjour, je voudrais savoir {marker} " + "quelles formations existent à Rabat. " * 140
        if "trop long" in too_long_reply(text, 4096):
            break
    assert 4096 < len(text) < 6000
    [sent] = send_and_collect(stack, delivery(phone, {"type": "text", "text": {"body": text}}, user_id), 1)
    assert text_of(sent) == too_long_reply(text, 4096) and "trop long" in text_of(sent)
    assert events_of(stack, conversation(stack, user_id, user=True)) == 0
    assert not any(marker in data for _, data in tracker_rows(stack.tracker_db))
    assert marker not in stack.rasa.log_text()


# A channel without every setting it needs: 503, the missing variable named once, nothing acknowledged.


@pytest.fixture(scope="module")
def misconfigured(stack: Stack, tmp_path_factory: pytest.TempPathFactory, log_dir: Path) -> Iterator[RasaProcess]:
    """A Rasa whose WhatsApp and Twilio channels lack TAWJIH_CONVERSATION_ID_KEY (empty is unset)."""
    tracker = tmp_path_factory.mktemp("misconfigured") / "tracker.db"
    env = {**stack.platforms.env, "TAWJIH_CONVERSATION_ID_KEY": ""}
    rasa = RasaProcess(MODEL, stack.actions.url, f"sqlite:///{tracker}", log_dir, env)
    yield rasa
    rasa.stop()


def test_a_channel_without_its_key_answers_503_says_why_and_loses_nothing(
    stack: Stack, misconfigured: RasaProcess
) -> None:
    phone = person()
    body = delivery(phone, {"type": "text", "text": {"body": "bonjour"}})
    mark = stack.platforms.graph.mark()
    assert post(stack, body, to=misconfigured).status_code == 503
    assert post(stack, body, to=misconfigured).status_code == 503  # Meta's retry: still refused, not dropped
    twilio_url = f"{misconfigured.url}/webhooks/twilio_whatsapp/webhook"
    fields = {"MessageSid": f"SM{uuid.uuid4().hex}", "From": "whatsapp:+" + person(), "Body": "salam"}
    validator = RequestValidator(stack.platforms.env["TWILIO_AUTH_TOKEN"])
    twilio = requests.post(
        twilio_url,
        data=fields,
        headers={"X-Twilio-Signature": validator.compute_signature(twilio_url, fields)},
        timeout=10,
    )
    assert twilio.status_code == 503
    log = misconfigured.log_text()
    said = [line for line in log.splitlines() if "TAWJIH_CONVERSATION_ID_KEY" in line]
    assert len([line for line in said if " whatsapp channel:" in line]) == 1, said
    assert len([line for line in said if " twilio_whatsapp channel:" in line]) == 1, said
    assert "Traceback" not in log and phone not in log
    assert phone not in [addressee(r.json()) for r in stack.platforms.graph.requests[mark:]]
    # Once a configured Tawjih receives the same delivery (Meta retries for days), it is answered, once.
    [answer] = send_and_collect(stack, body, 1)
    assert text_of(answer) == welcome("french")
