"""The advisers' inbox in a real headless Chromium (Debian's package) against a real console process.

A request made after the inbox is open appears without reloading, with its masked summary, and only in its
region's inbox; taking it while Rasa cannot be reached says that the person was not told and leaves it queued.
With Rasa answering (a stand-in on the address the console was given), a note shows as a note, a reply with a
phone number is refused with the reason, a reply the person's channel refuses shows as failed with a retry, and
one that goes out shows as sent. The round trip with the real Rasa and the person's widget is the e2e test's."""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, TypeVar

import pytest
import requests
import sqlalchemy as sa
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect, sync_playwright
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import UserUttered

from tests.console.conftest import (
    DOMAIN,
    PASSWORD,
    Client,
    ConsoleProcess,
    save_conversations,
    session_start,
    turn,
)
from tests.support.processes import ROOT, VENV_BIN, ManagedProcess, free_port, http_ok

T = TypeVar("T")
SCREENSHOTS = ROOT / "results" / "screenshots"
SERVICE_TOKEN = secrets.token_urlsafe(24)
PHONE = "06 12 34 56 78"
INBOX_TITLE = "Boîte de réception — Tawjih console"
UNSEEN_TITLE = re.compile(r"^\((\d+)\) Boîte de réception — Tawjih console$")


class RasaStandIn:
    """Rasa's HTTP API as the console calls it, on an address fixed before anything listens there: until
    ``start`` the connection is refused (Rasa unreachable). A message containing ``HORS-LIGNE`` is refused the way
    Rasa answers when the web-chat person has gone (``delivery_failed:not_connected:``)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.calls: List[Dict[str, Any]] = []
        self.server: Optional[ThreadingHTTPServer] = None

    def start(self) -> None:
        calls = self.calls

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"null")
                calls.append({"path": self.path.split("?")[0], "body": body})
                refused = "HORS-LIGNE" in json.dumps(body, ensure_ascii=False)
                answer: Dict[str, Any] = (
                    {"status": "failure", "message": "delivery_failed:not_connected:", "code": 500}
                    if refused
                    else {"tracker": {}, "messages": []}
                )
                data = json.dumps(answer).encode()
                self.send_response(500 if refused else 200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def sent_texts(self) -> List[str]:
        return [
            str(event.get("text"))
            for call in self.calls
            if call["path"].endswith("/tracker/events")
            for event in call["body"]
        ]


@dataclass
class Setup:
    console: ConsoleProcess
    tracker_store_url: str
    database_url: str
    rasa: RasaStandIn
    # The console as started again by a test that restarts it (same address and environment).
    restarted: List[ManagedProcess] = field(default_factory=list)


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory, log_dir: Path) -> Iterator[Setup]:
    work = tmp_path_factory.mktemp("handoff-browser")
    tracker_url = f"sqlite:///{work / 'tracker.db'}"
    rasa = RasaStandIn()
    # Something in the tracker store before the console starts, as in production.
    save_conversations(tracker_url, {"earlier": conversation("Bonjour", "french", "socketio")}, "h")
    database_url = f"sqlite:///{work / 'console.db'}"
    console = ConsoleProcess(
        database_url,
        tracker_url,
        log_dir,
        RASA_URL=rasa.url,
        RASA_AUTH_TOKEN=secrets.token_urlsafe(24),
        CONSOLE_RASA_TIMEOUT_SECONDS="3",
        HANDOFF_SERVICE_TOKEN=SERVICE_TOKEN,
        HANDOFF_OPENING_HOURS="mon-sun 00:00-24:00",
        HANDOFF_WAIT_MINUTES="600",
        CONSOLE_HANDOFF_POLL_SECONDS="0.3",
    )
    setup = Setup(console, tracker_url, database_url, rasa)
    try:
        for name, region in (("casa", "casablanca-settat"), ("oujda", "oriental")):
            console.cli("users", "add", name, "--role", "adviser", "--regions", region, stdin=PASSWORD + "\n")
        yield setup
    finally:
        console.stop()
        for process in setup.restarted:
            process.stop()
        rasa.stop()


@pytest.fixture(scope="module")
def console(setup: Setup) -> ConsoleProcess:
    return setup.console


@pytest.fixture
def rasa_up(setup: Setup) -> Iterator[RasaStandIn]:
    setup.rasa.start()
    yield setup.rasa
    setup.rasa.stop()


# --- the person's side, as the action server and Rasa leave it ------------------------------------------------
def conversation(text: str, register: str, channel: str) -> List[Any]:
    at = time.time() - 600
    return session_start(at) + turn(text, "request_human", at + 1, channel, register, "action_request_adviser", "…")


@dataclass
class Requested:
    id: int
    sender: str
    channel: str


def request_adviser(
    setup: Setup, register: str = "darija_latin", region: str = "casablanca-settat", channel: str = "socketio"
) -> Requested:
    """A person in Casablanca asked for an adviser after giving their phone number: their conversation is in the
    tracker store, and the action server asks the console for an adviser (the internal API)."""
    senders = off_the_loop(
        save_conversations,
        setup.tracker_store_url,
        {"person": conversation(f"bghit nhder m3a chi wahed, ra9mi {PHONE}", register, channel)},
        "h",
    )
    response = requests.post(
        f"{setup.console.url}/internal/v1/handoffs",
        json={
            "conversation_id": senders["person"],
            "channel": channel,
            "register": register,
            "region": region,
            "city": "casablanca" if region == "casablanca-settat" else None,
            "programme": "digital-offshoring",
            "eligibility": {"age": 20, "education_level": "bac"},
            "verdict": "to_confirm",
            "reason": "asked",
        },
        headers={"Authorization": f"Bearer {SERVICE_TOKEN}"},
        timeout=30,
    )
    assert response.status_code == 201, response.text[:500]
    return Requested(int(response.json()["id"]), senders["person"], channel)


def last_message_long_ago(setup: Setup, requested: Requested, hours: float) -> None:
    """The clock set for WhatsApp's 24-hour window: the person's last message was ``hours`` ago."""
    engine = sa.create_engine(setup.database_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                sa.text("UPDATE handoffs SET last_inbound_at = :at WHERE id = :id"),
                {"at": time.time() - hours * 3600, "id": requested.id},
            )
    finally:
        engine.dispose()


def off_the_loop(function: Callable[..., T], *args: Any) -> T:
    """Rasa's tracker store is async (``asyncio.run``), and Playwright's sync API keeps an event loop running in
    this thread: the store is written from another one."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function, *args).result(timeout=60)


def person_writes(setup: Setup, requested: Requested, text: str) -> None:
    off_the_loop(_person_writes, setup, requested, text)


def _person_writes(setup: Setup, requested: Requested, text: str) -> None:
    """The person writes again while the request is open (Rasa records it; the bot is paused)."""
    store = SQLTrackerStore(domain=DOMAIN, host=setup.tracker_store_url)
    try:
        tracker = asyncio.run(store.retrieve(requested.sender))
        assert tracker is not None
        at = time.time()
        tracker.update(
            UserUttered(text, {"name": "inform", "confidence": 0.9}, [], timestamp=at, input_channel=requested.channel)
        )
        asyncio.run(store.save(tracker))
    finally:
        store.engine.dispose()


# --- the browser -----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def browser(console: ConsoleProcess) -> Iterator[Browser]:
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("Debian's chromium is needed for the console's browser tests: `make browser` installs it.")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        yield launched
        launched.close()


# Counts the sounds the inbox makes: each chime starts oscillators of the page's (real) AudioContext.
COUNT_CHIMES = """
window.__oscillators = 0;
const Original = window.AudioContext;
window.AudioContext = class extends Original {
  createOscillator() { window.__oscillators += 1; return super.createOscillator(); }
};
"""


class Pages:
    """One browser context per person at a desk (two advisers, a supervisor), each checked for script errors."""

    def __init__(self, browser: Browser, console: ConsoleProcess) -> None:
        self.browser = browser
        self.console = console
        self.contexts: List[BrowserContext] = []
        self.errors: List[str] = []

    def open(self, username: str, path: str, init_script: Optional[str] = None) -> Page:
        context = self.browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-MA")
        if init_script:
            context.add_init_script(init_script)
        self.contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: self.errors.append(f"{username}: {error}"))
        page.on("dialog", lambda dialog: self.errors.append(f"{username}: dialog {dialog.message}"))
        page.goto(self.console.url + path)
        page.get_by_label("Nom d'utilisateur").fill(username)
        page.get_by_label("Mot de passe").fill(PASSWORD)
        page.get_by_role("button", name="Se connecter").click()
        expect(page).to_have_url(self.console.url + path)
        return page

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def pages(browser: Browser, console: ConsoleProcess) -> Iterator[Pages]:
    opened = Pages(browser, console)
    yield opened
    opened.close()
    assert opened.errors == []  # no script error, no dialog


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    page.screenshot(path=str(path), full_page=True)
    return path


def inbox_loaded(page: Page) -> None:
    expect(page.locator("#inbox")).to_have_attribute("data-loaded", "true")
    expect(page.locator("#live-status")).to_have_class(re.compile(r"\bok\b"))


def handoff_loaded(page: Page) -> None:
    expect(page.locator("#handoff")).to_have_attribute("data-loaded", "true")
    expect(page.locator("#live-status")).to_have_class(re.compile(r"\bok\b"))


def card(page: Page, requested: Requested) -> Locator:
    return page.locator(f'li.request[data-handoff-id="{requested.id}"]')


def no_phone_digits(text: str) -> None:
    digits = re.sub(r"\D", "", text)
    assert "12345678" not in digits, text


# --- the inbox -------------------------------------------------------------------------------------------------
def test_a_request_appears_live_with_its_masked_summary_only_in_its_regions_inbox(pages: Pages, setup: Setup) -> None:
    casa = pages.open("casa", "/handoffs")
    oujda = pages.open("oujda", "/handoffs")
    supervisor = pages.open("supervisor", "/handoffs")
    for page in (casa, oujda, supervisor):
        inbox_loaded(page)
    expect(casa).to_have_title(INBOX_TITLE)

    requested = request_adviser(setup)

    item = card(casa, requested)
    expect(item).to_be_visible()
    expect(casa).to_have_title(UNSEEN_TITLE)
    summary = item.locator("dl.summary")
    for shown in (
        "darija (lettres latines)",
        "Digital-Offshoring",
        "Casablanca · Casablanca-Settat",
        "âge : 20 ans · niveau d'études : Baccalauréat",
        "à confirmer avec le centre",
        "chat web",
    ):
        expect(summary).to_contain_text(shown)
    expect(item.locator(".waited")).to_contain_text("attend depuis")
    expect(item.locator(".last-messages li").first).to_contain_text("bghit nhder m3a chi wahed")
    no_phone_digits(casa.locator("#inbox").inner_text())
    assert screenshot(casa, "console-handoff-inbox-live.png").stat().st_size > 10_000

    # Seen once the adviser does something on the page.
    casa.locator("h1").click()
    expect(casa).to_have_title(INBOX_TITLE)

    # The supervisor sees every region; the Oriental adviser never sees a Casablanca request.
    expect(card(supervisor, requested)).to_be_visible()
    expect(oujda.locator("#live-status")).to_have_class(re.compile(r"\bok\b"))
    oujda.reload()
    inbox_loaded(oujda)
    expect(card(oujda, requested)).to_have_count(0)
    expect(oujda).to_have_title(INBOX_TITLE)
    assert console_api(setup, "oujda").get(f"/api/v1/handoffs/{requested.id}").status_code == 404


def test_an_urgent_request_comes_first_and_alerts_supervisors(pages: Pages, setup: Setup) -> None:
    request_adviser(setup)  # an ordinary one, older
    casa = pages.open("casa", "/handoffs")
    supervisor = pages.open("supervisor", "/handoffs")
    inbox_loaded(casa)
    inbox_loaded(supervisor)

    requested = request_adviser(setup, register="french")
    expect(card(casa, requested)).to_be_visible()
    person_writes(setup, requested, "j'ai plus envie de vivre")

    first = casa.locator('[data-status="queued"] li.request').first
    expect(first).to_have_attribute("data-handoff-id", str(requested.id))
    expect(first.locator(".flag.urgent")).to_have_text("URGENT")
    banner = supervisor.locator("#urgent-banner")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("urgente")
    expect(banner.get_by_role("link", name=f"n° {requested.id}")).to_be_visible()
    expect(casa.locator("#urgent-banner")).to_be_hidden()  # the alert is the supervisors'
    assert screenshot(supervisor, "console-handoff-inbox-urgent.png").stat().st_size > 10_000


def test_a_sound_plays_after_a_first_click_and_not_once_muted(pages: Pages, setup: Setup) -> None:
    casa = pages.open("casa", "/handoffs", init_script=COUNT_CHIMES)
    inbox_loaded(casa)
    casa.locator("h1").click()  # browsers let a page play sound only after an interaction
    requested = request_adviser(setup)
    expect(card(casa, requested)).to_be_visible()
    casa.wait_for_function("() => window.__oscillators > 0")

    mute = casa.get_by_role("button", name="Son activé")
    mute.click()
    expect(casa.get_by_role("button", name="Son coupé")).to_have_attribute("aria-pressed", "true")
    casa.reload()
    inbox_loaded(casa)
    expect(casa.get_by_role("button", name="Son coupé")).to_have_attribute("aria-pressed", "true")  # remembered
    casa.locator("h1").click()
    requested = request_adviser(setup)
    expect(card(casa, requested)).to_be_visible()
    expect(casa).to_have_title(UNSEEN_TITLE)  # still counted in the title, silently
    assert casa.evaluate("window.__oscillators") == 0


# --- one conversation ------------------------------------------------------------------------------------------
def test_taking_a_request_while_rasa_is_unreachable_says_so_and_leaves_it_queued(pages: Pages, setup: Setup) -> None:
    requested = request_adviser(setup)
    page = pages.open("casa", f"/handoffs/{requested.id}")
    handoff_loaded(page)
    expect(page.locator("#summary")).to_contain_text("en attente")
    expect(page.locator("#before li.turn")).to_contain_text("bghit nhder m3a chi wahed")
    no_phone_digits(page.locator("#handoff").inner_text())

    page.get_by_role("button", name="Prendre en charge").click()
    outcome = page.locator("#action-outcome")
    expect(outcome).to_contain_text("La personne n'a pas pu être prévenue")
    expect(outcome).to_contain_text("la demande reste en attente")
    expect(page.locator("#summary")).to_contain_text("en attente")
    expect(page.get_by_role("button", name="Prendre en charge")).to_be_visible()
    expect(page.locator("#reply-form")).to_be_hidden()
    screenshot(page, "console-handoff-claim-rasa-down.png")
    assert console_api(setup, "casa").get(f"/api/v1/handoffs/{requested.id}").json()["status"] == "queued"


def test_with_rasa_answering_notes_refusals_and_delivery_states_show(
    pages: Pages, setup: Setup, rasa_up: RasaStandIn
) -> None:
    # A supervisor writes canned replies in two registers, in the editor.
    editor = pages.open("supervisor", "/handoffs/replies")
    expect(editor.locator("#canned-replies")).to_have_attribute("data-loaded", "true")
    for register, title, text in (
        ("french", "Accueil", "Bonjour, je suis conseiller chez Tawjih. Comment puis-je vous aider ?"),
        ("darija_latin", "Moustachar", "Salam, ana moustachar f Tawjih. Kifach n9der n3awnek?"),
    ):
        add = editor.locator("#canned-add")
        add.get_by_label("Registre").select_option(register)
        add.get_by_label("Titre").fill(title)
        add.get_by_label("Texte").fill(text)
        add.get_by_role("button", name="Ajouter la réponse type").click()
        expect(editor.locator(f'ol[data-register="{register}"] input[name="title"][value="{title}"]')).to_be_visible()
    screenshot(editor, "console-handoff-canned-replies.png")

    requested = request_adviser(setup)
    page = pages.open("casa", f"/handoffs/{requested.id}")
    handoff_loaded(page)
    page.get_by_role("button", name="Prendre en charge").click()
    expect(page.locator("#action-outcome")).to_contain_text("Tu as pris la demande en charge")
    expect(page.locator("#summary")).to_contain_text("prise en charge")
    reply = page.get_by_label("Réponse à la personne")
    expect(reply).to_be_focused()
    assert any(call["body"] == {"name": "action_handoff_taken"} for call in rasa_up.calls)

    # The person's register first among the canned replies; picking one fills the reply box.
    canned = page.get_by_label("Réponses types")
    expect(canned.locator("optgroup").first).to_have_attribute("label", re.compile("^darija \\(lettres latines\\)"))
    canned.select_option(label="Moustachar")
    expect(reply).to_have_value("Salam, ana moustachar f Tawjih. Kifach n9der n3awnek?")

    # A note is visibly a note, and never goes to Rasa.
    page.get_by_label("Note interne — jamais envoyée à la personne").fill("Semble inquiète pour l'inscription.")
    page.get_by_role("button", name="Ajouter la note").click()
    note = page.locator("#messages li.turn.note")
    expect(note).to_contain_text("Note interne — jamais envoyée")
    expect(note).to_contain_text("Semble inquiète pour l'inscription.")
    assert not any("inquiète" in text for text in rasa_up.sent_texts())

    # A phone number is refused with the reason; nothing is sent.
    reply.fill(f"Appelle-moi au {PHONE}")
    page.get_by_role("button", name="Envoyer", exact=True).click()
    refused = page.locator("#reply-outcome")
    expect(refused).to_contain_text("Message refusé")
    expect(refused).to_contain_text("numéro de téléphone")
    expect(page.locator("#messages li.turn.out")).to_have_count(0)
    assert not any("12 34" in text for text in rasa_up.sent_texts())
    screenshot(page, "console-handoff-reply-refused.png")

    # The person's channel refuses one: failed, with the reason and a retry.
    reply.fill("Salam, HORS-LIGNE ?")
    page.get_by_role("button", name="Envoyer", exact=True).click()
    failed = page.locator("#messages li.turn.out", has_text="HORS-LIGNE")
    expect(failed.locator(".delivery")).to_contain_text("échec : la personne n'est plus connectée au chat web")
    retry = failed.get_by_role("button", name="Réessayer")
    expect(retry).to_be_visible()
    retry.click()
    expect(page.locator("#reply-outcome")).to_contain_text("Toujours pas remis")
    assert sum("HORS-LIGNE" in text for text in rasa_up.sent_texts()) == 2

    # One that goes out: sent.
    canned.select_option(label="Moustachar")
    page.get_by_role("button", name="Envoyer", exact=True).click()
    sent = page.locator("#messages li.turn.out", has_text="moustachar")
    expect(sent.locator(".delivery")).to_have_text("envoyé")
    assert "Salam, ana moustachar f Tawjih. Kifach n9der n3awnek?" in rasa_up.sent_texts()

    # What the person writes next appears without reloading.
    person_writes(setup, requested, f"choukran, ou fin kayn l centre? ra9mi {PHONE}")
    expect(page.locator("#messages li.turn.in", has_text="fin kayn l centre")).to_be_visible()
    no_phone_digits(page.locator("#messages").inner_text())
    assert screenshot(page, "console-handoff-conversation.png").stat().st_size > 10_000

    # Closed with an outcome: Tawjih is back.
    page.get_by_label("répondu").check()
    page.get_by_role("button", name="Clôturer").click()
    expect(page.locator("#action-outcome")).to_contain_text("Conversation clôturée")
    expect(page.locator("#summary")).to_contain_text("clôturée")
    expect(page.locator("#reply-form")).to_be_hidden()
    assert any(call["body"] == {"name": "action_handoff_closed"} for call in rasa_up.calls)


def test_rest_and_whatsapp_outside_the_window_say_what_can_be_sent(
    pages: Pages, setup: Setup, rasa_up: RasaStandIn
) -> None:
    rest = request_adviser(setup, channel="rest")
    page = pages.open("casa", f"/handoffs/{rest.id}")
    handoff_loaded(page)
    page.get_by_role("button", name="Prendre en charge").click()
    expect(page.locator("#summary")).to_contain_text("prise en charge")
    expect(page.locator("#cannot-reply")).to_have_text(
        "Cette conversation passe par l'API REST : impossible d'y envoyer un message."
    )
    expect(page.locator("#reply-form")).to_be_hidden()

    # Transferred to another region: back in the queue there, out of this adviser's sight.
    page.get_by_label("Transférer à").select_option(label="L'Oriental")
    page.get_by_role("button", name="Transférer").click()
    expect(page.locator("#action-outcome")).to_contain_text("Tu ne vois plus cette demande")
    oujda = pages.open("oujda", "/handoffs")
    inbox_loaded(oujda)
    expect(card(oujda, rest).locator(".flag.status-queued")).to_have_text("en attente")

    # WhatsApp, no message from the person for 24 hours: no free text, the approved template instead.
    whatsapp = request_adviser(setup, channel="whatsapp")
    last_message_long_ago(setup, whatsapp, hours=25)
    page.goto(f"{setup.console.url}/handoffs/{whatsapp.id}")
    handoff_loaded(page)
    page.get_by_role("button", name="Prendre en charge").click()
    expect(page.locator("#cannot-reply")).to_contain_text("Plus de 24 heures depuis le dernier message")
    expect(page.locator("#reply-form")).to_be_hidden()
    template = page.get_by_role("button", name="Envoyer le modèle approuvé « handoff »")
    template.click()
    expect(page.locator("#messages li.turn.out .delivery")).to_have_text("envoyé")
    assert any(
        event.get("data") == {"custom": {"tawjih_template": "handoff"}}
        for call in rasa_up.calls
        if call["path"].endswith("/tracker/events")
        for event in call["body"]
    )
    screenshot(page, "console-handoff-whatsapp-template.png")


# --- regions ---------------------------------------------------------------------------------------------------
def test_an_admin_changes_an_advisers_regions(pages: Pages, setup: Setup) -> None:
    page = pages.open("admin", "/users")
    row = page.locator("tr", has_text="oujda")
    expect(row.locator("#regions-of-" + str(user_id(setup, "oujda")))).to_have_text("oriental")
    row.get_by_text("Modifier les régions de oujda").click()
    row.get_by_label("Fès-Meknès").check()
    row.get_by_role("button", name="Enregistrer les régions").click()
    expect(row.locator(".outcome")).to_have_text("Régions enregistrées.")
    expect(row.locator("span[id^=regions-of-]")).to_have_text("fes-meknes, oriental")
    screenshot(page, "console-users-regions.png")
    page.reload()
    expect(page.locator("tr", has_text="oujda").locator("span[id^=regions-of-]")).to_have_text("fes-meknes, oriental")


def console_api(setup: Setup, username: str) -> Client:
    return setup.console.login(username)


def user_id(setup: Setup, username: str) -> int:
    advisers = console_api(setup, "admin").get("/api/v1/advisers").json()["data"]
    return int(next(a["id"] for a in advisers if a["username"] == username))


def test_the_inbox_reconnects_by_itself_when_the_console_restarts(pages: Pages, setup: Setup, log_dir: Path) -> None:
    casa = pages.open("casa", "/handoffs")
    inbox_loaded(casa)
    setup.console.stop()
    expect(casa.locator("#live-status")).to_contain_text("reconnexion")
    # The same console again (same address, database and secret: the adviser stays logged in).
    again = ManagedProcess(
        f"console-again-{setup.console.port}",
        [str(VENV_BIN / "python"), "-m", "console", "serve"],
        setup.console.env,
        log_dir,
    )
    setup.restarted.append(again)
    again.wait_until(http_ok(f"{setup.console.url}/health"), timeout=120)
    expect(casa.locator("#live-status")).to_have_class(re.compile(r"\bok\b"), timeout=30_000)
    requested = request_adviser(setup)
    expect(card(casa, requested)).to_be_visible()
    expect(casa).to_have_title(UNSEEN_TITLE)
