"""Reading and reviewing sessions through the real console: the transcript, review state, annotations turned
into Rasa training data that `rasa data validate` accepts, test stories, the supervisor's reveal, export and
erasure of one person, the figures — and personal data masked in every HTML page, JSON answer, CSV and YAML."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Dict, List

import pytest
import sqlalchemy as sa
import yaml

from console.api.deps import pseudonym
from tests.console.conftest import (
    CIN,
    EMAIL,
    FORMULA,
    PHONE,
    XSS,
    Client,
    Setup,
    console_today,
    save_conversations,
    session_start,
    turn,
    wait_for,
)
from tests.support.processes import ROOT, VENV_BIN

SECRETS = [PHONE, PHONE.replace(" ", ""), EMAIL, "karim.benali", CIN, "Benali"]


def session_of(client: Client, setup: Setup, name: str) -> int:
    wanted = pseudonym(setup.seeded.senders[name])
    rows = client.get("/api/v1/conversations").json()["data"]
    return int(next(row["session_id"] for row in rows if row["conversation"] == wanted))


def assert_masked(text: str, where: str) -> None:
    for value in SECRETS:
        assert value not in text, f"{value!r} shows in {where}"


def test_the_transcript_shows_each_turn_with_its_reading(setup: Setup, reviewer: Client) -> None:
    session_id = session_of(reviewer, setup, "french_pii")
    detail = reviewer.get(f"/api/v1/conversations/{session_id}").json()
    users = [item for item in detail["items"] if item["kind"] == "user"]
    bots = [item for item in detail["items"] if item["kind"] == "bot"]
    assert [u["intent"] for u in users] == ["greet", "inform", "ask_programmes"]
    assert all(u["confidence"] == pytest.approx(0.93) and u["register"] == "french" for u in users)
    assert [b["action"] for b in bots] == ["action_welcome", "action_acknowledge_inform", "action_list_programmes"]
    assert bots[-1]["buttons"][0]["title"] == "Digital-Offshoring"
    assert users[1]["seconds_since_previous"] == pytest.approx(28.4, abs=0.05)  # since the reply at t+1.6
    assert {v["kind"] for v in users[1]["masked_values"]} >= {"phone", "email", "cin"}
    assert "[téléphone]" in users[1]["text"] and "[e-mail]" in users[1]["text"] and "[CIN]" in users[1]["text"]
    assert detail["slots"] == {"register": "french"}
    page = reviewer.page(f"/conversations/{session_id}")
    assert '<button type="button" disabled' in page.text and "Digital-Offshoring</button>" in page.text
    assert "action_list_programmes" in page.text


def test_arabic_script_reads_right_to_left_and_latin_left_to_right(setup: Setup, reviewer: Client) -> None:
    page = reviewer.page(f"/conversations/{session_of(reviewer, setup, 'darija_arabic_verdict')}")
    assert '<p class="text" dir="rtl">واش خاصني الباك؟</p>' in page.text
    page = reviewer.page(f"/conversations/{session_of(reviewer, setup, 'darija_latin_fallback')}")
    assert '<p class="text" dir="ltr">salam</p>' in page.text


def test_what_a_person_typed_is_shown_as_text_never_as_html(setup: Setup, reviewer: Client) -> None:
    session_id = session_of(reviewer, setup, "hostile")
    page = reviewer.page(f"/conversations/{session_id}")
    assert XSS not in page.text
    assert "&lt;img src=x onerror=alert(1)&gt;" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert reviewer.get(f"/api/v1/conversations/{session_id}").json()["items"][1]["text"] == XSS


def test_the_figures_as_json_and_as_csv_with_formulas_neutralised(setup: Setup, reviewer: Client) -> None:
    today = console_today()
    stats = reviewer.get(f"/api/v1/stats?to={today}").json()
    assert sum(day["total"] for day in stats["conversations_per_day"]) == 7
    channels: Dict[str, int] = {}
    for day in stats["conversations_per_day"]:
        for name, count in day["by_channel"].items():
            channels[name] = channels.get(name, 0) + count
    assert channels == {"rest": 5, "socketio": 1, "whatsapp": 1}
    assert stats["eligibility"] == {"started": 1, "finished": 1}
    assert sum(d["count"] for d in stats["adviser_requests_per_day"]) == 1
    assert {"intent": "nlu_fallback", "count": 3} in stats["top_intents"]
    fallback_texts = {m["text"] for m in stats["top_fallback_messages"]}
    assert {XSS, FORMULA, "blablabla xyz"} <= fallback_texts
    csv_text = reviewer.get(f"/api/v1/stats?to={today}&format=csv").text
    assert "'" + FORMULA.replace('"', '""') in csv_text
    assert not re.search(r"(^|,)[=+\-@]", csv_text, re.MULTILINE)
    assert reviewer.get("/api/v1/stats?from=2026-13-01").status_code == 400
    assert reviewer.get("/api/v1/stats?from=2026-11-30&to=2026-11-01").status_code == 400
    page = reviewer.page("/analytics?from=nonsense")
    assert page.status_code == 400 and "YYYY-MM-DD" in page.text


def test_review_state_tags_with_suggestions_note_and_history(
    setup: Setup, reviewer: Client, supervisor: Client
) -> None:
    session_id = session_of(reviewer, setup, "bystander")
    reviewer.page(f"/conversations/{session_id}")
    form = reviewer.post_form(
        f"/conversations/{session_id}/review", {"status": "reviewed", "tags": "Politesse, merci", "note": "RAS <b>"}
    )
    assert form.status_code == 303
    detail = supervisor.get(f"/api/v1/conversations/{session_id}").json()["review"]
    assert detail["status"] == "reviewed" and detail["tags"] == ["merci", "politesse"]
    assert detail["note"] == "RAS <b>" and detail["updated_by"] == "reviewer"
    assert {h["change"] for h in detail["history"]} == {
        "status new → reviewed",
        "note edited",
        "tags +politesse +merci",
    }
    other = session_of(reviewer, setup, "french_pii")
    page = supervisor.page(f"/conversations/{other}")
    assert '<option value="politesse">' in page.text  # suggested from the tags in use
    bad = supervisor.post_json(f"/api/v1/conversations/{other}/review", {"status": "done"})
    assert bad.status_code == 422 and "status" in bad.json()["detail"]
    assert "RAS &lt;b&gt;" in reviewer.page(f"/conversations/{session_id}").text


def test_annotations_become_nlu_data_that_rasa_validates(setup: Setup, reviewer: Client, tmp_path: Path) -> None:
    fallback = session_of(reviewer, setup, "darija_latin_fallback")
    event_id = next(
        i["event_id"]
        for i in reviewer.get(f"/api/v1/conversations/{fallback}").json()["items"]
        if i["kind"] == "user" and i["intent"] == "nlu_fallback"
    )
    done = reviewer.post_json(
        f"/api/v1/conversations/{fallback}/annotations", {"event_id": event_id, "intent": "out_of_scope"}
    )
    assert done.status_code == 200, done.text
    pii = session_of(reviewer, setup, "french_pii")
    items = reviewer.get(f"/api/v1/conversations/{pii}").json()["items"]
    pii_event = [i for i in items if i["kind"] == "user"][1]["event_id"]
    assert (
        reviewer.post_json(
            f"/api/v1/conversations/{pii}/annotations", {"event_id": pii_event, "intent": "no_such_intent"}
        ).status_code
        == 422
    )
    assert (
        reviewer.post_json(
            f"/api/v1/conversations/{pii}/annotations",
            {"event_id": pii_event, "intent": "inform", "entities": [{"entity": "phone", "text": "numéro"}]},
        ).status_code
        == 422
    )
    arabic = session_of(reviewer, setup, "darija_arabic_verdict")
    arabic_event = next(
        i["event_id"] for i in reviewer.get(f"/api/v1/conversations/{arabic}").json()["items"] if i["kind"] == "user"
    )
    # Through the page's form, with an entity picked from the domain.
    reviewer.page(f"/conversations/{arabic}")
    form = reviewer.post_form(
        f"/conversations/{arabic}/annotations",
        {"event_id": str(arabic_event), "intent": "ask_eligibility", "entities": "education_level=الباك"},
    )
    assert form.status_code == 303, form.text[:500]
    assert (
        reviewer.post_json(
            f"/api/v1/conversations/{pii}/annotations", {"event_id": pii_event, "intent": "inform"}
        ).status_code
        == 200
    )
    # A hostile message as training data stays one inert example.
    hostile = session_of(reviewer, setup, "hostile")
    hostile_event = next(
        i["event_id"] for i in reviewer.get(f"/api/v1/conversations/{hostile}").json()["items"] if i["kind"] == "user"
    )
    assert (
        reviewer.post_json(
            f"/api/v1/conversations/{hostile}/annotations", {"event_id": hostile_event, "intent": "out_of_scope"}
        ).status_code
        == 200
    )

    exported = reviewer.get("/api/v1/export/nlu").text
    assert_masked(exported, "the NLU export")
    data = yaml.safe_load(exported)
    examples = {entry["intent"]: entry["examples"] for entry in data["nlu"]}
    assert "blablabla xyz" in examples["out_of_scope"] and "[الباك](education_level)" in examples["ask_eligibility"]
    assert "[téléphone]" not in examples["inform"] and "(téléphone)" in examples["inform"]
    cli = setup.console.cli("export-nlu", "--since", console_today())
    assert cli.stdout == exported
    assert yaml.safe_load(setup.console.cli("export-nlu", "--since", "2999-01-01").stdout)["nlu"] == []

    project = tmp_path / "project"
    project.mkdir()
    for name in ("data", "domain.yml", "config.yml"):
        source = ROOT / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, project / name)
    (project / "data" / "nlu" / "console_annotations.yml").write_text(exported, encoding="utf-8")
    validated = subprocess.run(
        [str(VENV_BIN / "rasa"), "data", "validate", "--max-history", "5"],
        cwd=project,
        env={
            "PATH": str(VENV_BIN) + ":/usr/bin:/bin",
            "PYTHONPATH": str(ROOT),
            "RASA_TELEMETRY_ENABLED": "false",
            "HOME": str(tmp_path),
        },
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert validated.returncode == 0, validated.stdout[-3000:] + validated.stderr[-3000:]


def test_a_session_saved_as_a_test_story(setup: Setup, reviewer: Client) -> None:
    session_id = session_of(reviewer, setup, "french_pii")
    story = reviewer.get(f"/conversations/{session_id}/story.yml")
    assert story.status_code == 200 and "attachment" in story.headers["content-disposition"]
    assert_masked(story.text, "the test story")
    data = yaml.safe_load(story.text)
    steps = data["stories"][0]["steps"]
    assert [s.get("intent") for s in steps if "intent" in s][:3] == ["greet", "inform", "ask_programmes"]
    assert {"action": "action_list_programmes"} in steps


def test_masked_values_never_reach_a_page_json_csv_or_yaml(setup: Setup, supervisor: Client) -> None:
    pii = session_of(supervisor, setup, "french_pii")
    today = console_today()
    for path in ["/conversations", f"/conversations/{pii}", "/analytics", "/audit", "/conversations?q=karim"]:
        assert_masked(supervisor.page(path).text, path)
    for path in [
        "/api/v1/conversations",
        f"/api/v1/conversations/{pii}",
        f"/api/v1/stats?to={today}",
        f"/api/v1/stats?to={today}&format=csv",
        "/api/v1/export/nlu",
        f"/conversations/{pii}/story.yml",
        "/api/v1/audit",
    ]:
        assert_masked(supervisor.get(path).text, path)


def test_a_reviewer_cannot_reveal_and_a_supervisors_reveal_is_audited(
    setup: Setup, reviewer: Client, supervisor: Client
) -> None:
    pii = session_of(supervisor, setup, "french_pii")
    message = [i for i in supervisor.get(f"/api/v1/conversations/{pii}").json()["items"] if i["kind"] == "user"][1]
    phone_index = next(v["index"] for v in message["masked_values"] if v["kind"] == "phone")
    body = {"event_id": message["event_id"], "index": phone_index, "reason": "rappel demandé par la personne"}
    assert reviewer.post_json(f"/api/v1/conversations/{pii}/reveal", body).status_code == 403
    assert "Révéler" not in reviewer.page(f"/conversations/{pii}").text
    assert supervisor.post_json(f"/api/v1/conversations/{pii}/reveal", {**body, "reason": ""}).status_code == 422
    shown = supervisor.post_json(f"/api/v1/conversations/{pii}/reveal", body)
    assert shown.status_code == 200 and shown.json() == {"kind": "phone", "value": PHONE}
    assert supervisor.post_json(f"/api/v1/conversations/{pii}/reveal", {**body, "index": 42}).status_code == 404
    # Through the page's form too.
    supervisor.page(f"/conversations/{pii}")
    page = supervisor.post_form(
        f"/conversations/{pii}/reveal",
        {"event_id": str(message["event_id"]), "index": str(phone_index), "reason": "vérification du numéro"},
    )
    assert page.status_code == 200 and PHONE in page.text and page.headers["cache-control"] == "no-store"
    audit = supervisor.get("/api/v1/audit").json()["data"]
    reveals = [e for e in audit if e["action"] == "reveal"]
    assert len(reveals) == 2 and reveals[0]["by"] == "supervisor" and reveals[0]["session_id"] == pii
    assert (
        reveals[1]["detail"]["reason"] == "rappel demandé par la personne" and reveals[1]["detail"]["kind"] == "phone"
    )
    assert PHONE not in json.dumps(audit)


def _tracker_rows(setup: Setup, sender: str) -> int:
    engine = sa.create_engine(setup.tracker_store_url)
    try:
        with engine.connect() as connection:
            return int(
                connection.execute(
                    sa.text("SELECT count(*) FROM events WHERE sender_id = :s"), {"s": sender}
                ).scalar_one()
            )
    finally:
        engine.dispose()


def _console_rows(setup: Setup, sender: str, session_ids: List[int]) -> Dict[str, int]:
    engine = sa.create_engine(setup.database_url)
    counts = {}
    try:
        with engine.connect() as connection:
            counts["conversation_sessions"] = connection.execute(
                sa.text("SELECT count(*) FROM conversation_sessions WHERE sender_id = :s"), {"s": sender}
            ).scalar_one()
            for table in ("session_intents", "reviews", "review_events", "session_tags", "annotations"):
                counts[table] = sum(
                    connection.execute(
                        sa.text(f"SELECT count(*) FROM {table} WHERE session_id = :i"),  # noqa: S608 - our table names
                        {"i": i},
                    ).scalar_one()
                    for i in session_ids
                )
            audit = connection.execute(sa.text("SELECT detail FROM audit_log")).scalars().all()
            counts["audit_mentions"] = sum(1 for detail in audit if sender in str(detail))
    finally:
        engine.dispose()
    return counts


def test_a_supervisor_exports_then_erases_one_person_and_no_one_else(
    setup: Setup, reviewer: Client, supervisor: Client
) -> None:
    now = time.time()
    person = save_conversations(
        setup.tracker_store_url,
        {
            "erase_me": session_start(now - 7200)
            + turn(f"mon numéro {PHONE}", "inform", now - 7199, "rest", "french", "action_acknowledge_inform", "Noté.")
            + session_start(now - 60)
            + turn(
                "supprime tout stp",
                "request_data_deletion",
                now - 59,
                "rest",
                "french",
                "action_ask_erasure_confirmation",
                "Tu confirmes ?",
            )
        },
        "rights",
    )["erase_me"]
    wait_for(
        lambda: (
            len(
                [
                    r
                    for r in reviewer.get("/api/v1/conversations").json()["data"]
                    if r["conversation"] == pseudonym(person)
                ]
            )
            == 2
        )
    )
    sessions = [
        r["session_id"]
        for r in reviewer.get("/api/v1/conversations").json()["data"]
        if r["conversation"] == pseudonym(person)
    ]
    newest, oldest = sessions
    assert (
        reviewer.post_json(
            f"/api/v1/conversations/{oldest}/review", {"status": "needs_work", "tags": ["rgpd"], "note": "à voir"}
        ).status_code
        == 200
    )
    event_id = next(
        i["event_id"] for i in reviewer.get(f"/api/v1/conversations/{oldest}").json()["items"] if i["kind"] == "user"
    )
    assert (
        reviewer.post_json(
            f"/api/v1/conversations/{oldest}/annotations", {"event_id": event_id, "intent": "inform"}
        ).status_code
        == 200
    )
    others = {name: _tracker_rows(setup, sender) for name, sender in setup.seeded.senders.items()}

    # Access: a reviewer may not; a supervisor gets everything, as written, and it is audited.
    assert reviewer.post_json(f"/api/v1/conversations/{newest}/person-export", {}).status_code == 403
    exported = supervisor.post_json(f"/api/v1/conversations/{newest}/person-export", {})
    assert exported.status_code == 200 and "attachment" in exported.headers["content-disposition"]
    data = exported.json()
    assert data["conversation_id"] == person and len(data["sessions"]) == 2
    assert PHONE in json.dumps(data, ensure_ascii=False)  # the person's own data, not masked
    assert data["sessions"][0]["review_note"] == "à voir" and data["annotations"][0]["intent"] == "inform"
    assert len(data["tracker_store_events"]) == _tracker_rows(setup, person)

    # Erasure: confirmation required, then every session, everywhere; others untouched.
    supervisor.page(f"/conversations/{newest}/erase")
    assert supervisor.post_form(f"/conversations/{newest}/erase", {"confirm": "oui"}).status_code == 422
    assert supervisor.post_json(f"/api/v1/conversations/{newest}/erase", {"confirm": False}).status_code == 422
    assert _tracker_rows(setup, person) > 0
    erased = supervisor.post_form(f"/conversations/{newest}/erase", {"confirm": "EFFACER"})
    assert erased.status_code == 303 and erased.headers["location"] == "/conversations?done=erased-2"
    assert _tracker_rows(setup, person) == 0
    assert _console_rows(setup, person, sessions) == dict.fromkeys(
        [
            "conversation_sessions",
            "session_intents",
            "reviews",
            "review_events",
            "session_tags",
            "annotations",
            "audit_mentions",
        ],
        0,
    )
    assert {name: _tracker_rows(setup, sender) for name, sender in setup.seeded.senders.items()} == others
    assert supervisor.get(f"/api/v1/conversations/{oldest}").status_code == 404
    audit = supervisor.get("/api/v1/audit").json()["data"]
    assert (
        audit[0]["action"] == "erase_person" and audit[0]["detail"]["sessions"] == 2 and audit[0]["session_id"] is None
    )
    assert "supprime" not in json.dumps(audit) and PHONE not in json.dumps(audit)
    stats = supervisor.get(f"/api/v1/stats?to={console_today()}").json()
    assert sum(d["count"] for d in stats["deletion_requests_per_day"]) >= 1


def test_a_conversation_erased_in_the_chat_is_marked_erased_without_its_text(setup: Setup, reviewer: Client) -> None:
    from privacy.retention import erase_conversation

    now = time.time()
    sender = save_conversations(
        setup.tracker_store_url,
        {
            "in_chat": session_start(now)
            + turn(
                "efface mes données, je suis zineb",
                "request_data_deletion",
                now + 1,
                "rest",
                "french",
                "action_ask_erasure_confirmation",
                "Tu confirmes ?",
            )
        },
        "chat",
    )["in_chat"]
    wait_for(lambda: bool(reviewer.get("/api/v1/conversations?q=efface").json()["data"]))
    engine = sa.create_engine(setup.tracker_store_url)
    erase_conversation(engine, sender)
    engine.dispose()
    wait_for(lambda: not reviewer.get("/api/v1/conversations?q=efface").json()["data"])
    assert _console_rows(setup, sender, [])["conversation_sessions"] == 0


def test_a_session_of_5000_events_opens_paged_in_under_a_second(setup: Setup, reviewer: Client) -> None:
    now = time.time() - 5000
    events = session_start(now)
    for n in range(1000):
        events += turn(
            f"message {n}", "ask_programmes", now + n * 4, "rest", "french", "action_list_programmes", f"réponse {n}"
        )
    sender = save_conversations(setup.tracker_store_url, {"huge": events}, "huge")["huge"]
    wait_for(
        lambda: any(
            r["conversation"] == pseudonym(sender)
            for r in reviewer.get("/api/v1/conversations?min_length=1000").json()["data"]
        ),
        timeout=60,
    )
    session_id = reviewer.get("/api/v1/conversations?min_length=1000").json()["data"][0]["session_id"]
    reviewer.page(f"/conversations/{session_id}")  # warm
    for page in (1, 13, 26):
        started = time.monotonic()
        response = reviewer.page(f"/conversations/{session_id}?page={page}")
        elapsed = time.monotonic() - started
        assert response.status_code == 200 and elapsed < 1.0, (page, elapsed)
    detail = reviewer.get(f"/api/v1/conversations/{session_id}?page=26").json()
    assert detail["pages"] == 26 and detail["page"] == 26
    assert detail["items"][-1]["kind"] == "bot" and detail["items"][-1]["text"] == "réponse 999"
