"""The web chat widget in a real headless Chromium (Debian's package), against the running stack."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Iterator

import pytest
import requests
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.e2e.conftest import Stack
from tests.e2e.test_rest_conversation import welcome
from tests.support.processes import ROOT

pytestmark = pytest.mark.e2e
SCREENSHOTS = ROOT / "results" / "screenshots"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("Debian's chromium is needed for the widget tests: `make browser` installs it.")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, stack: Stack) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 900, "height": 760}, locale="fr-MA")
    opened = context.new_page()
    opened.goto(stack.web.url)
    yield opened
    context.close()


def say(page: Page, text: str) -> None:
    page.get_by_label("Ton message").fill(text)
    page.keyboard.press("Enter")


def bot_messages(page: Page):  # type: ignore[no-untyped-def]
    return page.locator("#chat-log li.message.bot")


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    page.screenshot(path=str(path), full_page=True)
    return path


def test_a_french_conversation_with_a_button_click(page: Page, stack: Stack) -> None:
    say(page, "bonjour")
    expect(bot_messages(page).first).to_contain_text("Je suis Tawjih, un assistant automatique")
    assert bot_messages(page).first.get_attribute("dir") == "ltr"
    say(page, "quelles formations proposez-vous ?")
    programmes = requests.get(f"{stack.registry.url}/api/v1/programmes", timeout=5).json()["data"]
    choice = page.get_by_role("button", name=programmes[2]["name_fr"], exact=True)
    expect(choice).to_be_visible()
    choice.click()
    expect(page.locator("#chat-log li.message.user").last).to_have_text(f"Toi : {programmes[2]['name_fr']}")
    expect(bot_messages(page).last).to_contain_text(f"Durée : {programmes[2]['duration_months']} mois")
    assert screenshot(page, "widget-french.png").stat().st_size > 10_000


def test_an_arabic_script_conversation_reads_right_to_left(page: Page, stack: Stack) -> None:
    say(page, "السلام عليكم")
    expect(bot_messages(page).first).to_contain_text(welcome("darija_arabic").split("\n")[0])
    assert bot_messages(page).first.get_attribute("dir") == "rtl"
    assert page.locator("#chat-log li.message.user").first.get_attribute("dir") == "rtl"
    say(page, "شنو هوما التكوينات اللي كاينين؟")
    programmes = requests.get(f"{stack.registry.url}/api/v1/programmes", timeout=5).json()["data"]
    choice = page.get_by_role("button", name=programmes[0]["name_ar"], exact=True)
    expect(choice).to_be_visible()
    choice.focus()
    page.keyboard.press("Enter")  # a keyboard user picks the option
    expect(bot_messages(page).last).to_contain_text("المدة:")
    assert bot_messages(page).last.get_attribute("dir") == "rtl"
    assert screenshot(page, "widget-arabic.png").stat().st_size > 10_000


def test_the_conversation_belongs_to_the_tab(page: Page, stack: Stack) -> None:
    say(page, "salam")
    expect(bot_messages(page)).to_have_count(1)
    page.reload()
    expect(bot_messages(page)).to_have_count(1)  # the same tab keeps its conversation
    say(page, "merci")
    expect(bot_messages(page)).to_have_count(2)
    other_tab = page.context.new_page()  # the next person on the same phone
    other_tab.goto(stack.web.url)
    expect(other_tab.locator("#chat-log li")).to_have_count(0)
    first_id = page.evaluate("sessionStorage.getItem('tawjih.session')")
    assert first_id and other_tab.evaluate("sessionStorage.getItem('tawjih.session')") != first_id


def test_a_message_typed_during_a_network_drop_is_sent_on_reconnection(page: Page, stack: Stack) -> None:
    say(page, "bonjour")
    expect(bot_messages(page)).to_have_count(1)
    page.context.set_offline(True)
    expect(page.locator("#chat-status")).to_contain_text("Connexion perdue")
    say(page, "quelles formations proposez-vous ?")
    expect(page.locator("#chat-typing")).to_be_visible()
    page.context.set_offline(False)
    expect(bot_messages(page).last).to_contain_text("Voici les formations disponibles", timeout=30_000)
    expect(page.locator("#chat-status")).to_have_text("")


def test_the_widget_is_labelled_for_screen_readers(page: Page) -> None:
    log = page.locator("#chat-log")
    assert log.get_attribute("role") == "log" and log.get_attribute("aria-live") == "polite"
    expect(page.get_by_label("Ton message")).to_be_visible()
    expect(page.get_by_role("button", name="Envoyer")).to_be_visible()
    page.get_by_label("Ton message").focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "chat-send"


def test_sockets_from_another_site_are_refused(stack: Stack) -> None:
    handshake = f"{stack.rasa.url}/socket.io/?EIO=4&transport=polling"
    foreign = requests.get(handshake, headers={"Origin": "https://evil.example"}, timeout=10)
    assert foreign.status_code == 400
    ours = requests.get(handshake, headers={"Origin": stack.web.url}, timeout=10)
    assert ours.status_code == 200 and ours.headers.get("Access-Control-Allow-Origin") == stack.web.url
