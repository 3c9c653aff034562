"""Two Rasa instances on Rasa's own scaling parts, on loopback: one PostgreSQL tracker store, one Redis lock
store, one RabbitMQ event broker. Conversations go to either instance, turn by turn, and some messages of one
conversation race on both at once: every message is answered, every turn is stored once and whole (the lock
store keeps two instances from handling one conversation at the same time), and the event stream carries what
the store holds.

PostgreSQL, Redis and RabbitMQ run on this machine and on CI's; without them these tests are skipped with the
reason, except under .ci/run (TAWJIH_REQUIRE_SERVICES), where a missing service is a failure."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import subprocess
import threading
import time
import urllib.parse
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

import aio_pika
import pytest
import requests

from channels.turns import TECHNICAL_PROBLEM
from console.handoff.rasa_api import DeliveryFailed, RasaClient
from tests.conftest import POSTGRES_URL
from tests.console.conftest import wait_for
from tests.e2e.conftest import MODEL
from tests.support.cuttable_proxy import CuttableProxy
from tests.support.processes import ROOT, ActionServerProcess, RasaProcess, RegistryProcess, free_port
from tests.support.services import RABBITMQ, RABBITMQ_URL, REDIS, reachable, require

# alone: it loads two instances to their limits; make test runs it after the other tests, not beside them.
pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.alone]
CONVERSATIONS, TURNS = 200, 10
MESSAGES = [
    "salam",
    "chno homa les formations?",
    "fin kaynin les centres?",
    "wach khassni lbac?",
    "merci",
    "quelles formations proposez-vous ?",
    "et à Agadir ?",
    "بغيت نعرف التكوينات",
    "c'est gratuit ?",
    "bslama",
]


class Cluster:
    def __init__(
        self,
        instances: List[RasaProcess],
        tracker_url: str,
        queue: str,
        env: Dict[str, str],
        actions_url: str,
        log_dir: Path,
        proxies: Dict[str, CuttableProxy],
        settings: List[Tuple[str, Dict[str, str]]],
    ) -> None:
        self.instances = instances  # the fixture stops what is in this list, restarted instances included
        self.tracker_url = tracker_url
        self.queue = queue
        self.env = env
        self.actions_url = actions_url
        self.log_dir = log_dir
        # The first instance reaches PostgreSQL, Redis and RabbitMQ through proxies the outage tests cut.
        self.proxies = proxies
        self.settings = settings  # each instance's tracker store URL and environment

    def restart(self, index: int) -> RasaProcess:
        """The instance started again on its port, as a supervisor would."""
        old = self.instances[index]
        tracker_url, env = self.settings[index]
        new = RasaProcess(MODEL, self.actions_url, tracker_url, self.log_dir, dict(env), port=old.port, token=old.token)
        new.rest_token = self.env["TAWJIH_REST_TOKEN"]
        self.instances[index] = new
        return new


def through(url: str, proxy: CuttableProxy) -> str:
    parts = urllib.parse.urlsplit(url)
    credentials = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
    return urllib.parse.urlunsplit(parts._replace(netloc=f"{credentials}127.0.0.1:{proxy.port}"))


@pytest.fixture(scope="module")
def cluster(postgres_schema_url: str, tmp_path_factory: pytest.TempPathFactory, log_dir: Path) -> Iterator[Cluster]:
    assert POSTGRES_URL
    require("Redis", REDIS)
    require("RabbitMQ", RABBITMQ)
    work = tmp_path_factory.mktemp("cluster")
    queue = f"tawjih_test_{uuid.uuid4().hex[:10]}"
    shared = {
        "LOCK_STORE_URL": f"redis://{REDIS[0]}:{REDIS[1]}/5",
        "EVENT_BROKER_URL": f"amqp://guest:guest@{RABBITMQ[0]}:{RABBITMQ[1]}",
        "TAWJIH_EVENT_QUEUE": queue,
        "TAWJIH_CONVERSATION_ID_KEY": secrets.token_urlsafe(24),
        # One REST token for both: a client behind the balancer does not know which instance answers.
        "TAWJIH_REST_TOKEN": secrets.token_urlsafe(24),
    }
    postgres = urllib.parse.urlsplit(POSTGRES_URL)
    proxies = {
        "postgresql": CuttableProxy((postgres.hostname or "127.0.0.1", postgres.port or 5432)),
        "redis": CuttableProxy(REDIS),
        "rabbitmq": CuttableProxy(RABBITMQ),
    }
    proxied = {
        **shared,
        "LOCK_STORE_URL": f"redis://127.0.0.1:{proxies['redis'].port}/5",
        "EVENT_BROKER_URL": f"amqp://guest:guest@127.0.0.1:{proxies['rabbitmq'].port}",
    }
    settings = [(through(postgres_schema_url, proxies["postgresql"]), proxied), (postgres_schema_url, shared)]
    registry = RegistryProcess(f"sqlite:///{work / 'registry.db'}", log_dir)
    actions = None
    instances: List[RasaProcess] = []
    try:
        actions = ActionServerProcess(registry.url, log_dir)
        with ThreadPoolExecutor(2) as pool:  # both load their model at once
            # One API token for both, as a deployment gives them: the console calls either.
            token = secrets.token_urlsafe(24)
            started = [
                pool.submit(RasaProcess, MODEL, actions.url, url, log_dir, dict(env), token=token)
                for url, env in settings
            ]
            instances = [future.result() for future in started]
        for instance in instances:
            instance.rest_token = shared["TAWJIH_REST_TOKEN"]
        yield Cluster(instances, postgres_schema_url, queue, shared, actions.url, log_dir, proxies, settings)
    finally:
        for process in (*instances, actions, registry):
            if process is not None:
                process.stop()
        for proxy in proxies.values():
            proxy.close()
        _delete_queue(queue)


def _delete_queue(queue: str) -> None:
    async def delete() -> None:
        connection = await aio_pika.connect(RABBITMQ_URL, timeout=5)
        async with connection:
            channel = await connection.channel()
            await channel.queue_delete(queue)

    try:
        asyncio.run(delete())
    except Exception as error:  # noqa: BLE001 - nothing to clean if RabbitMQ is gone
        print(f"The test queue could not be deleted ({type(error).__name__}).")


def stored(tracker_url: str) -> Dict[str, List[str]]:
    """Each conversation's event types, in the order PostgreSQL holds them."""
    import psycopg2

    schema = tracker_url.split("search_path%3D")[1]
    with psycopg2.connect(tracker_url.split("?")[0]) as db, db.cursor() as cursor:
        cursor.execute(f'SELECT sender_id, type_name, action_name FROM "{schema}".events ORDER BY id')  # noqa: S608
        rows = cursor.fetchall()
    found: Dict[str, List[str]] = {}
    for sender, kind, action in rows:
        found.setdefault(sender, []).append(f"action:{action}" if kind == "action" else kind)
    return found


def taken_off(queue: str) -> List[Dict[str, Any]]:
    """The events the queue holds now, as a consumer of the stream gets them (taken off it)."""

    async def drain() -> List[Dict[str, Any]]:
        found = []
        connection = await aio_pika.connect(RABBITMQ_URL, timeout=5)
        async with connection:
            source = await (await connection.channel()).get_queue(queue, ensure=True)
            while (message := await source.get(no_ack=True, fail=False)) is not None:
                found.append(json.loads(message.body))
        return found

    return asyncio.run(drain())


def streamed(events: List[Dict[str, Any]]) -> Dict[str, List[str]]:
    """Each conversation's event types as the broker delivered them to the queue."""
    found: Dict[str, List[str]] = {}
    for event in events:
        kind = event.get("event")
        found.setdefault(event["sender_id"], []).append(f"action:{event.get('name')}" if kind == "action" else kind)
    return found


def turns_of(events: List[str]) -> List[List[str]]:
    """The events between one user message and the next."""
    turns: List[List[str]] = []
    for event in events:
        if event == "user":
            turns.append([])
        elif turns:
            turns[-1].append(event)
    return turns


def stored_texts(tracker_url: str, senders: List[str]) -> Dict[str, List[str]]:
    """What each person wrote, in the order PostgreSQL holds it."""
    import psycopg2

    schema = tracker_url.split("search_path%3D")[1]
    with psycopg2.connect(tracker_url.split("?")[0]) as db, db.cursor() as cursor:
        cursor.execute(
            f'SELECT sender_id, data FROM "{schema}".events WHERE type_name = %s AND sender_id = ANY(%s) ORDER BY id',  # noqa: S608
            ("user", senders),
        )
        found: Dict[str, List[str]] = {}
        for sender, data in cursor.fetchall():
            found.setdefault(sender, []).append(json.loads(data)["text"])
    return found


def test_200_conversations_through_the_balancer_are_answered_once_stored_whole_and_in_order(
    cluster: Cluster, log_dir: Path
) -> None:
    """200 conversations × 10 turns sent concurrently through `make cluster`'s HAProxy (round robin: one
    conversation's turns go to both instances), and some messages of one conversation racing on both."""
    token = cluster.env["TAWJIH_REST_TOKEN"]
    balancer = Balancer(cluster, log_dir)
    senders = [f"cluster-{uuid.uuid4().hex[:12]}" for _ in range(CONVERSATIONS)]
    racers = senders[:5]
    answered: Dict[str, List[int]] = {sender: [] for sender in senders}
    failures: List[str] = []
    lock = threading.Lock()

    def talk(sender: str) -> None:
        for text in MESSAGES[:TURNS]:
            reply = balancer.post(token, sender, text)
            with lock:
                if reply.status_code != 200:
                    failures.append(f"{reply.status_code}")
                answered[sender].append(len(reply.json()) if reply.status_code == 200 else -1)

    def race(sender: str) -> None:
        # Two messages of one conversation at the same moment: round robin gives one to each instance.
        barrier = threading.Barrier(2)

        def send(text: str) -> None:
            barrier.wait()
            reply = balancer.post(token, sender, text)
            with lock:
                answered[sender].append(len(reply.json()) if reply.status_code == 200 else -1)

        threads = [threading.Thread(target=send, args=(t,)) for t in ("merci", "shukran")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)

    try:
        with ThreadPoolExecutor(20) as pool:
            list(pool.map(talk, senders))
        for sender in racers:
            race(sender)
    finally:
        balancer.stop()

    assert failures == []  # no 5xx, no refusal
    for sender in senders:
        expected = TURNS + (2 if sender in racers else 0)
        assert len(answered[sender]) == expected and all(n > 0 for n in answered[sender]), answered[sender]

    events = stored(cluster.tracker_url)
    texts = stored_texts(cluster.tracker_url, senders)
    for sender in senders:
        turns = turns_of(events[sender])
        expected = TURNS + (2 if sender in racers else 0)
        # Every message stored once, and each turn whole: its actions end with listening before the next message.
        assert len(turns) == expected, events[sender]
        assert all(turn and turn[-1] == "action:action_listen" for turn in turns), events[sender]
        # In the order it was written (the racing pair in either order, after).
        assert texts[sender][:TURNS] == MESSAGES[:TURNS], texts[sender]
        assert sorted(texts[sender][TURNS:]) == (["merci", "shukran"] if sender in racers else [])

    # The event stream carries every event the store holds for these conversations, once. (Two instances
    # publish in the background, so one conversation's turns may arrive out of order: a consumer orders them by
    # their timestamps, as the store does by id.)
    delivered = taken_off(cluster.queue)
    published = streamed(delivered)
    for sender in senders:
        assert sorted(published.get(sender, [])) == sorted(events[sender]), sender
    # And nothing a person wrote or was told: no text, no channel metadata, intents and actions by name.
    assert not any({"text", "metadata", "parse_data", "data"} & set(event) for event in delivered)
    bodies = json.dumps(delivered, ensure_ascii=False)
    assert not [message for message in MESSAGES if len(message) > 5 and message in bodies]
    assert {event["intent"] for event in delivered if event["event"] == "user"} >= {"greet", "ask_programmes"}


def test_an_advisers_message_reaches_the_web_chat_tab_on_whichever_instance_holds_it(cluster: Cluster) -> None:
    """The console is given both instances (RASA_URL, comma-separated): the tab's socket is on the second; the
    first answers that no tab is connected there and records nothing, the second delivers it, once."""
    import socketio

    first, second = cluster.instances
    session_id = uuid.uuid4().hex
    text = f"Bonjour, ici une conseillère ({session_id[:6]})"

    async def run() -> Dict[str, Any]:
        client = socketio.AsyncClient(reconnection=False)
        confirmed = asyncio.Event()
        received: "asyncio.Queue[Dict[str, Any]]" = asyncio.Queue()
        client.on("session_confirm", lambda _: confirmed.set())
        client.on("bot_uttered", received.put_nowait)
        await client.connect(second.url, headers={"Origin": "http://127.0.0.1:8080"}, transports=["polling"])
        try:
            await client.emit("session_request", {"session_id": session_id})
            await asyncio.wait_for(confirmed.wait(), 10)
            await client.emit("user_uttered", {"message": "salam", "session_id": session_id})
            await asyncio.wait_for(received.get(), 30)  # the welcome
            loop = asyncio.get_running_loop()
            only_first = RasaClient(first.url, first.token, 30)
            with pytest.raises(DeliveryFailed) as refused:
                await loop.run_in_executor(None, only_first.send, session_id, "socketio", 7, text)
            assert refused.value.reason == "not_connected"
            console = RasaClient(f"{first.url},{second.url}", first.token, 30)
            await loop.run_in_executor(None, console.send, session_id, "socketio", 7, text)
            while True:
                message = await asyncio.wait_for(received.get(), 30)
                if message.get("from") == "adviser":
                    return message
        finally:
            await client.eio.disconnect(abort=True)

    assert asyncio.run(run())["text"] == text
    import psycopg2

    schema = cluster.tracker_url.split("search_path%3D")[1]
    with psycopg2.connect(cluster.tracker_url.split("?")[0]) as db, db.cursor() as cursor:
        cursor.execute(
            f'SELECT count(*) FROM "{schema}".events WHERE sender_id = %s AND type_name = %s AND data LIKE %s',  # noqa: S608
            (session_id, "bot", f"%{session_id[:6]}%"),
        )
        assert cursor.fetchone() == (1,), "stored once, by the instance that delivered it"


# --- behind the balancer: one instance killed in the middle of the load ---------------------------------------
class Balancer:
    """HAProxy with `make cluster`'s configuration, in front of the two instances."""

    def __init__(self, cluster: Cluster, log_dir: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "RASA_PORT": str(self.port),
            "RASA_PORT_1": str(cluster.instances[0].port),
            "RASA_PORT_2": str(cluster.instances[1].port),
        }
        self.log = (log_dir / f"haproxy-{self.port}.log").open("wb")
        haproxy = shutil.which("haproxy")
        assert haproxy, "Debian's haproxy is needed (make test installs it)"
        self.process = subprocess.Popen(
            [haproxy, "-W", "-db", "-f", str(ROOT / "deploy" / "cluster" / "haproxy.cfg")],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        wait_for(lambda: reachable(("127.0.0.1", self.port)), timeout=30)

    def post(self, token: str, sender: str, text: str) -> requests.Response:
        return requests.post(
            f"{self.url}/webhooks/rest/webhook",
            json={"sender": sender, "message": text},
            headers={"Authorization": f"Bearer {token}"},
            timeout=60,
        )

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)
        self.log.close()


def test_an_instance_killed_under_load_leaves_the_conversations_to_the_other_and_comes_back(
    cluster: Cluster, log_dir: Path
) -> None:
    a, b = cluster.instances
    token = cluster.env["TAWJIH_REST_TOKEN"]
    balancer = Balancer(cluster, log_dir)
    try:
        senders = [f"killed-{uuid.uuid4().hex[:12]}" for _ in range(10)]
        statuses: Dict[str, List[int]] = {sender: [] for sender in senders}

        def say(sender: str, text: str) -> None:
            statuses[sender].append(balancer.post(token, sender, text).status_code)

        def everyone(text: str) -> None:
            with ThreadPoolExecutor(10) as pool:
                list(pool.map(lambda sender: say(sender, text), senders))

        everyone("salam")
        a.process.kill()  # no goodbye: the balancer finds out by itself
        a.process.wait(30)
        for text in MESSAGES[1:4]:
            everyone(text)
        assert all(codes == [200] * 4 for codes in statuses.values()), statuses
        events = stored(cluster.tracker_url)
        for sender in senders:
            assert len(turns_of(events[sender])) == 4, events[sender]  # every turn stored, nothing lost

        # Started again, the instance takes traffic again: with the other one stopped, everything goes to it.
        cluster.restart(0)
        b.stop()
        wait_for(lambda: balancer.post(token, senders[0], "merci").status_code == 200, timeout=30)
        everyone("merci")
        assert all(codes[-1] == 200 for codes in statuses.values()), statuses
    finally:
        balancer.stop()


# --- outages: PostgreSQL, Redis or RabbitMQ stopped under the first instance -----------------------------
# Redis, RabbitMQ or PostgreSQL stopped for a moment under a Rasa instance of the production topology.
#
# The instance reaches each of them through a proxy the test cuts (open connections reset, new ones closed:
# what a client sees when the service stops) and restores. What each outage costs:
#
# - **PostgreSQL (tracker store)**: a turn cannot be read or stored. The person is told kindly, in their
#   register, that there is a technical problem (503 on the REST channel); nothing of that turn is kept,
#   in the database or in memory. When the database is back, the next message is answered and stored, and
#   the conversation goes on where it was.
# - **Redis (lock store)**: a turn cannot take its conversation's lock, so it is not handled (two instances
#   could otherwise answer one conversation at once): the same kind answer, nothing stored. Back by itself.
# - **RabbitMQ (event broker)**: not on a turn's path. Turns are answered and stored as usual; the events
#   stored meanwhile are held by the Rasa instance and published once RabbitMQ is back (lost from the
#   stream, never from the tracker store, if that instance stops before).
#
# Skipped, with the reason, without PostgreSQL, Redis or RabbitMQ; never skipped under .ci/run.


def user_texts(cluster: Cluster, sender: str) -> List[str]:
    """What the person wrote, as the tracker store holds it, in order."""
    import psycopg2

    schema = cluster.tracker_url.split("search_path%3D")[1]
    with psycopg2.connect(cluster.tracker_url.split("?")[0]) as db, db.cursor() as cursor:
        cursor.execute(
            f'SELECT data FROM "{schema}".events WHERE sender_id = %s AND type_name = %s ORDER BY id',  # noqa: S608
            (sender, "user"),
        )
        return [json.loads(data)["text"] for (data,) in cursor.fetchall()]


def user_messages(cluster: Cluster, sender: str) -> int:
    return len(user_texts(cluster, sender))


def answered(cluster: Cluster, sender: str, text: str) -> List[dict]:
    reply = cluster.instances[0].post(sender, text)
    assert reply.status_code == 200, reply.text
    assert reply.json(), "no answer"
    return list(reply.json())


def told_technical_problem(cluster: Cluster, sender: str, text: str, register: str) -> None:
    started = time.monotonic()
    reply = cluster.instances[0].post(sender, text)  # the client's timeout is 30 s: a hanging turn fails the test
    assert reply.status_code == 503, reply.text
    assert [message.get("text") for message in reply.json()] == [TECHNICAL_PROBLEM[register]]
    print(f"answered kindly in {time.monotonic() - started:.1f} s")


@pytest.mark.parametrize(
    ("service", "register", "text"),
    [("postgresql", "darija_latin", "chno homa les formations?"), ("redis", "french", "quelles formations ?")],
)
def test_a_stopped_database_or_lock_store_costs_the_turn_kindly_and_service_comes_back(
    cluster: Cluster, service: str, register: str, text: str
) -> None:
    sender = f"outage-{service}-{uuid.uuid4().hex[:8]}"
    answered(cluster, sender, "salam" if register == "darija_latin" else "bonjour")
    kept = user_messages(cluster, sender)

    cluster.proxies[service].cut()
    try:
        told_technical_problem(cluster, sender, text, register)
        told_technical_problem(
            cluster,
            sender,
            "wach kayn chi centre f agadir?" if register == "darija_latin" else "et à Agadir ?",
            register,
        )
    finally:
        cluster.proxies[service].restore()

    # Nothing of those turns was kept anywhere: not in the database, and not in memory to be stored later.
    assert user_messages(cluster, sender) == kept
    # Back by itself: the next message is answered and stored, in the conversation that was there.
    replies: List[dict] = []

    def answered_again() -> bool:
        reply = cluster.instances[0].post(sender, text)
        replies.extend(reply.json() if reply.status_code == 200 else [])
        return reply.status_code == 200

    wait_for(answered_again, timeout=60)
    assert replies
    assert user_texts(cluster, sender) == ["salam" if register == "darija_latin" else "bonjour", text]


def queued_senders(queue: str) -> List[Tuple[str, str]]:
    """(sender, event type) of what the queue holds now, taken off it."""
    return [(event["sender_id"], event.get("event")) for event in taken_off(queue)]


def test_a_stopped_event_broker_does_not_stop_the_conversation_and_its_events_follow_later(
    cluster: Cluster,
) -> None:
    sender = f"outage-rabbitmq-{uuid.uuid4().hex[:8]}"
    answered(cluster, sender, "salam")
    wait_for(lambda: (sender, "user") in queued_senders(cluster.queue), timeout=30)

    cluster.proxies["rabbitmq"].cut()
    try:
        answered(cluster, sender, "fin kaynin les centres?")
        answered(cluster, sender, "wach khassni lbac?")
        assert user_messages(cluster, sender) == 3  # stored as usual
    finally:
        cluster.proxies["rabbitmq"].restore()

    # Once RabbitMQ is back, the two turns' events reach the stream.
    arrived: List[Tuple[str, str]] = []

    def both_turns_streamed() -> bool:
        arrived.extend(queued_senders(cluster.queue))
        return arrived.count((sender, "user")) >= 2

    wait_for(both_turns_streamed, timeout=90)
    # What could not be published was held, and the log says so without a word of the conversation.
    log = cluster.instances[0].log_text()
    assert "could not be published to RabbitMQ" in log
    assert "fin kaynin" not in log and "khassni" not in log and sender not in log


def test_an_erased_conversation_is_announced_on_the_stream_after_its_last_turn(cluster: Cluster) -> None:
    sender = f"erasure-{uuid.uuid4().hex[:8]}"
    answered(cluster, sender, "salam")
    answered(cluster, sender, "3ndi 17 3am w ana mn kaza")
    answered(cluster, sender, "bghit tmss7o les données dyali")
    answered(cluster, sender, "ah")
    assert user_messages(cluster, sender) == 0, "erased from the store"

    received: List[Dict[str, Any]] = []

    def announced() -> bool:
        received.extend(event for event in taken_off(cluster.queue) if event["sender_id"] == sender)
        return any(event["event"] == "tawjih_conversation_erased" for event in received)

    wait_for(announced, timeout=30)
    kinds = [event["event"] for event in received]
    # The three turns before, then the erasure; the confirming turn itself is neither stored nor streamed.
    assert kinds.count("user") == 3 and kinds[-1] == "tawjih_conversation_erased", kinds
    # What the person said of themselves went as "said", not as what.
    ages = [event for event in received if event["event"] == "slot" and event["name"] == "age"]
    assert ages and not any("value" in event for event in ages)
    assert "kaza" not in json.dumps(received) and "17 3am" not in json.dumps(received)
