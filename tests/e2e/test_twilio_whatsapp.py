"""WhatsApp through Twilio, against the running stack: requests signed like Twilio signs them,
replies recorded by a stand-in of Twilio's REST API on loopback."""

from __future__ import annotations

import base64
import sqlite3
import time
import uuid
from typing import Dict, List, Optional

import pytest
import requests
from twilio.request_validator import RequestValidator

from channels.turns import too_long_reply
from tests.e2e.conftest import Stack
from tests.e2e.test_rest_conversation import response_variation, welcome

pytestmark = pytest.mark.e2e


def webhook(stack: Stack) -> str:
    return f"{stack.rasa.url}/webhooks/twilio_whatsapp/webhook"


def form(address: str, **fields: str) -> Dict[str, str]:
    return {
        "MessageSid": f"SM{uuid.uuid4().hex}",
        "AccountSid": "AC" + "0" * 32,
        "From": address,
        "To": "whatsapp:+14155238886",
        "Body": "",
        "NumMedia": "0",
        **fields,
    }


def post(
    stack: Stack, fields: Dict[str, str], signature: Optional[str] = None, signed: bool = True
) -> requests.Response:
    headers = {}
    if signed:
        validator = RequestValidator(stack.platforms.env["TWILIO_AUTH_TOKEN"])
        headers["X-Twilio-Signature"] = signature or validator.compute_signature(webhook(stack), fields)
    return requests.post(webhook(stack), data=fields, headers=headers, timeout=10)


def say(stack: Stack, fields: Dict[str, str], replies: int = 1) -> List[Dict[str, str]]:
    mark = stack.platforms.twilio.mark()
    answer = post(stack, fields)
    assert answer.status_code == 200 and answer.text == "<Response/>"
    address = fields["From"]
    recorded = stack.platforms.twilio.wait_for(replies, since=mark, match=lambda r: r.form()["To"] == address)
    return [r.form() for r in recorded]


def someone() -> str:
    return "whatsapp:+2126" + str(uuid.uuid4().int)[:8]


def test_missing_or_wrong_signature_is_refused(stack: Stack) -> None:
    fields = form(someone(), Body="salam")
    assert post(stack, fields, signed=False).status_code == 403
    assert post(stack, fields, signature="bm90LXRoZS1zaWduYXR1cmU=").status_code == 403
    tampered = post(
        stack,
        {**fields, "Body": "salam"},
        signature=RequestValidator("other").compute_signature(webhook(stack), fields),
    )
    assert tampered.status_code == 403


def test_a_text_is_answered_through_twilios_api(stack: Stack) -> None:
    mark = stack.platforms.twilio.mark()
    address = someone()
    [sent] = say(stack, form(address, Body="salam"))
    assert sent == {"From": "whatsapp:+14155238886", "To": address, "Body": welcome("darija_latin")}
    request = stack.platforms.twilio.requests[mark]
    sid = stack.platforms.env["TWILIO_ACCOUNT_SID"]
    assert request.path == f"/2010-04-01/Accounts/{sid}/Messages.json"
    credentials = base64.b64encode(f"{sid}:{stack.platforms.env['TWILIO_AUTH_TOKEN']}".encode()).decode()
    assert request.headers["Authorization"] == f"Basic {credentials}"
    assert address[-9:] not in stack.rasa.log_text()


def test_buttons_are_numbered_and_a_typed_number_picks_one(stack: Stack) -> None:
    address = someone()
    say(stack, form(address, Body="bonjour"))
    [listing] = say(stack, form(address, Body="quelles formations proposez-vous ?"))
    programmes = requests.get(f"{stack.registry.url}/api/v1/programmes", timeout=5).json()["data"]
    for number, programme in enumerate(programmes, start=1):
        assert f"{number}. {programme['name_fr']}" in listing["Body"]
    assert listing["Body"].endswith("Réponds avec le numéro de ton choix.")
    [details] = say(stack, form(address, Body="3"))
    assert details["Body"].startswith(programmes[2]["name_fr"])


def test_a_voice_note_and_a_location(stack: Stack) -> None:
    address = someone()
    say(stack, form(address, Body="salam"))
    [voice] = say(
        stack, form(address, NumMedia="1", MediaContentType0="audio/ogg", MediaUrl0="https://example.invalid/m")
    )
    assert voice["Body"] == response_variation("utter_ask_for_text", "darija_latin")["text"]
    [nearby] = say(stack, form(address, Latitude="30.4202", Longitude="-9.5982"))
    nearest = requests.get(
        f"{stack.registry.url}/api/v1/centres", params={"near": "30.4202,-9.5982"}, timeout=5
    ).json()["data"]
    assert nearest[0]["name"] in nearby["Body"].split("\n")[1]


def test_a_retried_message_is_answered_once(stack: Stack) -> None:
    mark = stack.platforms.twilio.mark()
    address = someone()
    fields = form(address, Body="bonjour")
    assert post(stack, fields).status_code == 200
    assert post(stack, fields).status_code == 200
    answers = say(stack, form(address, Body="merci"), replies=2)
    assert [a["Body"] for a in answers] == [
        welcome("french"),
        response_variation("utter_you_are_welcome", "french")["text"],
    ]
    assert [r.form()["To"] for r in stack.platforms.twilio.requests[mark:]].count(address) == 2


def tracker_data(stack: Stack) -> List[str]:
    with sqlite3.connect(stack.tracker_db) as db:
        return [row[0] for row in db.execute("SELECT data FROM events").fetchall()]


def test_a_body_over_the_limit_is_refused_before_it_is_read(stack: Stack) -> None:
    address = someone()
    fields = form(address, Body="x" * (5 * 1024 * 1024))
    mark = stack.platforms.twilio.mark()
    started = time.monotonic()
    assert post(stack, fields).status_code == 413 and time.monotonic() - started < 3
    [sent] = say(stack, form(address, Body="salam"))  # nothing of it was handled; the channel goes on
    assert sent["Body"] == welcome("darija_latin")
    assert [r.form()["To"] for r in stack.platforms.twilio.requests[mark:]].count(address) == 1


def test_an_overlong_message_is_answered_kindly_and_not_stored(stack: Stack) -> None:
    address = someone()
    marker = "overlong" + "".join(chr(ord("a") + int(c, 16)) for c in uuid.uuid4().hex[:8])  # letters: no Arabizi digit
    text = f"Salam, bghit n3ref {marker} " + "chno homa les formations li kaynin f Tanja. " * 110
    assert 4096 < len(text) < 6000
    [sent] = say(stack, form(address, Body=text))
    assert sent["Body"] == too_long_reply(text, 4096)
    assert not any(marker in data for data in tracker_data(stack))
    assert marker not in stack.rasa.log_text()
