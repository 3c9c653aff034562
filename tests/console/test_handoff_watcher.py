"""What the console learns from the tracker store while a person waits for or talks to an adviser: their messages
(masked, media and locations as notes), distress words (urgent), the person ending it, the wait running out, their
data erased; and that a restart of the console loses none of it. The tracker store is written by Rasa's own
SQLTrackerStore, as Rasa writes each turn."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, List

import pytest
import sqlalchemy as sa
from rasa.shared.core.events import ActionExecuted, BotUttered

from privacy.retention import erase_conversation
from tests.console.conftest import (
    PASSWORD,
    PHONE,
    Client,
    ConsoleProcess,
    RasaStandIn,
    append_events,
    drop_schemas,
    handoff_conversations,
    save_conversations,
    throwaway_schema,
    user,
    wait_for,
)

LONG = 30.0  # the first message waits for spaCy's model in the watcher's thread


@dataclass
class Watched:
    console: ConsoleProcess
    rasa: RasaStandIn
    tracker_store_url: str
    database_url: str
    senders: Dict[str, str]
    log_dir: Path

    def client(self, name: str) -> Client:
        return self.console.login(name)

    def ask(self, name: str, **fields: object) -> int:
        body = {"conversation_id": self.senders[name], "channel": "socketio", "register": "french", **fields}
        response = self.console.ask_for_adviser(body)
        assert response.status_code in (200, 201), response.text
        return int(response.json()["id"])

    def writes(self, name: str, text: str, intent: str = "inform") -> None:
        """The person writes while an adviser has the conversation: Rasa stores the message, the bot is paused."""
        at = time.time()
        append_events(
            self.tracker_store_url,
            self.senders[name],
            [user(text, intent, at, "socketio", "french"), ActionExecuted("action_listen", timestamp=at + 0.01)],
        )

    def restart(self) -> None:
        env = {k: v for k, v in self.console.env.items() if k not in ("CONSOLE_PORT", "CONSOLE_SECRET_KEY")}
        env.pop("CONSOLE_DATABASE_URL"), env.pop("TRACKER_STORE_URL")
        self.console.stop()
        self.console = ConsoleProcess(
            self.database_url, self.tracker_store_url, self.log_dir, existing_users=True, **env
        )


@pytest.fixture(scope="module")
def watched(backend: str, tmp_path_factory: pytest.TempPathFactory, log_dir: Path) -> Iterator[Watched]:
    if backend == "sqlite":
        work = tmp_path_factory.mktemp("handoff-watcher")
        tracker_url, database_url = f"sqlite:///{work / 'tracker.db'}", f"sqlite:///{work / 'console.db'}"
    else:
        tracker_url, database_url = throwaway_schema("wtracker"), throwaway_schema("wconsole")
    senders = save_conversations(tracker_url, handoff_conversations(time.time()), "w")
    rasa = RasaStandIn("rasa-watcher-token")
    console = ConsoleProcess(
        database_url,
        tracker_url,
        log_dir,
        RASA_URL=rasa.url,
        RASA_AUTH_TOKEN=rasa.token,
        HANDOFF_OPENING_HOURS="mon-sun 00:00-24:00",
        HANDOFF_WAIT_MINUTES="0.05",  # three seconds
    )
    console.cli("users", "add", "adv-all", "--role", "adviser", "--regions", "all", stdin=PASSWORD + "\n")
    state = Watched(console, rasa, tracker_url, database_url, senders, log_dir)
    try:
        yield state
    finally:
        state.console.stop()
        rasa.stop_listening()
        if backend == "postgresql":
            drop_schemas()


def shown(client: Client, hid: int) -> dict:
    response = client.get(f"/api/v1/handoffs/{hid}")
    assert response.status_code == 200, response.text
    return dict(response.json())


def listed(client: Client, hid: int) -> dict:
    for status in ("queued", "assigned", "closed"):
        for item in client.get(f"/api/v1/handoffs?status={status}").json()["data"]:
            if item["id"] == hid:
                return dict(item)
    raise AssertionError(f"handoff {hid} is not listed")


def messages_in(client: Client, hid: int) -> List[dict]:
    return [m for m in shown(client, hid)["messages"] if m["direction"] == "in"]


def test_what_the_person_writes_reaches_the_adviser_masked_and_counted(watched: Watched) -> None:
    adviser, supervisor = watched.client("adv-all"), watched.client("supervisor")
    hid = watched.ask("watched")
    assert adviser.post_json(f"/api/v1/handoffs/{hid}/claim", {}).status_code == 200
    watched.writes("watched", f"je m'appelle Karim Benali, mon numéro est {PHONE}")
    watched.writes("watched", '/send_media{"media": "audio"}', intent="send_media")
    watched.writes("watched", '/share_location{"latitude": 33.5731, "longitude": -7.5898}', intent="share_location")
    wait_for(lambda: listed(supervisor, hid)["unread"] == 3, timeout=LONG)
    found = messages_in(supervisor, hid)  # a supervisor reading does not clear the adviser's count
    assert [(m["kind"], m["text"]) for m in found] == [
        ("text", "je m'appelle [nom], mon numéro est [téléphone]"),
        ("voice", "🎤 note vocale"),
        ("location", "📍 position partagée"),
    ]
    everything = json.dumps(shown(supervisor, hid))
    assert "Karim" not in everything and "33.57" not in everything and "12 34" not in everything
    assert listed(supervisor, hid)["unread"] == 3 and listed(supervisor, hid)["last_inbound_at"] is not None
    # The request itself came before: it is in the summary, not counted as a message since; the inbox shows
    # the last three of both.
    assert [m["text"] for m in shown(supervisor, hid)["summary"]["last_messages"]] == ["bghit conseiller"]
    assert [m["text"] for m in listed(supervisor, hid)["last_messages"]] == [m["text"] for m in found]
    shown(adviser, hid)  # the adviser who has it reads it
    assert listed(supervisor, hid)["unread"] == 0
    log = watched.console.log_text()
    assert "Karim" not in log and PHONE not in log and watched.senders["watched"] not in log


def test_distress_words_make_the_request_urgent_and_first_in_line(watched: Watched) -> None:
    supervisor = watched.client("supervisor")
    calm = watched.ask("casablanca")
    hid = watched.ask("urgent")
    watched.writes("urgent", "j'ai envie de mourir, je sais plus quoi faire")
    wait_for(lambda: listed(supervisor, hid)["urgent"], timeout=LONG)
    order = [h["id"] for h in supervisor.get("/api/v1/handoffs?status=queued").json()["data"]]
    assert order.index(hid) < order.index(calm)
    engine = sa.create_engine(watched.database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text("SELECT kind, detail FROM handoff_log WHERE handoff_id = :h ORDER BY id"), {"h": hid}
            ).all()
    finally:
        engine.dispose()
    urgent = [json.loads(d) if isinstance(d, str) else d for kind, d in rows if kind == "urgent"]
    assert urgent == [{"categories": ["self_harm"], "adviser_id": None}]
    assert "mourir" not in json.dumps([r[1] for r in rows], default=str)


def test_distress_in_the_message_that_asked_for_an_adviser_counts_too(watched: Watched) -> None:
    supervisor = watched.client("supervisor")
    hid = watched.ask("distress", register="darija_latin")
    wait_for(lambda: listed(supervisor, hid)["urgent"], timeout=LONG)
    assert messages_in(supervisor, hid) == []  # it is the request, not a message to the adviser


def test_the_person_ending_it_closes_the_request(watched: Watched) -> None:
    supervisor = watched.client("supervisor")
    hid = watched.ask("ended")
    assert watched.client("adv-all").post_json(f"/api/v1/handoffs/{hid}/claim", {}).status_code == 200
    at = time.time()
    append_events(
        watched.tracker_store_url,
        watched.senders["ended"],
        [
            user("merci c'est bon", "end_handoff", at, "socketio", "french"),
            ActionExecuted("action_end_handoff", timestamp=at + 0.1),
            BotUttered("D'accord, je reprends.", {}, timestamp=at + 0.2),
            ActionExecuted("action_listen", timestamp=at + 0.3),
        ],
    )
    wait_for(lambda: listed(supervisor, hid)["status"] == "closed", timeout=LONG)
    assert listed(supervisor, hid)["outcome"] == "ended_by_person"
    assert "La personne a mis fin à l'échange." in [m["text"] for m in shown(supervisor, hid)["messages"]]


def test_a_request_no_adviser_takes_in_time_goes_back_to_the_bot_once_rasa_can_say_so(watched: Watched) -> None:
    supervisor = watched.client("supervisor")
    watched.rasa.stop_listening()
    try:
        hid = watched.ask("timeout")
        wait_for(lambda: f"Handoff {hid} waited too long" in watched.console.log_text(), timeout=LONG)
        assert (listed(supervisor, hid)["timed_out"], listed(supervisor, hid)["bot_active"]) == (False, False)
    finally:
        watched.rasa.listen()
    wait_for(lambda: listed(supervisor, hid)["timed_out"], timeout=LONG)
    item = listed(supervisor, hid)
    assert (item["status"], item["bot_active"]) == ("queued", True)  # still in the queue, the bot answering
    calls = watched.rasa.calls_to(watched.senders["timeout"])
    assert [c["body"] for c in calls] == [{"name": "action_handoff_timeout"}]


def test_a_person_who_erases_their_data_disappears_from_the_inbox(watched: Watched) -> None:
    supervisor = watched.client("supervisor")
    hid = watched.ask("erased")
    watched.writes("erased", "wach kayn chi formation f casa")
    wait_for(lambda: len(messages_in(supervisor, hid)) == 1, timeout=LONG)
    key_engine = sa.create_engine(watched.database_url)
    try:
        with key_engine.connect() as connection:
            key = connection.execute(sa.text("SELECT key FROM handoffs WHERE id = :h"), {"h": hid}).scalar_one()
        tracker = sa.create_engine(watched.tracker_store_url)
        try:
            assert erase_conversation(tracker, watched.senders["erased"]) > 0
        finally:
            tracker.dispose()
        wait_for(lambda: supervisor.get(f"/api/v1/handoffs/{hid}").status_code == 404, timeout=LONG)
        with key_engine.connect() as connection:
            log = connection.execute(
                sa.text("SELECT kind, handoff_id FROM handoff_log WHERE handoff_key = :k ORDER BY id"), {"k": key}
            ).all()
            left = connection.execute(
                sa.text("SELECT count(*) FROM handoff_messages WHERE handoff_id = :h"), {"h": hid}
            ).scalar_one()
    finally:
        key_engine.dispose()
    assert log[0][0] == "requested" and log[-1][0] == "erased"
    assert {handoff for _, handoff in log} == {None} and left == 0
    assert hid not in [h["id"] for h in supervisor.get("/api/v1/handoffs").json()["data"]]


def test_a_restart_loses_neither_the_queue_nor_assignments_nor_unread_messages(watched: Watched) -> None:
    adviser = watched.client("adv-all")
    queued = watched.ask("closing")
    assigned = watched.ask("restart")
    assert adviser.post_json(f"/api/v1/handoffs/{assigned}/claim", {}).status_code == 200
    watched.writes("restart", "vous êtes là ?")
    wait_for(lambda: listed(adviser, assigned)["unread"] == 1, timeout=LONG)
    watched.console.stop()
    watched.writes("restart", "allo ?")  # while the console is down
    watched.restart()
    adviser = watched.client("adv-all")
    wait_for(lambda: listed(adviser, assigned)["unread"] == 2, timeout=LONG)
    assert listed(adviser, assigned)["status"] == "assigned"
    assert listed(adviser, assigned)["adviser"]["username"] == "adv-all"
    assert listed(adviser, queued)["status"] == "queued"
    assert [m["text"] for m in messages_in(adviser, assigned)] == ["vous êtes là ?", "allo ?"]
