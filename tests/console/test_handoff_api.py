"""The advisers' side of the handoff through the console's API, against the real console process: the action
server's internal route, routing by region, the atomic claim, replies and their delivery state as Rasa reports
it, notes, transfers, closing, canned replies, the live stream, and the honest failures when Rasa is down."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import threading
import time
from pathlib import Path
from typing import Dict, Iterator, List, Optional
from zoneinfo import ZoneInfo

import pytest
import requests
import sqlalchemy as sa

from tests.console.conftest import (
    PASSWORD,
    PHONE,
    Client,
    ConsoleProcess,
    HandoffSetup,
    RasaStandIn,
    drop_schemas,
    handoff_conversations,
    save_conversations,
    throwaway_schema,
    wait_for,
)
from tests.support.processes import ROOT, VENV_BIN, free_port

ALL_HOURS = "mon-sun 00:00-24:00"


@pytest.fixture(scope="module")
def hs(backend: str, tmp_path_factory: pytest.TempPathFactory, log_dir: Path) -> Iterator[HandoffSetup]:
    if backend == "sqlite":
        work = tmp_path_factory.mktemp("handoff-api")
        tracker_url, database_url = f"sqlite:///{work / 'tracker.db'}", f"sqlite:///{work / 'console.db'}"
    else:
        tracker_url, database_url = throwaway_schema("htracker"), throwaway_schema("hconsole")
    senders = save_conversations(tracker_url, handoff_conversations(time.time()), "h")
    rasa = RasaStandIn("rasa-" + backend + "-token")
    console = ConsoleProcess(
        database_url,
        tracker_url,
        log_dir,
        RASA_URL=rasa.url,
        RASA_AUTH_TOKEN=rasa.token,
        HANDOFF_OPENING_HOURS=ALL_HOURS,
    )
    for name, regions in (("adv-casa", "casablanca-settat"), ("adv-oriental", "oriental"), ("adv-all", "all")):
        console.cli("users", "add", name, "--role", "adviser", "--regions", regions, stdin=PASSWORD + "\n")
    try:
        yield HandoffSetup(console, rasa, tracker_url, senders)
    finally:
        console.stop()
        rasa.stop_listening()
        if backend == "postgresql":
            drop_schemas()


@pytest.fixture(scope="module")
def clients(hs: HandoffSetup) -> Dict[str, Client]:
    names = ("adviser", "adv-casa", "adv-oriental", "adv-all", "supervisor", "reviewer", "admin")
    return {name: hs.console.login(name) for name in names}


CASABLANCA_REQUEST: Dict[str, object] = {
    "region": "casablanca-settat",
    "city": "casablanca",
    "verdict": "maybe",
    "reason": "verdict",
    "eligibility": {"age": 20, "education": "bac"},
}


def ask(hs: HandoffSetup, name: str, **fields: object) -> requests.Response:
    body: Dict[str, object] = {
        "conversation_id": hs.senders[name],
        "channel": "socketio",
        "register": "french",
        "region": None,
        "city": None,
        "programme": None,
        "eligibility": {},
        "verdict": None,
        "reason": "asked",
        **fields,
    }
    return hs.console.ask_for_adviser(body)


def handoff_id(hs: HandoffSetup, name: str, **fields: object) -> int:
    response = ask(hs, name, **fields)
    assert response.status_code in (200, 201), response.text
    return int(response.json()["id"])


def ids(client: Client, status: Optional[str] = None) -> List[int]:
    response = client.get("/api/v1/handoffs" + (f"?status={status}" if status else ""))
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["data"]]


def detail(client: Client, hid: int) -> dict:
    response = client.get(f"/api/v1/handoffs/{hid}")
    assert response.status_code == 200, response.text
    return dict(response.json())


def executed(hs: HandoffSetup, name: str) -> List[str]:
    return [
        str(call["body"]["name"])  # type: ignore[index]
        for call in hs.rasa.calls_to(hs.senders[name])
        if str(call["path"]).endswith("/execute")
    ]


def sent_events(hs: HandoffSetup, name: str) -> List[dict]:
    return [call for call in hs.rasa.calls_to(hs.senders[name]) if str(call["path"]).endswith("/tracker/events")]


def claimed(hs: HandoffSetup, clients: Dict[str, Client], name: str, by: str = "adv-all", **fields: object) -> int:
    hid = handoff_id(hs, name, **fields)
    response = clients[by].post_json(f"/api/v1/handoffs/{hid}/claim", {})
    assert response.status_code == 200, response.text
    return hid


# --- the action server's route --------------------------------------------------------------------------------
def test_the_internal_route_wants_the_service_token_and_nothing_else(
    hs: HandoffSetup, clients: Dict[str, Client]
) -> None:
    body = {"conversation_id": hs.senders["casablanca"], "channel": "socketio"}
    url = f"{hs.console.url}/internal/v1/handoffs"
    assert requests.post(url, json=body, timeout=10).status_code == 401
    for header in ("Bearer wrong", f"Basic {hs.console.service_token}", hs.console.service_token, "Bearer "):
        assert requests.post(url, json=body, headers={"Authorization": header}, timeout=10).status_code == 401
    # A staff login is not the service's token.
    admin = clients["admin"]
    assert admin.http.post(url, json=body, headers={"X-CSRF-Token": admin.csrf or ""}, timeout=10).status_code == 401
    assert hs.console.ask_for_adviser({"channel": "socketio"}, token="wrong").status_code == 401  # body unread
    # Not even parsed: a body that is not JSON, or a huge one, without the token is a 401, not a parser's 422.
    for raw in (b"not json", b"{" * 100_000):
        answer = requests.post(url, data=raw, headers={"Content-Type": "application/json"}, timeout=10)
        assert answer.status_code == 401, answer.text
    bad = hs.console.ask_for_adviser({"channel": "socketio"})
    assert bad.status_code == 422 and "conversation_id" in bad.text


def test_a_request_is_queued_once_per_conversation_with_its_place_and_an_estimate(hs: HandoffSetup) -> None:
    first = ask(hs, "casablanca", **CASABLANCA_REQUEST)
    assert first.status_code == 201, first.text
    answer = first.json()
    assert answer["status"] == "queued" and answer["open_now"] is True and answer["next_opening"] is None
    assert answer["position"] >= 1 and answer["wait_minutes"] == 10
    # No claim to learn from yet: 5 minutes a request, shared by the region's advisers logged in (at least one).
    assert isinstance(answer["estimate_minutes"], int) and answer["estimate_minutes"] >= 1
    again = ask(hs, "casablanca", region="casablanca-settat")
    assert again.status_code == 200 and again.json()["id"] == answer["id"]


def test_a_request_outside_opening_hours_says_when_and_leaves_the_bot_answering(tmp_path: Path, log_dir: Path) -> None:
    today = dt.datetime.now(ZoneInfo("Africa/Casablanca")).date().isoformat()
    tracker_url, database_url = f"sqlite:///{tmp_path / 'tracker.db'}", f"sqlite:///{tmp_path / 'console.db'}"
    senders = save_conversations(tracker_url, {"late": handoff_conversations(time.time())["casablanca"]}, "off")
    console = ConsoleProcess(database_url, tracker_url, log_dir, HANDOFF_HOLIDAYS=today)
    try:
        response = console.ask_for_adviser({"conversation_id": senders["late"], "channel": "socketio"})
        assert response.status_code == 201, response.text
        answer = response.json()
        assert answer["open_now"] is False and answer["estimate_minutes"] is None
        assert answer["next_opening"] is not None and answer["next_opening"][:10] > today
        listed = console.login("supervisor").get("/api/v1/handoffs").json()["data"]
        assert [(h["within_hours"], h["bot_active"]) for h in listed] == [(False, True)]
    finally:
        console.stop()


# --- who sees what ---------------------------------------------------------------------------------------------
def test_requests_reach_the_advisers_of_their_region(hs: HandoffSetup, clients: Dict[str, Client]) -> None:
    # The request of the test above (one per conversation), or the same made here if this test runs alone.
    casa = handoff_id(hs, "casablanca", **CASABLANCA_REQUEST)
    oujda = handoff_id(hs, "oujda", region="oriental", channel="whatsapp")
    unknown = handoff_id(hs, "nowhere", region=None, channel="twilio_whatsapp")
    assert {casa, unknown} <= set(ids(clients["adv-casa"])) and oujda not in ids(clients["adv-casa"])
    assert {oujda, unknown} <= set(ids(clients["adv-oriental"])) and casa not in ids(clients["adv-oriental"])
    for name in ("adv-all", "supervisor", "admin"):
        assert {casa, oujda, unknown} <= set(ids(clients[name]))
    assert clients["adv-oriental"].get(f"/api/v1/handoffs/{casa}").status_code == 404
    assert clients["adv-oriental"].post_json(f"/api/v1/handoffs/{casa}/claim", {}).status_code == 404
    shown = detail(clients["adv-casa"], casa)
    assert shown["region"] == "casablanca-settat" and shown["status"] == "queued"
    assert shown["eligibility"] == shown["summary"]["eligibility"] == {"age": 20, "education": "bac"}
    assert (shown["summary"]["verdict"], shown["summary"]["reason"], shown["city"]) == (
        "maybe",
        "verdict",
        "casablanca",
    )
    assert hs.senders["casablanca"] not in json.dumps(shown)  # a pseudonym, never the conversation id
    # The person's words before the request, masked like everywhere in the console, in the inbox too.
    wait_for(lambda: detail(clients["adv-casa"], casa)["summary"]["last_messages"] != [])
    assert [m["text"] for m in detail(clients["adv-casa"], casa)["summary"]["last_messages"]] == [
        "bghit nhder m3a chi wahed"
    ]
    [listed] = [h for h in clients["adv-casa"].get("/api/v1/handoffs").json()["data"] if h["id"] == casa]
    assert [m["text"] for m in listed["last_messages"]] == ["bghit nhder m3a chi wahed"]


def test_reviewers_do_not_see_handoffs_and_strangers_are_told_to_log_in(
    hs: HandoffSetup, clients: Dict[str, Client]
) -> None:
    hid = handoff_id(hs, "casablanca", region="casablanca-settat")
    reviewer = clients["reviewer"]
    for path in ("/api/v1/handoffs", f"/api/v1/handoffs/{hid}", "/api/v1/handoffs/stream", "/api/v1/canned-replies"):
        assert reviewer.get(path).status_code == 403, path
        assert requests.get(hs.console.url + path, timeout=10).status_code == 401, path
    assert reviewer.post_json(f"/api/v1/handoffs/{hid}/claim", {}).status_code == 403


def test_a_write_without_the_pages_csrf_token_is_refused(hs: HandoffSetup, clients: Dict[str, Client]) -> None:
    hid = handoff_id(hs, "casablanca", region="casablanca-settat")
    assert clients["adv-casa"].post_json(f"/api/v1/handoffs/{hid}/claim", {}, csrf=False).status_code == 403
    assert clients["adv-casa"].post_json(f"/api/v1/handoffs/{hid}/notes", {"text": "x"}, csrf=False).status_code == 403
    assert detail(clients["adv-casa"], hid)["status"] == "queued"


# --- taking a request ------------------------------------------------------------------------------------------
def test_two_advisers_take_the_same_request_at_once_and_exactly_one_gets_it(
    hs: HandoffSetup, clients: Dict[str, Client]
) -> None:
    hid = handoff_id(hs, "race", region="casablanca-settat")
    contenders = [clients["adv-casa"], clients["adv-all"]]
    for client in contenders:
        client.page("/conversations")  # the CSRF token first, so that both requests leave together
    start = threading.Barrier(len(contenders))
    answers: List[requests.Response] = []

    def take(client: Client) -> None:
        start.wait()
        answers.append(client.post_json(f"/api/v1/handoffs/{hid}/claim", {}))

    threads = [threading.Thread(target=take, args=(client,)) for client in contenders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(a.status_code for a in answers) == [200, 409]
    loser = next(a for a in answers if a.status_code == 409)
    assert loser.json()["detail"] == "Already taken by another adviser."
    winner = next(a for a in answers if a.status_code == 200).json()
    assert winner["status"] == "assigned" and winner["adviser"]["username"] in ("adv-casa", "adv-all")
    assert executed(hs, "race") == ["action_handoff_taken"]  # the person was told once
    call = hs.rasa.calls_to(hs.senders["race"])[0]
    assert call["params"] == {"output_channel": "socketio"}


def test_when_rasa_is_down_a_claim_is_undone_and_the_request_stays_queued(
    hs: HandoffSetup, clients: Dict[str, Client]
) -> None:
    hid = handoff_id(hs, "closing", region="casablanca-settat")
    hs.rasa.stop_listening()
    try:
        response = clients["adv-casa"].post_json(f"/api/v1/handoffs/{hid}/claim", {})
    finally:
        hs.rasa.listen()
    assert response.status_code == 503, response.text
    assert "could not be told" in response.json()["detail"] and "stays in the queue" in response.json()["detail"]
    shown = detail(clients["adv-casa"], hid)
    assert shown["status"] == "queued" and shown["adviser"] is None and shown["claimed_at"] is None
    assert hid in ids(clients["adv-casa"], "queued")
    assert hs.console.rasa_token not in hs.console.log_text()


# --- replying --------------------------------------------------------------------------------------------------
def test_a_reply_goes_through_rasa_marked_with_the_advisers_id(hs: HandoffSetup, clients: Dict[str, Client]) -> None:
    hid = claimed(hs, clients, "casablanca", by="adv-casa", region="casablanca-settat")
    adviser_id = detail(clients["adv-casa"], hid)["adviser"]["id"]
    response = clients["adv-casa"].post_json(f"/api/v1/handoffs/{hid}/messages", {"text": "Bonjour, je suis là."})
    assert response.status_code == 200, response.text
    assert response.json() == {"id": response.json()["id"], "state": "sent", "reason": None, "code": None}
    [call] = sent_events(hs, "casablanca")
    assert call["params"] == {"execute_side_effects": "true", "output_channel": "socketio"}
    assert call["body"] == [{"event": "bot", "text": "Bonjour, je suis là.", "metadata": {"adviser_id": adviser_id}}]
    shown = detail(clients["adv-casa"], hid)
    out = [m for m in shown["messages"] if m["direction"] == "out" and m["author"]]
    assert [(m["text"], m["state"], m["author"]["username"]) for m in out] == [
        ("Bonjour, je suis là.", "sent", "adv-casa")
    ]
    assert shown["first_reply_at"] is not None
    # Another adviser may not write in it; a supervisor may.
    other = clients["adv-all"].post_json(f"/api/v1/handoffs/{hid}/messages", {"text": "moi aussi"})
    assert other.status_code == 403
    assert clients["supervisor"].post_json(f"/api/v1/handoffs/{hid}/messages", {"text": "Je suis superviseur."}).ok


def test_contact_details_are_refused_to_advisers_with_the_reason_but_a_supervisor_may(
    hs: HandoffSetup, clients: Dict[str, Client]
) -> None:
    hid = claimed(hs, clients, "watched", by="adv-all")
    before = len(sent_events(hs, "watched"))
    refused = clients["adv-all"].post_json(f"/api/v1/handoffs/{hid}/messages", {"text": f"Appelle-moi au {PHONE}"})
    assert refused.status_code == 422, refused.text
    assert "phone" in refused.json()["detail"] and refused.json()["contact_details"] == ["phone"]
    assert len(sent_events(hs, "watched")) == before
    allowed = clients["supervisor"].post_json(
        f"/api/v1/handoffs/{hid}/messages", {"text": f"Le centre répond au {PHONE}"}
    )
    assert allowed.status_code == 200 and allowed.json()["state"] == "sent"
    # Shown masked afterwards, like every phone number in the console.
    texts = [m["text"] for m in detail(clients["adv-all"], hid)["messages"] if m["direction"] == "out"]
    assert "Le centre répond au [téléphone]" in texts


def test_rest_conversations_cannot_be_written_to_and_the_console_says_so(
    hs: HandoffSetup, clients: Dict[str, Client]
) -> None:
    hid = claimed(hs, clients, "rest", channel="rest")
    shown = detail(clients["adv-all"], hid)
    assert shown["reply"]["can_reply"] is False and shown["reply"]["why_not"] == "rest_channel"
    response = clients["adv-all"].post_json(f"/api/v1/handoffs/{hid}/messages", {"text": "Bonjour"})
    assert response.status_code == 409 and "REST" in response.json()["detail"]
    assert sent_events(hs, "rest") == []


def test_outside_whatsapps_24_hours_only_the_template_goes(hs: HandoffSetup, clients: Dict[str, Client]) -> None:
    hid = claimed(hs, clients, "stale", channel="whatsapp")
    assert detail(clients["adv-all"], hid)["reply"]["can_reply"] is True
    set_column(hs, hid, last_inbound_at=time.time() - 25 * 3600)  # the clock, moved a day on
    shown = detail(clients["adv-all"], hid)
    assert shown["reply"]["why_not"] == "outside_window" and shown["reply"]["templates"] == ["handoff"]
    free = clients["adv-all"].post_json(f"/api/v1/handoffs/{hid}/messages", {"text": "Tu es là ?"})
    assert free.status_code == 409 and free.json()["templates"] == ["handoff"]
    template = clients["adv-all"].post_json(f"/api/v1/handoffs/{hid}/messages", {"template": "handoff"})
    assert template.status_code == 200 and template.json()["state"] == "sent"
    [call] = sent_events(hs, "stale")
    assert call["body"][0]["data"] == {"custom": {"tawjih_template": "handoff"}}  # type: ignore[index]


def test_a_reply_the_platform_refuses_shows_failed_with_the_code_and_can_be_sent_again(
    hs: HandoffSetup, clients: Dict[str, Client]
) -> None:
    hid = claimed(hs, clients, "failing", channel="whatsapp")
    hs.rasa.answer = (500, {"status": "failure", "message": "delivery_failed:platform_refused:131047"})
    try:
        response = clients["adv-all"].post_json(f"/api/v1/handoffs/{hid}/messages", {"text": "Bonjour"})
    finally:
        hs.rasa.answer = None
    assert response.status_code == 502, response.text
    failed = response.json()
    assert (failed["state"], failed["reason"], failed["code"]) == ("failed", "platform_refused", "131047")
    [message] = [m for m in detail(clients["adv-all"], hid)["messages"] if m["id"] == failed["id"]]
    assert message["state"] == "failed" and message["code"] == "131047"
    assert detail(clients["adv-all"], hid)["first_reply_at"] is None  # nothing reached the person yet
    again = clients["adv-all"].post_json(f"/api/v1/handoffs/{hid}/messages/{failed['id']}/retry", {})
    assert again.status_code == 200 and again.json() == {
        "id": failed["id"],
        "state": "sent",
        "reason": None,
        "code": None,
    }
    assert clients["adv-all"].post_json(f"/api/v1/handoffs/{hid}/messages/{failed['id']}/retry", {}).status_code == 409


def test_when_rasa_is_down_a_reply_is_failed_never_sent(hs: HandoffSetup, clients: Dict[str, Client]) -> None:
    hid = claimed(hs, clients, "oujda", channel="whatsapp", region="oriental")
    hs.rasa.stop_listening()
    try:
        response = clients["adv-all"].post_json(f"/api/v1/handoffs/{hid}/messages", {"text": "Bonjour"})
        closing = clients["adv-all"].post_json(f"/api/v1/handoffs/{hid}/close", {"outcome": "answered"})
    finally:
        hs.rasa.listen()
    assert response.status_code == 502 and response.json()["state"] == "failed"
    assert response.json()["reason"] == "rasa_unreachable"
    assert closing.status_code == 503 and "stays open" in closing.json()["detail"]
    shown = detail(clients["adv-all"], hid)
    assert shown["status"] == "assigned"
    assert [m["state"] for m in shown["messages"] if m["direction"] == "out" and m["author"]] == ["failed"]


def test_a_note_is_kept_for_staff_and_never_sent(hs: HandoffSetup, clients: Dict[str, Client]) -> None:
    hid = claimed(hs, clients, "urgent", by="adv-all")
    before = list(hs.rasa.calls_to(hs.senders["urgent"]))
    response = clients["adv-all"].post_json(f"/api/v1/handoffs/{hid}/notes", {"text": "Rappeler le centre de Casa"})
    assert response.status_code == 200, response.text
    assert hs.rasa.calls_to(hs.senders["urgent"]) == before
    notes = [m for m in detail(clients["supervisor"], hid)["messages"] if m["direction"] == "note"]
    assert [(n["text"], n["state"]) for n in notes] == [("Rappeler le centre de Casa", None)]


def test_a_request_can_move_to_another_region_or_adviser(hs: HandoffSetup, clients: Dict[str, Client]) -> None:
    hid = claimed(hs, clients, "transfer", by="adv-casa", region="casablanca-settat")
    assert clients["adv-all"].post_json(f"/api/v1/handoffs/{hid}/transfer", {"region": "oriental"}).status_code == 403
    moved = clients["adv-casa"].post_json(f"/api/v1/handoffs/{hid}/transfer", {"region": "oriental"})
    assert moved.status_code == 200, moved.text
    assert (moved.json()["status"], moved.json()["region"], moved.json()["adviser"]) == ("queued", "oriental", None)
    assert hid in ids(clients["adv-oriental"], "queued") and hid not in ids(clients["adv-casa"])
    assert (
        clients["adv-oriental"].post_json(f"/api/v1/handoffs/{hid}/transfer", {"region": "atlantis"}).status_code == 422
    )
    target = next(
        a for a in clients["supervisor"].get("/api/v1/advisers").json()["data"] if a["username"] == "adv-oriental"
    )
    assert target["regions"] == ["oriental"] and target["online"] is True
    given = clients["supervisor"].post_json(f"/api/v1/handoffs/{hid}/transfer", {"adviser_id": target["id"]})
    assert given.status_code == 200, given.text
    assert (given.json()["status"], given.json()["adviser"]["username"]) == ("assigned", "adv-oriental")
    assert executed(hs, "transfer") == ["action_handoff_taken", "action_handoff_taken"]
    history = [m["text"] for m in detail(clients["adv-oriental"], hid)["messages"] if m["direction"] == "system"]
    assert history == ["Transférée à la région oriental."]


def test_closing_tells_the_person_and_records_the_outcome(hs: HandoffSetup, clients: Dict[str, Client]) -> None:
    hid = claimed(hs, clients, "ended", by="adv-all")
    assert clients["adv-casa"].post_json(f"/api/v1/handoffs/{hid}/close", {"outcome": "answered"}).status_code == 403
    assert clients["adv-all"].post_json(f"/api/v1/handoffs/{hid}/close", {"outcome": "bored"}).status_code == 422
    response = clients["adv-all"].post_json(f"/api/v1/handoffs/{hid}/close", {"outcome": "referred"})
    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["outcome"]) == ("closed", "referred")
    assert executed(hs, "ended")[-1] == "action_handoff_closed"
    assert hid in ids(clients["adv-all"], "closed") and hid not in ids(clients["adv-all"])
    assert clients["adv-all"].post_json(f"/api/v1/handoffs/{hid}/messages", {"text": "encore"}).status_code == 409
    # The same conversation may ask again: a new request.
    assert ask(hs, "ended").status_code == 201


def test_every_read_and_change_is_audited_without_content(hs: HandoffSetup, clients: Dict[str, Client]) -> None:
    hid = handoff_id(hs, "restart")
    detail(clients["adv-all"], hid)
    clients["adv-all"].post_json(f"/api/v1/handoffs/{hid}/notes", {"text": "note secrète 0612345678"})
    entries = clients["supervisor"].get("/api/v1/audit").json()["data"]
    mine = [e for e in entries if e["detail"].get("handoff_id") == hid]
    assert {e["action"] for e in mine} >= {"handoff_read", "handoff_note"}
    assert "secrète" not in json.dumps(entries) and hs.senders["restart"] not in json.dumps(entries)


# --- canned replies, regions -----------------------------------------------------------------------------------
def test_canned_replies_in_three_registers_edited_by_supervisors(hs: HandoffSetup, clients: Dict[str, Client]) -> None:
    listed = clients["adv-casa"].get("/api/v1/canned-replies").json()["data"]
    assert {r["register"] for r in listed} == {"french", "darija_latin", "darija_arabic"}
    body = {"register": "darija_latin", "title": "Wakha", "text": "Wakha, ghadi nchouf lik."}
    assert clients["adv-casa"].post_json("/api/v1/canned-replies", body).status_code == 403
    made = clients["supervisor"].post_json("/api/v1/canned-replies", body)
    assert made.status_code == 201 and made.json()["updated_by"] == "supervisor"
    rid = made.json()["id"]
    changed = call(clients["supervisor"], "PUT", f"/api/v1/canned-replies/{rid}", {**body, "text": "Wakha!"})
    assert changed.status_code == 200 and changed.json()["text"] == "Wakha!"
    assert clients["supervisor"].post_json("/api/v1/canned-replies", {**body, "register": "klingon"}).status_code == 422
    gone = call(clients["supervisor"], "DELETE", f"/api/v1/canned-replies/{rid}")
    assert gone.status_code == 200
    assert rid not in [r["id"] for r in clients["adv-casa"].get("/api/v1/canned-replies").json()["data"]]


def test_an_admin_sets_an_advisers_regions(hs: HandoffSetup, clients: Dict[str, Client]) -> None:
    advisers = clients["admin"].get("/api/v1/advisers").json()["data"]
    uid = next(a["id"] for a in advisers if a["username"] == "adviser")

    def put(client: Client, regions: List[str]) -> requests.Response:
        return call(client, "PUT", f"/api/v1/users/{uid}/regions", {"regions": regions})

    assert put(clients["supervisor"], ["oriental"]).status_code == 403
    assert put(clients["admin"], ["atlantis"]).status_code == 422
    answer = put(clients["admin"], ["oriental", "casablanca-settat"])
    assert answer.status_code == 200 and answer.json()["regions"] == ["casablanca-settat", "oriental"]
    listed = hs.console.cli("users", "regions", "adviser").stdout
    assert "casablanca-settat,oriental" in listed
    refused = hs.console.cli("users", "regions", "adviser", "--set", "atlantis", check=False)
    assert refused.returncode == 1 and "atlantis" in refused.stderr
    assert "all" in hs.console.cli("users", "regions", "adviser", "--set", "all").stdout


# --- the live stream -------------------------------------------------------------------------------------------
class Stream:
    """An EventSource, as the inbox opens it: every event read in a thread of its own."""

    def __init__(self, client: Client, last_event_id: Optional[int] = None) -> None:
        headers = {"Last-Event-ID": str(last_event_id)} if last_event_id is not None else {}
        self.response = client.http.get(
            client.url + "/api/v1/handoffs/stream", headers=headers, stream=True, timeout=30
        )
        self.events: List[dict] = []
        self.lines: List[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        event: Dict[str, str] = {}
        try:
            for raw in self.response.iter_lines(decode_unicode=True):
                self.lines.append(raw)
                if raw.startswith(("id: ", "data: ")):
                    key, _, value = raw.partition(": ")
                    event[key] = value
                elif raw == "" and "data" in event:
                    self.events.append({"id": int(event["id"]), **json.loads(event["data"])})
                    event = {}
        except (requests.RequestException, AttributeError, ValueError):
            return

    def kinds(self, hid: int) -> List[str]:
        return [e["kind"] for e in self.events if e["handoff_id"] == hid]

    def close(self) -> None:
        self.response.raw.shutdown()  # unblocks the reading thread at once (a plain close waits for its timeout)
        self.response.close()


def test_the_live_stream_tells_each_adviser_what_is_theirs(hs: HandoffSetup, clients: Dict[str, Client]) -> None:
    supervisor, oriental = Stream(clients["supervisor"]), Stream(clients["adv-oriental"])
    try:
        assert supervisor.response.status_code == 200
        assert supervisor.response.headers["content-type"].startswith("text/event-stream")
        wait_for(lambda: "retry: 3000" in supervisor.lines and "retry: 3000" in oriental.lines)
        hid = handoff_id(hs, "stream", region="casablanca-settat", channel="twilio_whatsapp")
        clients["adv-casa"].post_json(f"/api/v1/handoffs/{hid}/notes", {"text": "vu"})
        wait_for(lambda: "note" in supervisor.kinds(hid), timeout=15)
        first = supervisor.events[0]
        assert set(first) == {"id", "at", "kind", "handoff_id", "region", "actor_id", "detail"}
        assert "vu" not in json.dumps(supervisor.events)
        # Oriental's adviser hears nothing of a Casablanca request.
        assert oriental.kinds(hid) == []
    finally:
        supervisor.close()
        oriental.close()
    # Reconnecting with Last-Event-ID resumes after that event, missing nothing since.
    resumed = Stream(clients["supervisor"], last_event_id=first["id"] - 1)
    try:
        wait_for(lambda: any(e["id"] == first["id"] for e in resumed.events), timeout=15)
    finally:
        resumed.close()


def call(client: Client, method: str, path: str, body: object = None) -> requests.Response:
    """A PUT or DELETE as the inbox sends it, with the page's CSRF token."""
    if client.csrf is None:
        client.page("/conversations")
    return client.http.request(
        method, client.url + path, json=body, headers={"X-CSRF-Token": client.csrf or ""}, timeout=10
    )


def set_column(hs: HandoffSetup, hid: int, **values: object) -> None:
    """Change one of the console's rows directly: how a test moves the clock a day on."""
    engine = sa.create_engine(hs.console.env["CONSOLE_DATABASE_URL"])
    try:
        with engine.begin() as connection:
            table = sa.table("handoffs", sa.column("id"), *(sa.column(name) for name in values))
            connection.execute(sa.update(table).where(table.c.id == hid).values(**values))
    finally:
        engine.dispose()


def test_serve_refuses_to_start_without_its_handoff_secrets_or_with_unreadable_hours(tmp_path: Path) -> None:
    base = {k: v for k, v in os.environ.items() if k not in ("RASA_AUTH_TOKEN", "HANDOFF_SERVICE_TOKEN")}
    env = {
        **base,
        "RASA_TELEMETRY_ENABLED": "false",
        "CONSOLE_SECRET_KEY": "k" * 32,
        "CONSOLE_DATABASE_URL": f"sqlite:///{tmp_path / 'console.db'}",
        "CONSOLE_PORT": str(free_port()),
    }
    secrets_given = {"RASA_AUTH_TOKEN": "r" * 24, "HANDOFF_SERVICE_TOKEN": "s" * 24}
    cases = [
        ({"HANDOFF_SERVICE_TOKEN": "s" * 24}, "RASA_AUTH_TOKEN is not set"),
        ({"RASA_AUTH_TOKEN": "r" * 24}, "HANDOFF_SERVICE_TOKEN is not set"),
        ({**secrets_given, "HANDOFF_OPENING_HOURS": "whenever"}, "HANDOFF_OPENING_HOURS"),
        ({**secrets_given, "HANDOFF_WAIT_MINUTES": "0"}, "HANDOFF_WAIT_MINUTES"),
        ({**secrets_given, "RASA_URL": " , "}, "RASA_URL"),  # no instance: no message would go anywhere
    ]
    for given, said in cases:
        done = subprocess.run(
            [str(VENV_BIN / "python"), "-m", "console", "serve"],
            cwd=ROOT,
            env={**env, **given},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode != 0 and said in done.stderr, done.stderr[-2000:]
        assert "r" * 24 not in done.stderr and "s" * 24 not in done.stderr
