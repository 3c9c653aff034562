"""A real console process (``python -m console serve``) on loopback, reading a tracker store whose events were
written by Rasa's own SQLTrackerStore, on SQLite and (with TAWJIH_TEST_DATABASE_URL) PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import subprocess
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
import requests
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from tests.conftest import POSTGRES_URL
from tests.support.processes import ROOT, VENV_BIN, ManagedProcess, free_port, http_ok

DOMAIN = Domain.load(str(ROOT / "domain.yml"))
PASSWORD = "correct horse battery staple"
DAY = 86400.0


class ConsoleProcess(ManagedProcess):
    """``python -m console serve`` with its own database and secrets, and a user per role (the adviser
    answers Casablanca-Settat's requests). Rasa's URL is a port where nothing listens unless ``RASA_URL`` is
    given: the console must say honestly that it could not reach it."""

    def __init__(
        self,
        database_url: str,
        tracker_store_url: str,
        log_dir: Path,
        existing_users: bool = False,
        port: Optional[int] = None,
        **env: str,
    ) -> None:
        # A port chosen beforehand: the action server, started first, is told where the console is.
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.service_token = secrets.token_urlsafe(24)
        self.rasa_token = secrets.token_urlsafe(24)
        self.env = {
            "CONSOLE_PORT": str(self.port),
            "CONSOLE_DATABASE_URL": database_url,
            "TRACKER_STORE_URL": tracker_store_url,
            "CONSOLE_SECRET_KEY": secrets.token_urlsafe(32),
            "CONSOLE_RECONCILE_SECONDS": "0.5",
            "CONSOLE_LOGIN_MAX_FAILURES": "5",
            "CONSOLE_LOGIN_SLOW_AFTER": "3",
            "RASA_URL": f"http://127.0.0.1:{free_port()}",
            "RASA_AUTH_TOKEN": self.rasa_token,
            "HANDOFF_SERVICE_TOKEN": self.service_token,
            "CONSOLE_HANDOFF_POLL_SECONDS": "0.2",
            **env,
        }
        self.rasa_token = self.env["RASA_AUTH_TOKEN"]
        self.service_token = self.env["HANDOFF_SERVICE_TOKEN"]
        for role in ("reviewer", "supervisor", "admin"):
            if not existing_users:
                self.cli("users", "add", role, "--role", role, stdin=PASSWORD + "\n")
        if not existing_users:
            self.cli(
                "users", "add", "adviser", "--role", "adviser", "--regions", "casablanca-settat", stdin=PASSWORD + "\n"
            )
        super().__init__(
            f"console-{self.port}", [str(VENV_BIN / "python"), "-m", "console", "serve"], self.env, log_dir
        )
        self.wait_until(http_ok(f"{self.url}/health"), timeout=120)

    def cli(self, *args: str, stdin: str = "", check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [str(VENV_BIN / "python"), "-m", "console", *args],
            cwd=ROOT,
            env={**_base_env(), **self.env},
            input=stdin,
            capture_output=True,
            text=True,
            timeout=180,
        )
        if check and done.returncode != 0:
            raise RuntimeError(f"console {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done

    def ask_for_adviser(self, body: Dict[str, object], token: Optional[str] = None) -> requests.Response:
        """What the action server sends when a person asks for an adviser."""
        return requests.post(
            f"{self.url}/internal/v1/handoffs",
            json=body,
            headers={"Authorization": f"Bearer {self.service_token if token is None else token}"},
            timeout=30,
        )

    def login(self, role: str, password: str = PASSWORD) -> "Client":
        client = Client(self.url)
        response = client.login(role, password)
        assert response.status_code == 303, response.text[:500]
        return client


def _base_env() -> Dict[str, str]:
    import os

    return {**os.environ, "RASA_TELEMETRY_ENABLED": "false"}


CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


class Client:
    """A browser-like HTTP client: keeps the cookie and the page's CSRF token."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = requests.Session()
        self.csrf: Optional[str] = None

    def page(self, path: str, **kwargs: object) -> requests.Response:
        response = self.http.get(self.url + path, allow_redirects=False, timeout=30, **kwargs)  # type: ignore[arg-type]
        found = CSRF_META.search(response.text)
        if found:
            self.csrf = found.group(1)
        return response

    def login(self, username: str, password: str) -> requests.Response:
        self.page("/login")
        response = self.http.post(
            self.url + "/login",
            data={"username": username, "password": password, "csrf_token": self.csrf or ""},
            allow_redirects=False,
            timeout=30,
        )
        self.csrf = None  # a new token comes with the login
        return response

    def get(self, path: str, **kwargs: object) -> requests.Response:
        return self.http.get(self.url + path, allow_redirects=False, timeout=30, **kwargs)  # type: ignore[arg-type]

    def post_json(self, path: str, body: object, csrf: bool = True) -> requests.Response:
        if self.csrf is None:
            self.page("/conversations")
        headers = {"X-CSRF-Token": self.csrf or ""} if csrf else {}
        return self.http.post(self.url + path, json=body, headers=headers, allow_redirects=False, timeout=30)

    def post_form(self, path: str, data: Dict[str, str], csrf: bool = True) -> requests.Response:
        if self.csrf is None:
            self.page("/conversations")
        form = {**data, "csrf_token": self.csrf or ""} if csrf else data
        return self.http.post(self.url + path, data=form, allow_redirects=False, timeout=30)


# --- conversations, written by Rasa's own tracker store -------------------------------------------------------
def user(
    text: str,
    intent: str,
    at: float,
    channel: str,
    register: str,
    entities: Optional[List[dict]] = None,
    confidence: float = 0.93,
) -> UserUttered:
    found = [{"entity": "register", "value": register, "start": 0, "end": len(text), "extractor": "RegisterDetector"}]
    found += entities or []
    return UserUttered(
        text,
        {"name": intent, "confidence": confidence},
        found,
        timestamp=at,
        input_channel=channel,
    )


def session_start(at: float) -> List[Event]:
    return [
        ActionExecuted("action_session_start", timestamp=at),
        SessionStarted(timestamp=at + 0.01),
        ActionExecuted("action_listen", timestamp=at + 0.02),
    ]


def turn(
    text: str,
    intent: str,
    at: float,
    channel: str,
    register: str,
    action: str,
    reply: str,
    buttons: Optional[List[dict]] = None,
    entities: Optional[List[dict]] = None,
) -> List[Event]:
    return [
        user(text, intent, at, channel, register, entities),
        SlotSet("register", register, timestamp=at + 0.1),
        ActionExecuted(action, timestamp=at + 0.5),
        BotUttered(reply, {"buttons": buttons} if buttons else {}, timestamp=at + 0.6),
        ActionExecuted("action_listen", timestamp=at + 0.7),
    ]


@dataclass
class Seeded:
    """Who is in the tracker store, by role in the tests."""

    senders: Dict[str, str]
    now: float


PHONE = "06 12 34 56 78"
EMAIL = "karim.benali@example.com"
CIN = "AB123456"
XSS = "<img src=x onerror=alert(1)>"
FORMULA = "=1+1+cmd|' /C calc'!A0"


def conversations(now: float) -> Dict[str, List[Event]]:
    t = now - 3600 * 5
    return {
        "french_pii": session_start(t)
        + turn("Bonjour", "greet", t + 1, "rest", "french", "action_welcome", "Bonjour ! Je suis Tawjih.")
        + turn(
            f"je m'appelle Karim Benali, mon numéro est {PHONE}, mon mail {EMAIL} et ma CIN {CIN}",
            "inform",
            t + 30,
            "rest",
            "french",
            "action_acknowledge_inform",
            "Merci, noté.",
        )
        + turn(
            "Quelles formations proposez-vous ?",
            "ask_programmes",
            t + 60,
            "rest",
            "french",
            "action_list_programmes",
            "Voici les formations disponibles :",
            buttons=[
                {"title": "Digital-Offshoring", "payload": '/ask_programme_details{"programme": "digital-offshoring"}'}
            ],
        ),
        "darija_latin_fallback": session_start(t + 100)
        + turn("salam", "greet", t + 101, "socketio", "darija_latin", "action_welcome", "Salam! Ana Tawjih.")
        + turn("blablabla xyz", "nlu_fallback", t + 120, "socketio", "darija_latin", "action_fallback", "Ma fhamtch.")
        + turn(
            "bghit nhder m3a chi wahed",
            "request_human",
            t + 140,
            "socketio",
            "darija_latin",
            "utter_handoff",
            "Ghadi ntwasel m3ak.",
        ),
        "darija_arabic_verdict": session_start(t + 200)
        + turn(
            "واش خاصني الباك؟",
            "ask_eligibility",
            t + 201,
            "whatsapp",
            "darija_arabic",
            "eligibility_form",
            "شحال فعمرك؟",
        )
        + [ActiveLoop("eligibility_form", timestamp=t + 201.7)]
        + turn(
            "عندي 20 عام",
            "inform",
            t + 220,
            "whatsapp",
            "darija_arabic",
            "action_eligibility_verdict",
            "تقدر تسجل.",
            entities=[{"entity": "age", "value": 20, "start": 5, "end": 7}],
        )
        + [ActiveLoop(None, timestamp=t + 221)],
        "hostile": session_start(t + 300)
        + turn(XSS, "nlu_fallback", t + 301, "rest", "french", "action_fallback", "Je n'ai pas compris.")
        + turn(FORMULA, "nlu_fallback", t + 320, "rest", "french", "action_fallback", "Je n'ai pas compris."),
        "two_sessions": session_start(now - 2 * DAY)
        + turn("c'est combien ?", "ask_cost", now - 2 * DAY + 1, "rest", "french", "action_cost", "C'est gratuit.")
        + session_start(now - 3600)
        + turn(
            "et les centres ?",
            "ask_centres",
            now - 3600 + 1,
            "rest",
            "french",
            "action_list_centres",
            "Voici les centres.",
        ),
        "bystander": session_start(t + 400)
        + turn("merci", "thank", t + 401, "rest", "french", "utter_thank", "Avec plaisir."),
    }


def save_conversations(tracker_store_url: str, events_by_name: Dict[str, List[Event]], prefix: str) -> Dict[str, str]:
    store = SQLTrackerStore(domain=DOMAIN, host=tracker_store_url)
    senders = {}
    try:
        for name, events in events_by_name.items():
            sender = f"{prefix}-{name}-{secrets.token_hex(4)}"
            senders[name] = sender
            tracker = DialogueStateTracker.from_events(sender, events, slots=DOMAIN.slots)
            asyncio.run(store.save(tracker))
    finally:
        store.engine.dispose()
    return senders


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@dataclass
class Setup:
    console: ConsoleProcess
    tracker_store_url: str
    database_url: str
    seeded: Seeded


@pytest.fixture(scope="module")
def setup(backend: str, tmp_path_factory: pytest.TempPathFactory, log_dir: Path) -> Iterator[Setup]:
    if backend == "sqlite":
        work = tmp_path_factory.mktemp("console")
        tracker_url = f"sqlite:///{work / 'tracker.db'}"
        database_url = f"sqlite:///{work / 'console.db'}"
    else:
        tracker_url, database_url = throwaway_schema("tracker"), throwaway_schema("console")
    now = time.time()
    senders = save_conversations(tracker_url, conversations(now), "c")
    process = ConsoleProcess(database_url, tracker_url, log_dir)
    try:
        yield Setup(process, tracker_url, database_url, Seeded(senders, now))
    finally:
        process.stop()
        if backend == "postgresql":
            drop_schemas()


_SCHEMAS: List[str] = []


def throwaway_schema(purpose: str) -> str:
    """A schema of its own in the PostgreSQL test database (the tracker store and the console apart from
    the other tests'), dropped by ``drop_schemas``."""
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL console tests need TAWJIH_TEST_DATABASE_URL (set by .ci/run)")
    import psycopg2

    schema = f"tawjih_console_{purpose}_{secrets.token_hex(5)}"
    with psycopg2.connect(POSTGRES_URL) as connection, connection.cursor() as cursor:
        cursor.execute(f'CREATE SCHEMA "{schema}"')
    _SCHEMAS.append(schema)
    separator = "&" if "?" in POSTGRES_URL else "?"
    return f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"


def drop_schemas() -> None:
    import psycopg2

    connection = psycopg2.connect(POSTGRES_URL)
    connection.autocommit = True
    with connection.cursor() as cursor:
        while _SCHEMAS:
            cursor.execute(f'DROP SCHEMA "{_SCHEMAS.pop()}" CASCADE')
    connection.close()


@pytest.fixture(scope="module")
def console(setup: Setup) -> ConsoleProcess:
    return setup.console


@pytest.fixture
def reviewer(console: ConsoleProcess) -> Client:
    return console.login("reviewer")


@pytest.fixture
def supervisor(console: ConsoleProcess) -> Client:
    return console.login("supervisor")


@pytest.fixture
def admin(console: ConsoleProcess) -> Client:
    return console.login("admin")


def console_today() -> str:
    """Today's date where the console counts its days (CONSOLE_TIMEZONE, Africa/Casablanca by default):
    from 23:00 UTC it is already tomorrow there."""
    import datetime
    from zoneinfo import ZoneInfo

    return datetime.datetime.now(ZoneInfo("Africa/Casablanca")).strftime("%Y-%m-%d")


def wait_for(predicate, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError("condition not met in time")


def append_events(tracker_store_url: str, sender: str, events: List[Event]) -> None:
    """New events of an existing conversation, stored by Rasa's own tracker store as Rasa stores a turn."""
    store = SQLTrackerStore(domain=DOMAIN, host=tracker_store_url)
    try:
        tracker = asyncio.run(store.retrieve(sender))
        assert tracker is not None, "no such conversation"
        for event in events:
            tracker.update(event)
        asyncio.run(store.save(tracker))
    finally:
        store.engine.dispose()


class RasaStandIn:
    """Rasa's HTTP API as the console uses it, on loopback: records each call (the token checked, never kept),
    answers 200, or what ``answer`` says for the next calls; ``stop_listening`` leaves the port with nobody on
    it and ``listen`` comes back on the same port."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.calls: List[Dict[str, object]] = []
        self.answer: Optional[Tuple[int, Dict[str, object]]] = None
        self._lock = threading.Lock()
        self._server: Optional[ThreadingHTTPServer] = None
        self.listen()

    def listen(self) -> None:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                url = urlsplit(self.path)
                params = {k: v[0] for k, v in parse_qs(url.query).items()}
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"null")
                if params.pop("token", None) != stand_in.token:
                    self._reply(401, {"message": "bad token"})
                    return
                with stand_in._lock:
                    stand_in.calls.append({"path": unquote(url.path), "params": params, "body": body})
                    status, answer = stand_in.answer or (200, {})
                self._reply(status, answer)

            def _reply(self, status: int, body: Dict[str, object]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop_listening(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def calls_to(self, conversation_id: str) -> List[Dict[str, object]]:
        with self._lock:
            return [c for c in self.calls if f"/conversations/{conversation_id}/" in str(c["path"])]


@dataclass
class HandoffSetup:
    console: ConsoleProcess
    rasa: RasaStandIn
    tracker_store_url: str
    senders: Dict[str, str]


def handoff_conversations(now: float) -> Dict[str, List[Event]]:
    """People who asked for an adviser, one per case, in the three registers and on each channel."""
    t = now - 600
    asked = {
        "casablanca": ("bghit nhder m3a chi wahed", "socketio", "darija_latin"),
        "oujda": ("je veux parler à un conseiller", "whatsapp", "french"),
        "nowhere": ("بغيت نهضر مع شي واحد", "twilio_whatsapp", "darija_arabic"),
        "rest": ("je veux parler à quelqu'un", "rest", "french"),
        "race": ("je veux un conseiller", "socketio", "french"),
        "watched": ("bghit conseiller", "socketio", "darija_latin"),
        "urgent": ("je veux parler à quelqu'un", "socketio", "french"),
        "erased": ("bghit nhder m3a chi wahed", "socketio", "darija_latin"),
        "ended": ("je veux parler à quelqu'un", "socketio", "french"),
        "restart": ("je veux parler à quelqu'un", "socketio", "french"),
        "timeout": ("je veux parler à quelqu'un", "socketio", "french"),
        "closing": ("je veux parler à quelqu'un", "socketio", "french"),
        "failing": ("je veux parler à quelqu'un", "whatsapp", "french"),
        "stale": ("je veux parler à quelqu'un", "whatsapp", "french"),
        "transfer": ("je veux parler à quelqu'un", "socketio", "french"),
        "stream": ("je veux parler à quelqu'un", "twilio_whatsapp", "french"),
        "distress": ("3afak bghit nhder m3a chi wahed, bghit nmout", "socketio", "darija_latin"),
    }
    found: Dict[str, List[Event]] = {}
    for offset, (name, (text, channel, register)) in enumerate(asked.items()):
        at = t + offset
        found[name] = session_start(at) + turn(
            text, "request_human", at + 1, channel, register, "action_request_adviser", "Un conseiller arrive."
        )
    return found
