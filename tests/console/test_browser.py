"""The console in a real headless Chromium (Debian's package), as staff use it: log in, filter, open an
Arabic-script conversation (right to left), tag it, annotate a message, see the charts drawn."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.console.conftest import PASSWORD, XSS, ConsoleProcess
from tests.support.processes import ROOT

SCREENSHOTS = ROOT / "results" / "screenshots"


@pytest.fixture(scope="module")
def backend() -> str:
    """Once, on SQLite: the pages are the same on PostgreSQL, which the HTTP tests cover."""
    return "sqlite"


@pytest.fixture(scope="module")
def browser(console: ConsoleProcess) -> Iterator[Browser]:
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("Debian's chromium is needed for the console's browser tests: `make browser` installs it.")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, console: ConsoleProcess) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-MA")
    opened = context.new_page()
    errors: list = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.on("dialog", lambda dialog: errors.append(f"dialog: {dialog.message}"))
    yield opened
    context.close()
    assert errors == []  # no script error, and the XSS message never ran


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    page.screenshot(path=str(path), full_page=True)
    return path


def log_in(page: Page, console: ConsoleProcess, username: str = "supervisor") -> None:
    page.goto(console.url + "/analytics")
    expect(page).to_have_url(f"{console.url}/login?next=/analytics")
    page.get_by_label("Nom d'utilisateur").fill(username)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page).to_have_url(f"{console.url}/analytics")


def test_review_an_arabic_conversation_in_the_browser(page: Page, console: ConsoleProcess) -> None:
    log_in(page, console)
    page.goto(console.url + "/conversations")
    expect(page.locator("table.sessions tbody tr")).to_have_count(7)
    screenshot(page, "console-list.png")
    page.get_by_label("Registre").select_option("darija_arabic")
    page.get_by_role("button", name="Filtrer").click()
    assert "register=darija_arabic" in page.url
    rows = page.locator("table.sessions tbody tr")
    expect(rows).to_have_count(1)
    rows.first.get_by_role("link").click()
    message = page.locator("li.turn.user p.text").first
    expect(message).to_have_text("واش خاصني الباك؟")
    assert message.get_attribute("dir") == "rtl"
    assert page.evaluate("getComputedStyle(document.querySelector('li.turn.user p.text')).direction") == "rtl"
    expect(page.locator("li.turn.user .intent").first).to_have_text("ask_eligibility")

    page.get_by_label("Tags (séparés par des virgules)").fill("arabe, éligibilité")
    page.get_by_label("needs_work").check()
    page.get_by_role("button", name="Enregistrer la revue").click()
    expect(page.locator(".flash")).to_have_text("Revue enregistrée.")
    expect(page.get_by_label("Tags (séparés par des virgules)")).to_have_value("arabe, éligibilité")

    first = page.locator("li.turn.user").first
    first.locator("summary", has_text="Annoter").click()
    first.get_by_label("Intention").select_option("ask_eligibility")
    first.get_by_label("Entités").fill("education_level=الباك")
    first.get_by_role("button", name="Enregistrer l'annotation").click()
    expect(page.locator(".flash")).to_have_text("Annotation enregistrée.")
    expect(page.locator("li.turn.user .annotated").first).to_contain_text("education_level=الباك")
    assert screenshot(page, "console-conversation-arabic.png").stat().st_size > 10_000

    page.goto(console.url + "/conversations?tag=arabe")
    expect(page.locator("table.sessions tbody tr")).to_have_count(1)


def test_a_hostile_message_is_shown_as_text(page: Page, console: ConsoleProcess) -> None:
    log_in(page, console, "reviewer")
    page.goto(console.url + "/conversations?had_fallback=yes&channel=rest")
    page.locator("table.sessions tbody tr").first.get_by_role("link").click()
    expect(page.locator("li.turn.user p.text").first).to_have_text(XSS)
    assert page.locator("li.turn.user p.text img").count() == 0


def test_the_analytics_charts_are_drawn(page: Page, console: ConsoleProcess) -> None:
    log_in(page, console)
    canvases = page.locator(".charts canvas")
    expect(canvases).to_have_count(8)
    page.wait_for_function("() => window.Chart && Object.keys(Chart.instances).length === 8")
    painted = page.evaluate(
        """() => Array.from(document.querySelectorAll('.charts canvas')).map(c => {
            const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let n = 0;
            for (let i = 3; i < data.length; i += 4) { if (data[i] > 0) n++; }
            return n;
        })"""
    )
    assert all(count > 500 for count in painted), painted
    assert screenshot(page, "console-analytics.png").stat().st_size > 20_000
