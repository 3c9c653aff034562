"""The index of sessions: split at session starts, built from new events only, filters that combine and find
exactly the right sessions, a bad filter told clearly, and a tracker store that fails shown as a banner."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Dict, Set

import pytest
import requests

from console.indexer import SessionFacts, fold_events, fold_text, starts_session
from console.tracker import StoredEvent
from tests.console.conftest import (
    Client,
    ConsoleProcess,
    Setup,
    console_today,
    save_conversations,
    session_start,
    turn,
    wait_for,
)


def event(id_: int, type_name: str, action: str = "", sender: str = "s", **data: object) -> StoredEvent:
    return StoredEvent(id_, sender, type_name, 1000.0 + id_, data.get("intent"), action or None, dict(data))  # type: ignore[arg-type]


def test_a_conversation_is_split_where_rasa_starts_a_session() -> None:
    events = [
        event(1, "action", "action_session_start"),
        event(2, "session_started"),
        event(3, "user", text="salam", intent="greet"),
        event(4, "action", "action_session_start"),
        event(5, "session_started"),
        event(6, "user", text="merci", intent="thank"),
        event(7, "session_started"),  # a session started without the action (older trackers)
        event(8, "user", text="bye", intent="goodbye"),
    ]
    open_sessions: Dict[str, SessionFacts] = {}
    touched = fold_events(open_sessions, events)
    assert sorted(touched) == [1, 4, 7]
    assert [touched[i].user_messages for i in (1, 4, 7)] == [1, 1, 1]
    assert touched[4].intents == {"thank"} or touched[4].intents == {"thank": 1}
    # The next batch goes on in the newest session.
    more = fold_events(open_sessions, [event(9, "user", text="encore", intent="greet")])
    assert list(more) == [7] and more[7].user_messages == 2 and more[7].last_event_id == 9


def test_starts_session_takes_the_action_and_the_event_as_one_start() -> None:
    assert starts_session(None, event(1, "user"))
    assert starts_session("user", event(2, "action", "action_session_start"))
    assert not starts_session("action:action_session_start", event(3, "session_started"))
    assert starts_session("bot", event(4, "session_started"))
    assert not starts_session("bot", event(5, "action", "action_listen"))


def test_the_free_text_filter_ignores_case_and_accents() -> None:
    assert fold_text("Ça CoÛTE Combien ?") == "ca coute combien ?"
    assert fold_text("وَاش") == "واش"


def ids(client: Client, query: str) -> Set[str]:
    response = client.get(f"/api/v1/conversations?{query}")
    assert response.status_code == 200, response.text
    return {row["conversation"] for row in response.json()["data"]}


def test_each_filter_finds_exactly_the_right_sessions(setup: Setup, reviewer: Client) -> None:
    from console.api.deps import pseudonym

    who = {name: pseudonym(sender) for name, sender in setup.seeded.senders.items()}
    everyone = set(who.values())
    assert ids(reviewer, "") == everyone
    assert ids(reviewer, "register=darija_arabic") == {who["darija_arabic_verdict"]}
    assert ids(reviewer, "register=darija_latin") == {who["darija_latin_fallback"]}
    assert ids(reviewer, "channel=whatsapp") == {who["darija_arabic_verdict"]}
    assert ids(reviewer, "channel=socketio") == {who["darija_latin_fallback"]}
    assert ids(reviewer, "intent=ask_programmes") == {who["french_pii"]}
    assert ids(reviewer, "had_fallback=yes") == {who["darija_latin_fallback"], who["hostile"]}
    assert ids(reviewer, "had_fallback=no") == everyone - {who["darija_latin_fallback"], who["hostile"]}
    assert ids(reviewer, "asked_adviser=yes") == {who["darija_latin_fallback"]}
    assert ids(reviewer, "verdict_given=yes") == {who["darija_arabic_verdict"]}
    assert ids(reviewer, "q=FORMATIONS") == {who["french_pii"]}
    assert ids(reviewer, "q=خاصني") == {who["darija_arabic_verdict"]}
    assert ids(reviewer, "q=combien") == {who["two_sessions"]}
    assert ids(reviewer, "min_length=3") == {who["french_pii"], who["darija_latin_fallback"]}
    # Filters combine.
    assert ids(reviewer, "channel=rest&had_fallback=yes") == {who["hostile"]}
    assert ids(reviewer, "register=french&min_length=2") == {who["french_pii"], who["hostile"]}
    assert ids(reviewer, "channel=rest&register=darija_arabic") == set()
    # Dates: the older session of `two_sessions` is two days old.
    today = dt.date.fromisoformat(console_today())
    two_days_ago = (today - dt.timedelta(days=2)).isoformat()
    older = reviewer.get(f"/api/v1/conversations?date_from={two_days_ago}&date_to={two_days_ago}").json()["data"]
    assert [row["conversation"] for row in older] == [who["two_sessions"]]
    assert older[0]["intents"] == ["ask_cost"]


def test_a_conversation_is_listed_once_per_session_newest_first(setup: Setup, reviewer: Client) -> None:
    from console.api.deps import pseudonym

    rows = reviewer.get("/api/v1/conversations").json()["data"]
    mine = [row for row in rows if row["conversation"] == pseudonym(setup.seeded.senders["two_sessions"])]
    assert [row["intents"] for row in mine] == [["ask_centres"], ["ask_cost"]]
    times = [row["last_activity_at"] for row in rows]
    assert times == sorted(times, reverse=True)


def test_review_status_and_tag_filters(setup: Setup, reviewer: Client) -> None:
    rows = reviewer.get("/api/v1/conversations?register=darija_latin").json()["data"]
    session_id = rows[0]["session_id"]
    assert (
        reviewer.post_json(
            f"/api/v1/conversations/{session_id}/review", {"status": "needs_work", "tags": ["Handoff", "nlu"]}
        ).status_code
        == 200
    )
    found = reviewer.get("/api/v1/conversations?status=needs_work&tag=handoff").json()["data"]
    assert [row["session_id"] for row in found] == [session_id]
    assert found[0]["tags"] == ["handoff", "nlu"]
    assert session_id not in {r["session_id"] for r in reviewer.get("/api/v1/conversations?status=new").json()["data"]}


@pytest.mark.parametrize(
    "query, name",
    [
        ("date_from=yesterday", "date_from"),
        ("date_from=2026-12-01&date_to=2026-11-01", "date_to"),
        ("register=klingon", "register"),
        ("had_fallback=maybe", "had_fallback"),
        ("min_length=-1", "min_length"),
        ("min_length=abc", "min_length"),
        ("status=done", "status"),
        ("page=0", "page"),
    ],
)
def test_a_malformed_filter_gets_a_clear_message_not_a_500(reviewer: Client, query: str, name: str) -> None:
    api = reviewer.get(f"/api/v1/conversations?{query}")
    assert api.status_code == 400
    assert name in api.json()["errors"]
    page = reviewer.page(f"/conversations?{query}")
    assert page.status_code == 200
    assert "Certains filtres n'ont pas pu être lus" in page.text and f"<strong>{name}</strong>" in page.text


def test_the_list_is_paged_and_the_filter_stays_in_the_urls(setup: Setup, log_dir: Path, tmp_path: Path) -> None:
    console = ConsoleProcess(
        f"sqlite:///{tmp_path / 'console.db'}", setup.tracker_store_url, log_dir, CONSOLE_PAGE_SIZE="3"
    )
    try:
        client = console.login("reviewer")
        first = client.get("/api/v1/conversations?channel=rest").json()
        assert first["count"] == 5 and first["pages"] == 2 and len(first["data"]) == 3
        second = client.get("/api/v1/conversations?channel=rest&page=2").json()
        assert len(second["data"]) == 2
        assert not {r["session_id"] for r in first["data"]} & {r["session_id"] for r in second["data"]}
        page = client.page("/conversations?channel=rest&q=%3Cb%3E")
        assert 'value="&lt;b&gt;"' in page.text  # the filter is echoed escaped
        page = client.page("/conversations?channel=rest")
        assert 'href="/conversations?channel=rest&amp;page=2" rel="next"' in page.text
    finally:
        console.stop()


def test_new_events_are_indexed_incrementally(setup: Setup, reviewer: Client) -> None:
    before = reviewer.get("/api/v1/conversations").json()["count"]
    now = time.time()
    save_conversations(
        setup.tracker_store_url,
        {
            "late": session_start(now)
            + turn(
                "wach kayn chi takwin f tanger?",
                "ask_programmes",
                now + 1,
                "rest",
                "darija_latin",
                "action_list_programmes",
                "Ah kayn.",
            )
        },
        "late",
    )
    wait_for(lambda: reviewer.get("/api/v1/conversations").json()["count"] == before + 1)
    assert len(ids(reviewer, "q=tanger")) == 1


def test_an_unreachable_tracker_store_is_a_banner_without_secrets(setup: Setup, log_dir: Path, tmp_path: Path) -> None:
    secret = "s3cr3t-pass-w0rd"
    broken = f"postgresql://tawjih:{secret}@127.0.0.1:1/tawjih"
    console = ConsoleProcess(
        f"sqlite:///{tmp_path / 'console.db'}", broken, log_dir, CONSOLE_TRACKER_TIMEOUT_SECONDS="1"
    )
    try:
        client = console.login("supervisor")
        page = client.page("/conversations")
        assert page.status_code == 200
        assert "injoignable" in page.text and secret not in page.text and "127.0.0.1:1" not in page.text
        api = client.get("/api/v1/conversations")
        assert api.status_code == 200 and api.json()["index"]["ok"] is False
        assert secret not in api.text
        analytics = client.page("/analytics")
        assert analytics.status_code == 200 and "injoignable" in analytics.text
        assert client.get("/api/v1/conversations/12345").status_code == 404
        assert "Traceback" not in console.log_text() and secret not in console.log_text()
    finally:
        console.stop()


def test_an_unreachable_tracker_store_keeps_the_review_of_an_indexed_session(
    setup: Setup, log_dir: Path, tmp_path: Path
) -> None:
    """The console's index was built; then the tracker store goes away: the session page says so, its review works."""
    import shutil

    from tests.support.tcp_proxy import TcpProxy

    relay = None
    if setup.tracker_store_url.startswith("sqlite"):
        tracker_copy = tmp_path / "tracker.db"
        shutil.copy(setup.tracker_store_url.removeprefix("sqlite:///"), tracker_copy)
        tracker_url = f"sqlite:///{tracker_copy}"
    else:  # PostgreSQL behind a relay the test can cut
        relay = TcpProxy(("127.0.0.1", 5432)).start()
        tracker_url = setup.tracker_store_url.replace(":5432/", f":{relay.port}/", 1)
    console = ConsoleProcess(f"sqlite:///{tmp_path / 'console.db'}", tracker_url, log_dir)
    try:
        client = console.login("reviewer")
        session_id = client.get("/api/v1/conversations").json()["data"][0]["session_id"]
        if relay is None:
            tracker_copy.unlink()
            tracker_copy.mkdir()  # a folder where the database was: every read fails
        else:
            relay.stop()
        page = client.page(f"/conversations/{session_id}")
        assert page.status_code == 200 and "injoignable" in page.text
        assert client.post_json(f"/api/v1/conversations/{session_id}/review", {"status": "reviewed"}).status_code == 200
        listing = client.page("/conversations")
        assert listing.status_code == 200 and "injoignable" in listing.text
        assert "Traceback" not in console.log_text()
    finally:
        console.stop()
        if relay is not None:
            relay.stop()
    requests.Session().close()
