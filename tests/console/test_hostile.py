"""A hostile reviewer, an anonymous attacker and malformed URLs against a real `python -m console serve`: what
the masking hides cannot be read back through the free-text filter, the notes, the tags or the annotations;
failed logins sent side by side stay counted and do not stall the console; numbers no column can hold and
dates at the end of the calendar are not a 500; an unexpected error leaves no traceback (nor the values of
its SQL) in the log."""

from __future__ import annotations

import concurrent.futures
import sqlite3
import threading
import time
from pathlib import Path
from typing import Iterator

import pytest
from rasa.shared.core.events import UserUttered

from console.api.deps import pseudonym
from tests.console.conftest import (
    CIN,
    EMAIL,
    PHONE,
    Client,
    ConsoleProcess,
    Setup,
    save_conversations,
    session_start,
    wait_for,
)

OTHER_PHONE = "06 99 88 77 66"


def session_of(client: Client, setup: Setup, name: str) -> int:
    wanted = pseudonym(setup.seeded.senders[name])
    rows = client.get("/api/v1/conversations").json()["data"]
    return int(next(row["session_id"] for row in rows if row["conversation"] == wanted))


def count(client: Client, q: str) -> int:
    answer = client.get("/api/v1/conversations", params={"q": q})
    assert answer.status_code == 200, answer.text
    return int(answer.json()["count"])


def test_the_text_filter_cannot_be_used_to_read_a_masked_value(reviewer: Client) -> None:
    # "06 12 34" is the start of the masked phone number of `french_pii`: found, it would give the number away
    # digit by digit; so would the CIN, the e-mail address and the name.
    for probe in [PHONE[:8], PHONE.replace(" ", "")[:6], CIN[:5], EMAIL[:8], "benali"]:
        assert count(reviewer, probe) == 0, probe
    # A whole number matches the placeholder, whichever number it is: nothing is learnt from it.
    assert count(reviewer, PHONE) == count(reviewer, OTHER_PHONE)
    # What was typed in the filter is not echoed in the page, its links or the JSON.
    page = reviewer.page("/conversations", params={"q": f"rappel {PHONE}", "channel": "rest"}).text
    listing = reviewer.get("/api/v1/conversations", params={"q": f"rappel {PHONE}"}).text
    for text in (page, listing):
        assert PHONE not in text and PHONE.replace(" ", "+") not in text


def test_a_note_written_by_staff_is_shown_masked_and_a_tag_may_not_hold_personal_data(
    setup: Setup, reviewer: Client, supervisor: Client
) -> None:
    session_id = session_of(reviewer, setup, "bystander")
    note = f"rappeler Karim Benali au {PHONE} ou {EMAIL}, CIN {CIN}"
    saved = reviewer.post_json(f"/api/v1/conversations/{session_id}/review", {"note": note})
    assert saved.status_code == 200
    assert saved.json()["note"].startswith("rappeler")
    for text in (
        saved.text,
        supervisor.get(f"/api/v1/conversations/{session_id}").text,
        supervisor.page(f"/conversations/{session_id}").text,
    ):
        for value in (PHONE, EMAIL, CIN, "Benali"):
            assert value not in text
    for tag in [PHONE.replace(" ", ""), PHONE.replace(" ", "-"), CIN.lower(), "karim benali"]:
        refused = reviewer.post_json(f"/api/v1/conversations/{session_id}/review", {"tags": ["suivi", tag]})
        assert refused.status_code == 422, tag
        form = reviewer.post_form(f"/conversations/{session_id}/review", {"status": "new", "tags": f"suivi, {tag}"})
        assert form.status_code == 422 and tag not in form.text
    assert reviewer.post_json(f"/api/v1/conversations/{session_id}/review", {"tags": ["à revoir"]}).status_code == 200
    listing = supervisor.page("/conversations").text
    assert PHONE.replace(" ", "") not in listing and CIN.lower() not in listing


def test_an_entity_value_typed_by_a_reviewer_is_masked(setup: Setup, reviewer: Client) -> None:
    session_id = session_of(reviewer, setup, "bystander")
    detail = reviewer.get(f"/api/v1/conversations/{session_id}").json()
    event_id = next(item["event_id"] for item in detail["items"] if item["kind"] == "user")
    body = {"event_id": event_id, "intent": "thank", "entities": [{"entity": "city", "text": "merci", "value": PHONE}]}
    saved = reviewer.post_json(f"/api/v1/conversations/{session_id}/annotations", body)
    assert saved.status_code == 200
    assert saved.json()["entities"][0]["value"] == "[téléphone]"
    for text in (
        reviewer.get("/api/v1/export/nlu").text,
        reviewer.page(f"/conversations/{session_id}").text,
        reviewer.get(f"/conversations/{session_id}/story.yml").text,
    ):
        assert PHONE not in text


def test_a_register_value_set_by_the_person_is_not_shown(setup: Setup, reviewer: Client) -> None:
    now = time.time()
    written = UserUttered(
        "/greet",
        {"name": "greet", "confidence": 1.0},
        [{"entity": "register", "value": f"appelle-moi {PHONE}"}],
        timestamp=now,
        input_channel="rest",
    )
    sender = save_conversations(setup.tracker_store_url, {"register": [*session_start(now - 1), written]}, "h")
    wanted = pseudonym(sender["register"])

    def listed() -> bool:
        rows = reviewer.get("/api/v1/conversations").json()["data"]
        return any(row["conversation"] == wanted for row in rows)

    wait_for(listed)
    rows = reviewer.get("/api/v1/conversations").json()["data"]
    session_id = next(row["session_id"] for row in rows if row["conversation"] == wanted)
    assert PHONE not in reviewer.get(f"/api/v1/conversations/{session_id}").text
    assert PHONE not in reviewer.page(f"/conversations/{session_id}").text


@pytest.mark.parametrize(
    "path",
    [
        "/conversations/99999999999999999999",
        "/api/v1/conversations/99999999999999999999",
        "/api/v1/conversations/99999999999999999999/story",
        "/audit?page=99999999999999999999",
        "/api/v1/audit?page=99999999999999999999",
        "/conversations?date_to=9999-12-31",
        "/api/v1/conversations?date_from=9999-12-31&date_to=9999-12-31",
        "/analytics?from=9999-12-31&to=9999-12-31",
        "/api/v1/stats?from=9999-12-31&to=9999-12-31",
        "/api/v1/stats?to=0001-01-10",
    ],
)
def test_numbers_and_dates_out_of_range_are_not_a_500(supervisor: Client, path: str) -> None:
    response = supervisor.get(path)
    assert response.status_code in (200, 400, 404, 422), (path, response.status_code, response.text[:200])


# --- a console of its own: failed logins and a locked database ------------------------------------------------
@pytest.fixture(scope="module")
def own_console(setup: Setup, tmp_path_factory: pytest.TempPathFactory, log_dir: Path) -> Iterator[ConsoleProcess]:
    work = tmp_path_factory.mktemp("hostile")
    process = ConsoleProcess(
        f"sqlite:///{work / 'console.db'}",
        setup.tracker_store_url,
        log_dir,
        CONSOLE_LOGIN_SLOW_AFTER="1",
        CONSOLE_LOGIN_MAX_FAILURES="5",
        CONSOLE_LOGIN_MAX_FAILURES_PER_CLIENT="1000",
    )
    process.database_path = work / "console.db"  # type: ignore[attr-defined]
    try:
        yield process
    finally:
        process.stop()


def _wrong_login(url: str, username: str) -> int:
    client = Client(url)
    return client.login(username, "not the password").status_code


def test_failed_logins_sent_side_by_side_are_all_counted_and_do_not_stall_the_console(
    own_console: ConsoleProcess,
) -> None:
    assert _wrong_login(own_console.url, "supervisor") == 401  # from now on, each answer waits
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        codes = list(pool.map(lambda _: _wrong_login(own_console.url, "supervisor"), range(20)))
    elapsed = time.monotonic() - started
    assert 500 not in codes, codes
    # 5 failures at most, the first included: the rest are refused, not checked against the password.
    assert codes.count(401) <= 4, codes
    assert codes.count(429) >= 16, codes
    assert elapsed < 8, elapsed
    assert "database is locked" not in own_console.log_text()


def test_an_unexpected_error_leaves_no_traceback_nor_values_in_the_log(
    setup: Setup, own_console: ConsoleProcess
) -> None:
    client = own_console.login("reviewer")
    session_id = session_of(client, setup, "bystander")
    client.page(f"/conversations/{session_id}")
    # Another process holds the console's database for writing: the review cannot be saved (a 500, after the
    # database's own wait), and the log must say so without the note nor a traceback.
    locked = threading.Event()
    release = threading.Event()

    def hold() -> None:
        connection = sqlite3.connect(str(own_console.database_path), timeout=30)  # type: ignore[attr-defined]
        connection.execute("BEGIN EXCLUSIVE")
        locked.set()
        release.wait(40)
        connection.rollback()
        connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert locked.wait(10)
        note = f"secret note {OTHER_PHONE}"
        answer = client.http.post(
            f"{own_console.url}/api/v1/conversations/{session_id}/review",
            json={"note": note},
            headers={"X-CSRF-Token": client.csrf or ""},
            timeout=60,
        )
    finally:
        release.set()
        holder.join()
    assert answer.status_code == 500
    assert answer.json() == {"detail": "Something went wrong."}
    log = own_console.log_text()
    assert "Unexpected OperationalError on POST" in log
    assert OTHER_PHONE not in log and "Traceback" not in log and "[SQL:" not in log
