"""Handoff to an adviser, end to end on loopback: the real Rasa, action server, registry and staff console;
WhatsApp's Graph API and Twilio through their recording stand-ins. The adviser's side is driven through
the console's API (the browser round trip is tests/e2e/test_handoff_browser.py).

Each test is one person's story: they ask in their register, an adviser (routed by region) takes the
request and answers on the person's channel, the bot stays silent meanwhile, and comes back once."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
import secrets
import shutil
import sqlite3
import threading
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional
from zoneinfo import ZoneInfo

import pytest
import requests
from twilio.request_validator import RequestValidator

from tests.console.conftest import PASSWORD, Client, ConsoleProcess, wait_for
from tests.e2e.conftest import MODEL
from tests.e2e.test_rest_conversation import response_variation
from tests.support.processes import ROOT, ActionServerProcess, RasaProcess, RegistryProcess, WebProcess, free_port
from tests.support.standins import WHATSAPP_PHONE_NUMBER_ID, Recorded, RecordingServer, meta_message

pytestmark = pytest.mark.e2e

TEMPLATE = "tawjih_adviser_reply"
CONTENT_SID = "HX" + "0" * 32
ALWAYS_OPEN = "mon-sun 00:00-24:00"
CASABLANCA = ZoneInfo("Africa/Casablanca")


@dataclass
class HandoffStack:
    registry: RegistryProcess
    actions: ActionServerProcess
    rasa: RasaProcess
    console: ConsoleProcess
    graph: RecordingServer
    twilio: RecordingServer
    env: Dict[str, str]
    console_env: Dict[str, str]
    work: Path
    web: WebProcess

    @property
    def tracker_db(self) -> Path:
        return self.work / "tracker.db"


@pytest.fixture(scope="module")
def hs(tmp_path_factory: pytest.TempPathFactory, log_dir: Path) -> Iterator[HandoffStack]:
    """Every part as `make run` starts them, the console included, its advisers by region."""
    if not MODEL.exists():
        pytest.fail("No trained model: run `make train` (make test does it first).")
    work = tmp_path_factory.mktemp("handoff")
    graph = RecordingServer({"messaging_product": "whatsapp", "messages": [{"id": "wamid.sent"}]})
    twilio = RecordingServer({"sid": "SM" + "0" * 32, "status": "queued"})
    rasa_port, console_port, web_port = free_port(), free_port(), free_port()
    rasa_token, service_token = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    env = {
        "WHATSAPP_VERIFY_TOKEN": secrets.token_urlsafe(12),
        "WHATSAPP_APP_SECRET": secrets.token_urlsafe(24),
        "WHATSAPP_ACCESS_TOKEN": secrets.token_urlsafe(24),
        "WHATSAPP_PHONE_NUMBER_ID": WHATSAPP_PHONE_NUMBER_ID,
        "WHATSAPP_API_BASE": f"{graph.url}/v21.0",
        "WHATSAPP_HANDOFF_TEMPLATE": f"{TEMPLATE}:fr",
        "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
        "TWILIO_AUTH_TOKEN": secrets.token_hex(16),
        "TWILIO_WHATSAPP_NUMBER": "whatsapp:+14155238886",
        "TWILIO_API_BASE": twilio.url,
        "TWILIO_HANDOFF_CONTENT_SID": CONTENT_SID,
        "TAWJIH_CONVERSATION_ID_KEY": secrets.token_urlsafe(24),
        "WEB_ORIGINS": f"http://127.0.0.1:{web_port}",
    }
    tracker_url = f"sqlite:///{work / 'tracker.db'}"
    console_env = {
        "RASA_URL": f"http://127.0.0.1:{rasa_port}",
        "RASA_AUTH_TOKEN": rasa_token,
        "HANDOFF_SERVICE_TOKEN": service_token,
        "HANDOFF_OPENING_HOURS": ALWAYS_OPEN,
        "HANDOFF_WAIT_MINUTES": "60",
        "CONSOLE_HANDOFF_POLL_SECONDS": "0.2",
    }
    registry = RegistryProcess(f"sqlite:///{work / 'registry.db'}", log_dir)
    console = actions = rasa = web = None
    stack: Optional[HandoffStack] = None
    try:
        console = ConsoleProcess(
            f"sqlite:///{work / 'console.db'}", tracker_url, log_dir, port=console_port, **console_env
        )
        for name, regions in (("casa", "casablanca-settat"), ("oriental", "oriental"), ("everywhere", "all")):
            console.cli("users", "add", name, "--role", "adviser", "--regions", regions, stdin=PASSWORD + "\n")
        actions = ActionServerProcess(
            registry.url,
            log_dir,
            env={
                "CONSOLE_URL": console.url,
                "HANDOFF_SERVICE_TOKEN": service_token,
                "REGISTRY_REFERENCE_TTL_SECONDS": "1",
            },
        )
        rasa = RasaProcess(MODEL, actions.url, tracker_url, log_dir, env, port=rasa_port, token=rasa_token)
        web = WebProcess(web_port, rasa.url, log_dir)
        stack = HandoffStack(registry, actions, rasa, console, graph, twilio, env, console_env, work, web)
        yield stack
    finally:
        # The console may have been restarted by a test (console_with): the one running now is stopped.
        for process in (web, rasa, actions, stack.console if stack else console, registry):
            if process is not None:
                process.stop()
        graph.stop()
        twilio.stop()


@contextmanager
def console_with(hs: HandoffStack, log_dir: Path, **env: str) -> Iterator[ConsoleProcess]:
    """The console restarted (same database, same port) with other settings, then as it was."""
    database = hs.console.env["CONSOLE_DATABASE_URL"]
    tracker = hs.console.env["TRACKER_STORE_URL"]

    def restart(settings: Dict[str, str]) -> ConsoleProcess:
        hs.console.stop()
        hs.console = ConsoleProcess(database, tracker, log_dir, existing_users=True, port=hs.console.port, **settings)
        return hs.console

    try:
        yield restart({**hs.console_env, **env})
    finally:
        restart(hs.console_env)


# --- the person -------------------------------------------------------------------------------------------
def new_phone() -> str:
    return "+2126" + str(uuid.uuid4().int)[:8]


def conversation_of(hs: HandoffStack, channel: str, phone: str) -> str:
    digits = re.sub(r"\D", "", phone)
    key = hs.env["TAWJIH_CONVERSATION_ID_KEY"].encode()
    return f"{channel}-{hmac.new(key, f'{channel}:{digits}'.encode(), hashlib.sha256).hexdigest()[:32]}"


def whatsapp_says(hs: HandoffStack, phone: str, text: str) -> None:
    whatsapp_sends(hs, phone, {"type": "text", "text": {"body": text}})


def whatsapp_sends(hs: HandoffStack, phone: str, content: Dict[str, Any]) -> None:
    """A signed delivery of one message (text, voice note, location...) as Meta sends it."""
    raw = json.dumps(meta_message(content, phone=phone.lstrip("+"))).encode()
    signature = "sha256=" + hmac.new(hs.env["WHATSAPP_APP_SECRET"].encode(), raw, hashlib.sha256).hexdigest()
    answer = requests.post(
        f"{hs.rasa.url}/webhooks/whatsapp/webhook",
        data=raw,
        headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature},
        timeout=10,
    )
    assert answer.status_code == 200


def twilio_says(hs: HandoffStack, phone: str, text: str) -> None:
    url = f"{hs.rasa.url}/webhooks/twilio_whatsapp/webhook"
    form = {"From": f"whatsapp:{phone}", "To": hs.env["TWILIO_WHATSAPP_NUMBER"], "Body": text,
            "MessageSid": "SM" + uuid.uuid4().hex, "NumMedia": "0"}  # fmt: skip
    signature = RequestValidator(hs.env["TWILIO_AUTH_TOKEN"]).compute_signature(url, form)
    answer = requests.post(url, data=form, headers={"X-Twilio-Signature": signature}, timeout=10)
    assert answer.status_code == 200


def whatsapp_turn(hs: HandoffStack, phone: str, text: str, replies: int = 1) -> List[Recorded]:
    """What the person's message got back: waits for ``replies`` sends to them, then for the turn to settle
    (as many sends to them as bot messages stored in their conversation: nothing more is on its way)."""
    mark = hs.graph.mark()
    whatsapp_says(hs, phone, text)
    hs.graph.wait_for(replies, since=mark, match=sent_to(phone))
    settle(hs, hs.graph, sent_to(phone), conversation_of(hs, "whatsapp", phone))
    return [r for r in hs.graph.requests[mark:] if sent_to(phone)(r)]


def settle(hs: HandoffStack, platform: RecordingServer, to: Callable[[Recorded], bool], conversation: str) -> None:
    wait_for(lambda: len([r for r in platform.requests if to(r)]) == len(tracker_bot_texts(hs, conversation)), 30)


def graph_text(request: Recorded) -> str:
    body = request.json()
    if body.get("type") == "text":
        return str(body["text"]["body"])
    if body.get("type") == "interactive":
        return str(body["interactive"]["body"]["text"])
    return ""


def sent_to(phone: str) -> Callable[[Recorded], bool]:
    return lambda request: request.json().get("to") == phone.lstrip("+")


def twilio_to(phone: str) -> Callable[[Recorded], bool]:
    return lambda request: request.form().get("To") == f"whatsapp:{phone}"


def wording(name: str, register: str, **values: str) -> str:
    text = str(response_variation(name, register)["text"])
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return text


def opening(text: str) -> str:
    """The fixed start of a response (before its first {variable})."""
    return text.split("{")[0].strip()


# --- the adviser ------------------------------------------------------------------------------------------
def adviser(hs: HandoffStack, name: str) -> Client:
    return hs.console.login(name)


def pseudonym(conversation_id: str) -> str:
    return hashlib.sha256(conversation_id.encode()).hexdigest()[:8]


def find_request(client: Client, conversation_id: str, status: str = "queued") -> Optional[Dict[str, Any]]:
    listed = client.get(f"/api/v1/handoffs?status={status}")
    assert listed.status_code == 200, listed.text
    items = listed.json()["data"]
    return next((item for item in items if item["conversation"] == pseudonym(conversation_id)), None)


def request_of(client: Client, conversation_id: str, status: str = "queued") -> Dict[str, Any]:
    found: Dict[str, Any] = {}

    def listed() -> bool:
        found.update(find_request(client, conversation_id, status) or {})
        return bool(found)

    wait_for(listed, timeout=30)
    return found


def messages_in(client: Client, handoff_id: int) -> List[Dict[str, Any]]:
    detail = client.get(f"/api/v1/handoffs/{handoff_id}")
    assert detail.status_code == 200, detail.text
    return [m for m in detail.json()["messages"] if m["direction"] == "in"]


def wait_for_message(client: Client, handoff_id: int, text: str) -> Dict[str, Any]:
    found: Dict[str, Any] = {}

    def arrived() -> bool:
        for message in messages_in(client, handoff_id):
            if text in (message["text"] or ""):
                found.update(message)
                return True
        return False

    wait_for(arrived, timeout=30)
    return found


def tracker_bot_texts(hs: HandoffStack, conversation_id: str) -> List[str]:
    with sqlite3.connect(hs.tracker_db) as db:
        rows = db.execute(
            "SELECT data FROM events WHERE sender_id = ? AND type_name = 'bot' ORDER BY id", (conversation_id,)
        ).fetchall()
    return [json.loads(row[0]).get("text") or "" for row in rows]


def make_old(hs: HandoffStack, conversation_id: str, hours: float) -> None:
    """The clock moved on: the person's messages were written ``hours`` ago (tracker store and console)."""
    shift = hours * 3600
    with sqlite3.connect(hs.tracker_db) as db:
        db.execute(
            "UPDATE events SET timestamp = timestamp - ?, "
            "data = json_set(data, '$.timestamp', json_extract(data, '$.timestamp') - ?) WHERE sender_id = ?",
            (shift, shift, conversation_id),
        )
    console_db = hs.console.env["CONSOLE_DATABASE_URL"][len("sqlite:///") :]
    with sqlite3.connect(console_db) as db:
        db.execute(
            "UPDATE handoffs SET last_inbound_at = last_inbound_at - ?, created_at = created_at - ? "
            "WHERE conversation_id = ?",
            (shift, shift, conversation_id),
        )


# --- the stories ----------------------------------------------------------------------------------------------
def test_whatsapp_a_person_is_answered_by_an_adviser_then_by_the_bot_again(hs: HandoffStack) -> None:
    phone, graph = new_phone(), hs.graph
    conversation = conversation_of(hs, "whatsapp", phone)
    whatsapp_turn(hs, phone, "salam")

    # The person asks in Darija (Latin letters) and is told what happens next, in Darija.
    (waiting,) = whatsapp_turn(hs, phone, "bghit nhder m3a chi wahed")
    assert graph_text(waiting).startswith(opening(wording("utter_handoff_waiting", "darija_latin")))
    assert "safi" in graph_text(waiting)

    # Every adviser may take a request from an unknown region; it shows with its summary.
    casa = adviser(hs, "casa")
    queued = request_of(casa, conversation)
    assert (queued["channel"], queued["register"], queued["region"]) == ("whatsapp", "darija_latin", None)
    assert phone.lstrip("+")[-6:] not in json.dumps(casa.get(f"/api/v1/handoffs/{queued['id']}").json())

    mark = graph.mark()
    taken = casa.post_json(f"/api/v1/handoffs/{queued['id']}/claim", {})
    assert taken.status_code == 200, taken.text
    told = graph.wait_for(1, since=mark, match=sent_to(phone))[0]
    assert graph_text(told) == wording("utter_handoff_taken", "darija_latin")

    # The adviser's reply reaches the person's WhatsApp, and is recorded as said by adviser <id>.
    mark = graph.mark()
    reply = casa.post_json(
        f"/api/v1/handoffs/{queued['id']}/messages", {"text": "Salam! Ana conseiller, kifach n3awnek?"}
    )
    assert reply.status_code == 200 and reply.json()["state"] == "sent", reply.text
    sent = graph.wait_for(1, since=mark, match=sent_to(phone))[0].json()
    assert sent["type"] == "text" and sent["text"]["body"] == "Salam! Ana conseiller, kifach n3awnek?"
    with sqlite3.connect(hs.tracker_db) as db:
        (data,) = db.execute(
            "SELECT data FROM events WHERE sender_id = ? AND type_name = 'bot' ORDER BY id DESC LIMIT 1",
            (conversation,),
        ).fetchone()
    recorded = json.loads(data)
    assert recorded["text"] == "Salam! Ana conseiller, kifach n3awnek?"
    assert isinstance(recorded["metadata"]["adviser_id"], int) and "casa" not in json.dumps(recorded["metadata"])

    # What the person writes goes to the adviser; nothing else answers, not even a typed /restart.
    settle(hs, graph, sent_to(phone), conversation)
    bot_said, mark = len(tracker_bot_texts(hs, conversation)), graph.mark()
    whatsapp_says(hs, phone, "wach khassni lbac bach ndkhol JobInTech?")
    wait_for_message(casa, queued["id"], "khassni lbac")
    whatsapp_says(hs, phone, "/restart")
    wait_for_message(casa, queued["id"], "restart")
    whatsapp_says(hs, phone, '/ask_programmes{"programme": "jobintech"}')
    wait_for_message(casa, queued["id"], "ask_programmes")
    # A voice note and a location reach the adviser as a note (never the coordinates), and nothing answers.
    whatsapp_sends(hs, phone, {"type": "audio", "audio": {"id": "media.1", "mime_type": "audio/ogg; codecs=opus"}})
    assert wait_for_message(casa, queued["id"], "note vocale")["kind"] == "voice"
    whatsapp_sends(hs, phone, {"type": "location", "location": {"latitude": 33.5731, "longitude": -7.5898}})
    assert wait_for_message(casa, queued["id"], "position partagée")["kind"] == "location"
    assert "33.57" not in json.dumps(casa.get(f"/api/v1/handoffs/{queued['id']}").json())
    assert [r for r in graph.requests[mark:] if sent_to(phone)(r)] == [], "the bot spoke during the handoff"
    assert len(tracker_bot_texts(hs, conversation)) == bot_said

    # The adviser closes; Tawjih says it is back, in Darija; the next message is answered by the bot, once.
    mark = graph.mark()
    closed = casa.post_json(f"/api/v1/handoffs/{queued['id']}/close", {"outcome": "answered"})
    assert closed.status_code == 200, closed.text
    back = graph.wait_for(1, since=mark, match=sent_to(phone))[0]
    assert graph_text(back) == wording("utter_handoff_closed", "darija_latin")
    answered = whatsapp_turn(hs, phone, "chokran bzaf")
    assert [graph_text(r) for r in answered] == [wording("utter_you_are_welcome", "darija_latin")]
    with sqlite3.connect(hs.tracker_db) as db:
        kept = db.execute(
            "SELECT COUNT(*) FROM channel_addresses WHERE conversation_id = ?", (conversation,)
        ).fetchone()
    assert kept == (0,), "the address outlived the handoff"


def test_whatsapp_outside_the_24_hour_window_only_the_template_goes_and_a_refusal_shows_as_failed(
    hs: HandoffStack,
) -> None:
    phone, graph = new_phone(), hs.graph
    conversation = conversation_of(hs, "whatsapp", phone)
    whatsapp_turn(hs, phone, "je veux parler à un conseiller", replies=2)  # the welcome, then the queue
    advisor = adviser(hs, "everywhere")
    queued = request_of(advisor, conversation)
    assert advisor.post_json(f"/api/v1/handoffs/{queued['id']}/claim", {}).status_code == 200
    settle(hs, graph, sent_to(phone), conversation)

    make_old(hs, conversation, hours=25)
    detail = advisor.get(f"/api/v1/handoffs/{queued['id']}").json()
    assert (detail["reply"]["can_reply"], detail["reply"]["why_not"]) == (False, "outside_window")
    assert detail["reply"]["templates"]
    mark = graph.mark()
    refused = advisor.post_json(f"/api/v1/handoffs/{queued['id']}/messages", {"text": "Bonjour, tu es là ?"})
    assert refused.status_code == 409, refused.text
    assert graph.mark() == mark  # nothing was sent that would show "sent" and never arrive

    template = advisor.post_json(f"/api/v1/handoffs/{queued['id']}/messages", {"template": "handoff"})
    assert template.status_code == 200 and template.json()["state"] == "sent", template.text
    sent = graph.wait_for(1, since=mark, match=sent_to(phone))[0].json()
    assert sent["type"] == "template" and sent["template"] == {"name": TEMPLATE, "language": {"code": "fr"}}

    # Meta refuses (re-engagement, 131047): the adviser sees "failed", never "sent"; a retry can go through.
    graph.fail_next(1, 400, {"error": {"code": 131047, "message": "Re-engagement message"}})
    failed = advisor.post_json(f"/api/v1/handoffs/{queued['id']}/messages", {"template": "handoff"})
    assert failed.status_code == 502, failed.text
    assert (failed.json()["state"], failed.json()["code"]) == ("failed", "131047")
    said = advisor.get(f"/api/v1/handoffs/{queued['id']}").json()["messages"]
    shown = [m for m in said if m["direction"] == "out" and m["author"]]
    assert [m["state"] for m in shown] == ["sent", "failed"]
    retried = advisor.post_json(f"/api/v1/handoffs/{queued['id']}/messages/{failed.json()['id']}/retry", {})
    assert retried.status_code == 200 and retried.json()["state"] == "sent", retried.text

    # The person answers the next day: Rasa starts a new session (an hour of silence ends one), and the
    # handoff goes on in it: the bot stays silent, the adviser reads the message and may write freely again.
    make_old(hs, conversation, hours=2)
    bot_said, mark = len(tracker_bot_texts(hs, conversation)), graph.mark()
    whatsapp_says(hs, phone, "oui je suis là, merci")
    wait_for_message(advisor, queued["id"], "je suis là")
    assert [r for r in graph.requests[mark:] if sent_to(phone)(r)] == []
    assert len(tracker_bot_texts(hs, conversation)) == bot_said
    assert advisor.get(f"/api/v1/handoffs/{queued['id']}").json()["reply"]["can_reply"] is True
    with sqlite3.connect(hs.tracker_db) as db:
        kinds = [
            row[0]
            for row in db.execute("SELECT type_name FROM events WHERE sender_id = ? ORDER BY id", (conversation,))
        ]
    assert kinds.count("session_started") == 2 and kinds[-1] == "user" and kinds[-2] == "pause"


def test_twilio_the_adviser_answers_and_the_person_ends_it_themselves(hs: HandoffStack) -> None:
    phone, twilio = new_phone(), hs.twilio
    conversation = conversation_of(hs, "twilio_whatsapp", phone)
    mark = twilio.mark()
    twilio_says(hs, phone, "السلام عليكم")
    twilio.wait_for(1, since=mark, match=twilio_to(phone))
    mark = twilio.mark()
    twilio_says(hs, phone, "بغيت نهضر مع شي واحد")
    waiting = twilio.wait_for(1, since=mark, match=twilio_to(phone))[0].form()
    assert waiting["Body"].startswith(opening(wording("utter_handoff_waiting", "darija_arabic")))

    advisor = adviser(hs, "everywhere")
    queued = request_of(advisor, conversation)
    assert queued["register"] == "darija_arabic"
    mark = twilio.mark()
    assert advisor.post_json(f"/api/v1/handoffs/{queued['id']}/claim", {}).status_code == 200
    twilio.wait_for(1, since=mark, match=twilio_to(phone))
    mark = twilio.mark()
    assert (
        advisor.post_json(f"/api/v1/handoffs/{queued['id']}/messages", {"text": "مرحبا، أنا مستشار"}).json()["state"]
        == "sent"
    )
    assert twilio.wait_for(1, since=mark, match=twilio_to(phone))[0].form()["Body"] == "مرحبا، أنا مستشار"

    # Twilio refuses (63016: outside the window): failed, with the code.
    twilio.fail_next(1, 400, {"code": 63016, "message": "Failed to send freeform message"})
    failed = advisor.post_json(f"/api/v1/handoffs/{queued['id']}/messages", {"text": "واش باقي معايا؟"})
    assert (failed.status_code, failed.json()["code"]) == (502, "63016"), failed.text

    # The template goes by its ContentSid.
    mark = twilio.mark()
    assert advisor.post_json(f"/api/v1/handoffs/{queued['id']}/messages", {"template": "handoff"}).status_code == 200
    assert twilio.wait_for(1, since=mark, match=twilio_to(phone))[0].form()["ContentSid"] == CONTENT_SID

    # The person ends it with "بلا": the bot says it is back, the console closes the request.
    mark = twilio.mark()
    twilio_says(hs, phone, "بلا")
    ended = twilio.wait_for(1, since=mark, match=twilio_to(phone))[0].form()
    assert ended["Body"] == wording("utter_handoff_ended", "darija_arabic")
    closed = request_of(advisor, conversation, status="closed")
    assert closed["outcome"] == "ended_by_person"
    mark = twilio.mark()
    twilio_says(hs, phone, "شكرا")
    assert twilio.wait_for(1, since=mark, match=twilio_to(phone))[0].form()["Body"] == wording(
        "utter_you_are_welcome", "darija_arabic"
    )
    with sqlite3.connect(hs.tracker_db) as db:
        kept = db.execute(
            "SELECT COUNT(*) FROM channel_addresses WHERE conversation_id = ?", (conversation,)
        ).fetchone()
    assert kept == (0,), "the address outlived the handoff"


def test_a_rest_conversation_is_told_the_truth_and_the_console_cannot_pretend_to_send(hs: HandoffStack) -> None:
    sender = f"rest-{uuid.uuid4().hex[:10]}"
    hs.rasa.say(sender, "bonjour")
    replies = hs.rasa.say(sender, "je veux parler à un conseiller")
    assert [r.get("text") for r in replies] == [wording("utter_handoff_channel_cannot_receive", "french")]
    advisor = adviser(hs, "everywhere")
    queued = request_of(advisor, sender)
    assert advisor.post_json(f"/api/v1/handoffs/{queued['id']}/claim", {}).status_code == 200
    reply = advisor.get(f"/api/v1/handoffs/{queued['id']}").json()["reply"]
    assert (reply["can_reply"], reply["why_not"]) == (False, "rest_channel")
    refused = advisor.post_json(f"/api/v1/handoffs/{queued['id']}/messages", {"text": "Bonjour"})
    assert refused.status_code == 409, refused.text
    # The bot goes on answering meanwhile.
    assert hs.rasa.say(sender, "merci")[0]["text"] == wording("utter_you_are_welcome", "french")


def test_a_casablanca_request_reaches_casablancas_adviser_only_and_one_of_two_gets_it(hs: HandoffStack) -> None:
    phone = new_phone()
    conversation = conversation_of(hs, "whatsapp", phone)
    whatsapp_turn(hs, phone, "salut")
    whatsapp_turn(hs, phone, "je cherche une formation à Casablanca")
    whatsapp_turn(hs, phone, "je veux parler à un conseiller")

    casa, oriental = adviser(hs, "casa"), adviser(hs, "oriental")
    queued = request_of(casa, conversation)
    assert (queued["region"], queued["city"]) == ("casablanca-settat", "Casablanca")
    assert find_request(oriental, conversation) is None
    assert oriental.get(f"/api/v1/handoffs/{queued['id']}").status_code in (403, 404)

    # Two advisers take it at the same moment: exactly one gets it.
    everywhere = adviser(hs, "everywhere")
    for client in (casa, everywhere):
        client.page("/handoffs")
    answers: List[int] = []
    start = threading.Barrier(2)

    def take(client: Client) -> None:
        start.wait()
        answers.append(client.post_json(f"/api/v1/handoffs/{queued['id']}/claim", {}).status_code)

    threads = [threading.Thread(target=take, args=(client,)) for client in (casa, everywhere)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(answers) == [200, 409]


def test_an_adviser_cannot_give_a_minor_a_phone_number_a_supervisor_can(hs: HandoffStack) -> None:
    phone, graph = new_phone(), hs.graph
    conversation = conversation_of(hs, "whatsapp", phone)
    whatsapp_turn(hs, phone, "je veux parler à un conseiller", replies=2)
    advisor = adviser(hs, "everywhere")
    queued = request_of(advisor, conversation)
    assert advisor.post_json(f"/api/v1/handoffs/{queued['id']}/claim", {}).status_code == 200
    settle(hs, graph, sent_to(phone), conversation)
    mark = graph.mark()
    for text in (
        "appelle-moi au 06 12 34 56 78",
        "écris à conseiller@gmail.com",
        "ajoute moi sur insta @tawjih.conseil",
    ):
        refused = advisor.post_json(f"/api/v1/handoffs/{queued['id']}/messages", {"text": text})
        assert refused.status_code == 422, refused.text
        assert refused.json()["detail"]
    assert graph.mark() == mark
    supervisor = hs.console.login("supervisor")
    allowed = supervisor.post_json(
        f"/api/v1/handoffs/{queued['id']}/messages", {"text": "Le centre de Casablanca : 05 22 00 00 00"}
    )
    assert allowed.status_code == 200, allowed.text


def test_a_distress_message_makes_the_request_urgent(hs: HandoffStack) -> None:
    phone = new_phone()
    conversation = conversation_of(hs, "whatsapp", phone)
    whatsapp_turn(hs, phone, "bghit nhder m3a chi wahed", replies=2)
    advisor = adviser(hs, "everywhere")
    queued = request_of(advisor, conversation)
    assert queued["urgent"] is False
    whatsapp_says(hs, phone, "ma bghitch n3ich, kolchi kaydrebni f dar")
    wait_for(lambda: (find_request(advisor, conversation) or {}).get("urgent") is True, timeout=30)
    items = advisor.get("/api/v1/handoffs?status=queued").json()["data"]
    assert items[0]["conversation"] == pseudonym(conversation)


def test_outside_opening_hours_the_person_leaves_a_question_and_the_bot_is_back(
    hs: HandoffStack, log_dir: Path
) -> None:
    today = dt.datetime.now(CASABLANCA).date()
    phone = new_phone()
    conversation = conversation_of(hs, "whatsapp", phone)
    with console_with(hs, log_dir, HANDOFF_HOLIDAYS=today.isoformat()):
        told = whatsapp_turn(hs, phone, "je veux parler à un conseiller", replies=2)[-1]
        assert graph_text(told) == wording("utter_handoff_off_hours", "french", when="demain à 00:00")
        (noted,) = whatsapp_turn(hs, phone, "est-ce que JobInTech est gratuit pour un bac+2 ?")
        assert graph_text(noted) == wording("utter_handoff_question_left", "french", when="demain à 00:00")
        advisor = adviser(hs, "everywhere")
        queued = request_of(advisor, conversation)
        assert queued["within_hours"] is False
        wait_for_message(advisor, queued["id"], "JobInTech est gratuit")
        (welcome,) = whatsapp_turn(hs, phone, "merci")
        assert graph_text(welcome) == wording("utter_you_are_welcome", "french")


def test_nobody_answers_in_time_the_person_is_told_and_the_request_stays_queued(
    hs: HandoffStack, log_dir: Path
) -> None:
    phone, graph = new_phone(), hs.graph
    conversation = conversation_of(hs, "whatsapp", phone)
    with console_with(hs, log_dir, HANDOFF_WAIT_MINUTES="0.02"):
        sent = whatsapp_turn(hs, phone, "je veux parler à un conseiller", replies=3)  # welcome, queue, nobody came
        assert graph_text(sent[-1]) == wording("utter_handoff_timeout", "french")
        advisor = adviser(hs, "everywhere")
        queued = request_of(advisor, conversation)
        assert queued["timed_out"] is True and queued["status"] == "queued"
        (welcome,) = whatsapp_turn(hs, phone, "merci")
        assert graph_text(welcome) == wording("utter_you_are_welcome", "french")
        # An adviser takes it later: the person is told, and the bot steps back again.
        mark = graph.mark()
        assert advisor.post_json(f"/api/v1/handoffs/{queued['id']}/claim", {}).status_code == 200
        assert graph_text(graph.wait_for(1, since=mark, match=sent_to(phone))[0]) == wording(
            "utter_handoff_taken", "french"
        )


def test_a_person_who_erases_their_conversation_leaves_the_inbox(hs: HandoffStack) -> None:
    phone, graph = new_phone(), hs.graph
    conversation = conversation_of(hs, "whatsapp", phone)
    whatsapp_turn(hs, phone, "bghit nhder m3a chi wahed", replies=2)
    advisor = adviser(hs, "everywhere")
    queued = request_of(advisor, conversation)
    (ended,) = whatsapp_turn(hs, phone, "safi")
    assert graph_text(ended) == wording("utter_handoff_ended", "darija_latin")
    whatsapp_turn(hs, phone, "bghit tmse7o ga3 les données dyali")
    mark = graph.mark()
    whatsapp_says(hs, phone, "ah")
    graph.wait_for(1, since=mark, match=sent_to(phone))
    wait_for(lambda: advisor.get(f"/api/v1/handoffs/{queued['id']}").status_code == 404, timeout=30)
    assert find_request(advisor, conversation, status="closed") is None


# --- the web chat, both sides in Debian's Chromium ----------------------------------------------------------------
SCREENSHOTS = ROOT / "results" / "screenshots"


def shot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    page.screenshot(path=str(path), full_page=True)
    return path


def test_web_chat_the_whole_round_trip_in_two_browsers(hs: HandoffStack) -> None:
    from playwright.sync_api import expect, sync_playwright

    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("Debian's chromium is needed for the browser tests: `make browser` installs it.")
    errors: List[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            person = browser.new_context(viewport={"width": 900, "height": 900}, locale="fr-MA").new_page()
            desk = browser.new_context(viewport={"width": 1280, "height": 1000}, locale="fr-MA").new_page()
            for page in (person, desk):
                page.on("pageerror", lambda error: errors.append(str(error)))
            bot = person.locator("#chat-log li.message.bot")
            adviser_said = person.locator("#chat-log li.message.adviser")

            def say(text: str) -> None:
                person.get_by_label("Ton message").fill(text)
                person.keyboard.press("Enter")

            # The adviser (Casablanca-Settat) has the inbox open.
            desk.goto(hs.console.url + "/handoffs")
            desk.get_by_label("Nom d'utilisateur").fill("casa")
            desk.get_by_label("Mot de passe").fill(PASSWORD)
            desk.get_by_role("button", name="Se connecter").click()
            expect(desk.locator("#inbox")).to_have_attribute("data-loaded", "true")
            expect(desk.locator("#live-status")).to_have_class(re.compile(r"\bok\b"))

            # The person, in Darija, in the widget, says where they are and asks for someone.
            person.goto(hs.web.url)
            say("salam, ana mn casa")
            expect(bot.first).to_be_visible()
            shown = bot.count()
            say("bghit nhder m3a chi wahed")
            expect(bot.nth(shown)).to_contain_text(opening(wording("utter_handoff_waiting", "darija_latin")))
            conversation = str(person.evaluate("() => sessionStorage.getItem('tawjih.session')"))

            # It appears in the adviser's inbox without a reload, with its summary; the title says so.
            casa = adviser(hs, "casa")
            queued = request_of(casa, conversation)
            card = desk.locator(f'li.request[data-handoff-id="{queued["id"]}"]')
            expect(card).to_be_visible()
            expect(card).to_contain_text("Casablanca")
            expect(desk).to_have_title(re.compile(r"^\(\d+\) Boîte de réception"))
            shot(desk, "handoff-adviser-inbox.png")

            # The adviser takes it and answers; the person's widget shows the adviser's message as theirs.
            desk.goto(f"{hs.console.url}/handoffs/{queued['id']}")
            expect(desk.locator("#handoff")).to_have_attribute("data-loaded", "true")
            desk.get_by_role("button", name="Prendre en charge").click()
            expect(desk.locator("#action-outcome")).to_contain_text("Tu as pris la demande en charge")
            expect(bot.last).to_contain_text(wording("utter_handoff_taken", "darija_latin"))
            desk.get_by_label("Réponse à la personne").fill("Salam! Ana conseillère f Tawjih. Kifach n3awnek?")
            desk.get_by_role("button", name="Envoyer", exact=True).click()
            expect(
                desk.locator("#messages li.turn.out", has_text="conseillère f Tawjih").locator(".delivery")
            ).to_have_text("envoyé")
            expect(adviser_said.last).to_contain_text("Ana conseillère f Tawjih")

            # The person writes; the adviser sees it live; the bot stays silent, also after a typed /restart.
            bot_count = bot.count()
            say("wach khassni lbac bach ndkhol l Digital Offshoring?")
            expect(desk.locator("#messages li.turn.in", has_text="khassni lbac")).to_be_visible()
            say("/restart")
            expect(desk.locator("#messages li.turn.in", has_text="restart")).to_be_visible()
            expect(person.locator("#chat-status")).not_to_contain_text("met du temps")
            assert bot.count() == bot_count
            assert len(tracker_bot_texts(hs, conversation)) == bot_count + 1  # the bot's, and the adviser's one
            desk.get_by_label("Réponse à la personne").fill("Ah, khassek lbac. Ghadi nsift lik les centres f casa.")
            desk.get_by_role("button", name="Envoyer", exact=True).click()
            expect(adviser_said.last).to_contain_text("khassek lbac")
            shot(person, "handoff-person-widget-with-adviser.png")
            shot(desk, "handoff-adviser-conversation.png")

            # The adviser closes: Tawjih says it is back, and answers the next message, once.
            desk.get_by_label("répondu").check()
            desk.get_by_role("button", name="Clôturer").click()
            expect(desk.locator("#action-outcome")).to_contain_text("Conversation clôturée")
            expect(bot.last).to_contain_text(wording("utter_handoff_closed", "darija_latin"))
            after_close = bot.count()
            say("chokran bzaf")
            expect(bot.nth(after_close)).to_have_text(f"Tawjih : {wording('utter_you_are_welcome', 'darija_latin')}")
            settle_web = len(tracker_bot_texts(hs, conversation))
            assert bot.count() + adviser_said.count() == settle_web
            shot(person, "handoff-person-widget-bot-back.png")
        finally:
            browser.close()
    assert errors == []


def test_a_person_who_closed_their_chat_tab_can_still_be_taken_and_closed(hs: HandoffStack) -> None:
    from playwright.sync_api import expect, sync_playwright

    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("Debian's chromium is needed for the browser tests: `make browser` installs it.")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            tab = browser.new_context(locale="fr-MA")
            person = tab.new_page()
            person.goto(hs.web.url)
            person.get_by_label("Ton message").fill("je veux parler à un conseiller")
            person.keyboard.press("Enter")
            expect(person.locator("#chat-log li.message.bot").last).to_contain_text(
                opening(wording("utter_handoff_waiting", "french"))
            )
            conversation = str(person.evaluate("() => sessionStorage.getItem('tawjih.session')"))
            tab.close()  # the person leaves; the widget's conversation lives in that tab only
        finally:
            browser.close()
    advisor = adviser(hs, "everywhere")
    queued = request_of(advisor, conversation)
    taken = advisor.post_json(f"/api/v1/handoffs/{queued['id']}/claim", {})
    assert taken.status_code == 200, taken.text
    assert (taken.json()["person_told"], taken.json()["not_told_reason"]) == (False, "not_connected")
    reply = advisor.post_json(f"/api/v1/handoffs/{queued['id']}/messages", {"text": "Bonjour, tu es là ?"})
    assert (reply.status_code, reply.json()["reason"]) == (502, "not_connected")
    closed = advisor.post_json(f"/api/v1/handoffs/{queued['id']}/close", {"outcome": "no_reply"})
    assert closed.status_code == 200 and closed.json()["person_told"] is False, closed.text
    # Rasa knows it is over: a message from that conversation (a tab come back) is the bot's again.
    with sqlite3.connect(hs.tracker_db) as db:
        kinds = [
            row[0]
            for row in db.execute("SELECT type_name FROM events WHERE sender_id = ? ORDER BY id", (conversation,))
        ]
    assert kinds[-3:] == ["slot", "slot", "action"] and "resume" in kinds[-8:]
    assert "Bonjour, tu es là ?" not in tracker_bot_texts(hs, conversation)  # never shown as said


def test_whatsapp_a_request_taken_after_24_hours_gets_the_template_and_can_be_closed(hs: HandoffStack) -> None:
    phone, graph = new_phone(), hs.graph
    conversation = conversation_of(hs, "whatsapp", phone)
    whatsapp_turn(hs, phone, "je veux parler à un conseiller", replies=2)
    advisor = adviser(hs, "everywhere")
    queued = request_of(advisor, conversation)
    make_old(hs, conversation, hours=30)

    # Nobody took it in time: the console's watcher tells the person so. That starts a new conversation session
    # (the last one ended 30 hours ago), in which the person has written nothing yet.
    def timed_out() -> bool:
        with sqlite3.connect(hs.tracker_db) as db:
            return db.execute(
                "SELECT COUNT(*) FROM events WHERE sender_id = ? AND action_name = ?",
                (conversation, "action_handoff_timeout"),
            ).fetchone() == (1,)

    wait_for(timed_out, timeout=30)
    refused = {"error": {"code": 131047, "message": "Re-engagement message"}}
    # Meta refuses the free-text "an adviser is here" (the watcher's notice went before: it must not take the
    # failure). The notice is still sent where the person asked, though their message is in the earlier session.
    taken_notice = wording("utter_handoff_taken", "french")

    def the_taken_notice(request: Recorded) -> bool:
        return sent_to(phone)(request) and graph_text(request) == taken_notice

    graph.fail_next(1, 400, refused, match=the_taken_notice)
    taken = advisor.post_json(f"/api/v1/handoffs/{queued['id']}/claim", {})
    assert taken.status_code == 200, taken.text
    assert (taken.json()["person_told"], taken.json()["not_told_code"]) == (False, "131047")
    assert advisor.get(f"/api/v1/handoffs/{queued['id']}").json()["reply"]["templates"] == ["handoff"]
    mark = graph.mark()
    assert advisor.post_json(f"/api/v1/handoffs/{queued['id']}/messages", {"template": "handoff"}).status_code == 200
    assert graph.wait_for(1, since=mark, match=sent_to(phone))[0].json()["type"] == "template"
    graph.fail_next(1, 400, refused)
    closed = advisor.post_json(f"/api/v1/handoffs/{queued['id']}/close", {"outcome": "no_reply"})
    assert closed.status_code == 200 and closed.json()["person_told"] is False, closed.text
    with sqlite3.connect(hs.tracker_db) as db:
        kept = db.execute(
            "SELECT COUNT(*) FROM channel_addresses WHERE conversation_id = ?", (conversation,)
        ).fetchone()
    assert kept == (0,), "the address outlived the handoff"


def test_a_typed_number_answers_the_adviser_and_does_not_press_an_old_button(hs: HandoffStack) -> None:
    phone, graph = new_phone(), hs.graph
    conversation = conversation_of(hs, "whatsapp", phone)
    whatsapp_turn(hs, phone, "je veux parler à un conseiller", replies=2)  # the queue message has the end button
    advisor = adviser(hs, "everywhere")
    queued = request_of(advisor, conversation)
    assert advisor.post_json(f"/api/v1/handoffs/{queued['id']}/claim", {}).status_code == 200
    question = {"text": "Tu préfères Casablanca (réponds 1) ou Rabat (réponds 2) ?"}
    assert advisor.post_json(f"/api/v1/handoffs/{queued['id']}/messages", question).status_code == 200
    settle(hs, graph, sent_to(phone), conversation)
    mark = graph.mark()
    whatsapp_says(hs, phone, "1")
    wait_for_message(advisor, queued["id"], "1")
    assert [r for r in graph.requests[mark:] if sent_to(phone)(r)] == []
    assert find_request(advisor, conversation, status="assigned") is not None
