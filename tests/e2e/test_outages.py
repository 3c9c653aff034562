"""Redis, RabbitMQ or PostgreSQL stopped for a moment under a Rasa instance of the production topology.

The instance reaches each of them through a proxy the test cuts (open connections reset, new ones closed:
what a client sees when the service stops) and restores. What each outage costs:

- **PostgreSQL (tracker store)**: a turn cannot be read or stored. The person is told kindly, in their
  register, that there is a technical problem (503 on the REST channel); nothing of that turn is kept,
  in the database or in memory. When the database is back, the next message is answered and stored, and
  the conversation goes on where it was.
- **Redis (lock store)**: a turn cannot take its conversation's lock, so it is not handled (two instances
  could otherwise answer one conversation at once): the same kind answer, nothing stored. Back by itself.
- **RabbitMQ (event broker)**: not on a turn's path. Turns are answered and stored as usual; the events
  stored meanwhile are held by the Rasa instance and published once RabbitMQ is back (lost from the
  stream, never from the tracker store, if that instance stops before).

Skipped, with the reason, without PostgreSQL, Redis or RabbitMQ; never skipped under .ci/run."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.parse
import uuid
from pathlib import Path
from typing import Iterator, List, Tuple

import aio_pika
import pytest

from channels.turns import TECHNICAL_PROBLEM
from tests.conftest import POSTGRES_URL
from tests.console.conftest import wait_for
from tests.e2e.conftest import MODEL
from tests.e2e.test_topology import RABBITMQ, REDIS, require
from tests.support.cuttable_proxy import CuttableProxy
from tests.support.processes import ActionServerProcess, RasaProcess, RegistryProcess

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]


class Instance:
    def __init__(self, rasa: RasaProcess, tracker_url: str, queue: str, proxies: dict) -> None:
        self.rasa = rasa
        self.tracker_url = tracker_url
        self.queue = queue
        self.proxies = proxies


def through(url: str, proxy: CuttableProxy) -> str:
    parts = urllib.parse.urlsplit(url)
    credentials = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
    return urllib.parse.urlunsplit(parts._replace(netloc=f"{credentials}127.0.0.1:{proxy.port}"))


@pytest.fixture(scope="module")
def instance(postgres_schema_url: str, tmp_path_factory: pytest.TempPathFactory, log_dir: Path) -> Iterator[Instance]:
    assert POSTGRES_URL
    require("Redis", REDIS)
    require("RabbitMQ", RABBITMQ)
    postgres_host = urllib.parse.urlsplit(POSTGRES_URL)
    proxies = {
        "postgresql": CuttableProxy((postgres_host.hostname or "127.0.0.1", postgres_host.port or 5432)),
        "redis": CuttableProxy(REDIS),
        "rabbitmq": CuttableProxy(RABBITMQ),
    }
    work = tmp_path_factory.mktemp("outages")
    queue = f"tawjih_test_{uuid.uuid4().hex[:10]}"
    env = {
        "LOCK_STORE_URL": f"redis://127.0.0.1:{proxies['redis'].port}/6",
        "EVENT_BROKER_URL": f"amqp://guest:guest@127.0.0.1:{proxies['rabbitmq'].port}",
        "TAWJIH_EVENT_QUEUE": queue,
    }
    registry = RegistryProcess(f"sqlite:///{work / 'registry.db'}", log_dir)
    actions = rasa = None
    try:
        actions = ActionServerProcess(registry.url, log_dir)
        rasa = RasaProcess(MODEL, actions.url, through(postgres_schema_url, proxies["postgresql"]), log_dir, env)
        yield Instance(rasa, postgres_schema_url, queue, proxies)
    finally:
        for process in (rasa, actions, registry):
            if process is not None:
                process.stop()
        for proxy in proxies.values():
            proxy.close()
        _delete(queue)


def _delete(queue: str) -> None:
    async def delete() -> None:
        connection = await aio_pika.connect(f"amqp://guest:guest@{RABBITMQ[0]}:{RABBITMQ[1]}/", timeout=5)
        async with connection:
            await (await connection.channel()).queue_delete(queue)

    try:
        asyncio.run(delete())
    except Exception as error:  # noqa: BLE001 - nothing to clean if RabbitMQ is gone
        print(f"The test queue could not be deleted ({type(error).__name__}).")


def user_texts(instance: Instance, sender: str) -> List[str]:
    """What the person wrote, as the tracker store holds it, in order."""
    import psycopg2

    schema = instance.tracker_url.split("search_path%3D")[1]
    with psycopg2.connect(instance.tracker_url.split("?")[0]) as db, db.cursor() as cursor:
        cursor.execute(
            f'SELECT data FROM "{schema}".events WHERE sender_id = %s AND type_name = %s ORDER BY id',  # noqa: S608
            (sender, "user"),
        )
        return [json.loads(data)["text"] for (data,) in cursor.fetchall()]


def user_messages(instance: Instance, sender: str) -> int:
    return len(user_texts(instance, sender))


def answered(instance: Instance, sender: str, text: str) -> List[dict]:
    reply = instance.rasa.post(sender, text)
    assert reply.status_code == 200, reply.text
    assert reply.json(), "no answer"
    return list(reply.json())


def told_technical_problem(instance: Instance, sender: str, text: str, register: str) -> None:
    started = time.monotonic()
    reply = instance.rasa.post(sender, text)  # the client's timeout is 30 s: a hanging turn fails the test
    assert reply.status_code == 503, reply.text
    assert [message.get("text") for message in reply.json()] == [TECHNICAL_PROBLEM[register]]
    print(f"answered kindly in {time.monotonic() - started:.1f} s")


@pytest.mark.parametrize(
    ("service", "register", "text"),
    [("postgresql", "darija_latin", "chno homa les formations?"), ("redis", "french", "quelles formations ?")],
)
def test_a_stopped_database_or_lock_store_costs_the_turn_kindly_and_service_comes_back(
    instance: Instance, service: str, register: str, text: str
) -> None:
    sender = f"outage-{service}-{uuid.uuid4().hex[:8]}"
    answered(instance, sender, "salam" if register == "darija_latin" else "bonjour")
    kept = user_messages(instance, sender)

    instance.proxies[service].cut()
    try:
        told_technical_problem(instance, sender, text, register)
        told_technical_problem(
            instance,
            sender,
            "wach kayn chi centre f agadir?" if register == "darija_latin" else "et à Agadir ?",
            register,
        )
    finally:
        instance.proxies[service].restore()

    # Nothing of those turns was kept anywhere: not in the database, and not in memory to be stored later.
    assert user_messages(instance, sender) == kept
    # Back by itself: the next message is answered and stored, in the conversation that was there.
    replies: List[dict] = []

    def answered_again() -> bool:
        reply = instance.rasa.post(sender, text)
        replies.extend(reply.json() if reply.status_code == 200 else [])
        return reply.status_code == 200

    wait_for(answered_again, timeout=60)
    assert replies
    assert user_texts(instance, sender) == ["salam" if register == "darija_latin" else "bonjour", text]


def queued_senders(queue: str) -> List[Tuple[str, str]]:
    """(sender, event type) of what the queue holds now, taken off it."""

    async def drain() -> List[Tuple[str, str]]:
        found = []
        connection = await aio_pika.connect(f"amqp://guest:guest@{RABBITMQ[0]}:{RABBITMQ[1]}/", timeout=5)
        async with connection:
            source = await (await connection.channel()).get_queue(queue, ensure=True)
            while (message := await source.get(no_ack=True, fail=False)) is not None:
                event = json.loads(message.body)
                found.append((event["sender_id"], event.get("event")))
        return found

    return asyncio.run(drain())


def test_a_stopped_event_broker_does_not_stop_the_conversation_and_its_events_follow_later(
    instance: Instance,
) -> None:
    sender = f"outage-rabbitmq-{uuid.uuid4().hex[:8]}"
    answered(instance, sender, "salam")
    wait_for(lambda: (sender, "user") in queued_senders(instance.queue), timeout=30)

    instance.proxies["rabbitmq"].cut()
    try:
        answered(instance, sender, "fin kaynin les centres?")
        answered(instance, sender, "wach khassni lbac?")
        assert user_messages(instance, sender) == 3  # stored as usual
    finally:
        instance.proxies["rabbitmq"].restore()

    # Once RabbitMQ is back, the two turns' events reach the stream.
    arrived: List[Tuple[str, str]] = []

    def both_turns_streamed() -> bool:
        arrived.extend(queued_senders(instance.queue))
        return arrived.count((sender, "user")) >= 2

    wait_for(both_turns_streamed, timeout=90)
    # What could not be published was held, and the log says so without a word of the conversation.
    log = instance.rasa.log_text()
    assert "could not be published to RabbitMQ" in log
    assert "fin kaynin" not in log and "khassni" not in log and sender not in log
