"""Two Rasa instances behind a balancer share the WhatsApp channel's memory in Redis
(TAWJIH_CHANNEL_STATE_URL): a delivery that reaches both is answered once, a number typed on one
picks the option the other offered, and with Redis unreachable a delivery is refused (503), never
acknowledged unanswerable. Instance A reaches Redis through a relay the test can cut."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest
import redis
import requests

from tests.e2e.conftest import MODEL, Stack
from tests.e2e.test_rest_conversation import response_variation, welcome
from tests.e2e.test_whatsapp import addressee, conversation, delivery, person, post, text_of, tracker_rows
from tests.support.processes import RasaProcess
from tests.support.services import missing_service
from tests.support.tcp_proxy import TcpProxy

pytestmark = pytest.mark.e2e
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379


@dataclass
class Pair:
    a: RasaProcess  # reaches Redis through ``relay``
    b: RasaProcess
    relay: TcpProxy
    tracker_db: Path


def empty_database() -> int:
    """A Redis database nothing else uses (this test's keys are deleted from it afterwards)."""
    try:
        for number in range(15, 0, -1):
            if redis.Redis(REDIS_HOST, REDIS_PORT, db=number, socket_connect_timeout=1).dbsize() == 0:
                return number
    except redis.RedisError:
        missing_service(f"the shared channel state tests need a Redis at {REDIS_HOST}:{REDIS_PORT}")
    missing_service("no empty Redis database (1-15) for the shared channel state tests")


@pytest.fixture(scope="module")
def pair(stack: Stack, tmp_path_factory: pytest.TempPathFactory, log_dir: Path) -> Iterator[Pair]:
    db = empty_database()
    relay = TcpProxy((REDIS_HOST, REDIS_PORT)).start()
    tracker_db = tmp_path_factory.mktemp("shared") / "tracker.db"
    tracker = f"sqlite:///{tracker_db}"
    env: Dict[str, str] = dict(stack.platforms.env)
    a = b = None
    try:
        # One after the other: the second finds the tracker store's tables made.
        a = RasaProcess(
            MODEL,
            stack.actions.url,
            tracker,
            log_dir,
            {**env, "TAWJIH_CHANNEL_STATE_URL": f"redis://127.0.0.1:{relay.port}/{db}"},
        )
        b = RasaProcess(
            MODEL,
            stack.actions.url,
            tracker,
            log_dir,
            {**env, "TAWJIH_CHANNEL_STATE_URL": f"redis://{REDIS_HOST}:{REDIS_PORT}/{db}"},
        )
        yield Pair(a, b, relay, tracker_db)
    finally:
        for process in (a, b):
            if process is not None:
                process.stop()
        relay.stop()
        client = redis.Redis(REDIS_HOST, REDIS_PORT, db=db)
        keys = list(client.scan_iter(match="tawjih:*"))
        if keys:
            client.delete(*keys)


def replies_to(stack: Stack, who: str, since: int, count: int) -> List[Dict[str, Any]]:
    recorded = stack.platforms.graph.wait_for(count, since=since, match=lambda r: addressee(r.json()) == who)
    return [r.json() for r in recorded]


def say(stack: Stack, to: RasaProcess, body: Dict[str, Any]) -> None:
    answer = post(stack, body, to=to)
    assert (answer.status_code, answer.text) == (200, "ok")


def user_texts(pair: Pair, conversation_id: str) -> List[str]:
    return [
        str(json.loads(data).get("text"))
        for sender, data in tracker_rows(pair.tracker_db)
        if sender == conversation_id and json.loads(data).get("event") == "user"
    ]


def test_the_same_delivery_reaching_both_instances_is_answered_once(stack: Stack, pair: Pair) -> None:
    phone = person()
    body = delivery(phone, {"type": "text", "text": {"body": "bonjour"}})
    mark = stack.platforms.graph.mark()
    with ThreadPoolExecutor(max_workers=8) as pool:  # Meta's retry racing the first try, on both instances
        answers = list(pool.map(lambda to: post(stack, body, to=to), [pair.a, pair.b] * 4))
    assert [(a.status_code, a.text) for a in answers] == [(200, "ok")] * 8
    replies_to(stack, phone, mark, 1)
    # Each instance then answers a new message, after any duplicate it had taken (the turns of one
    # conversation are not yet locked across instances: one message at a time here).
    say(stack, pair.a, delivery(phone, {"type": "text", "text": {"body": "merci"}}))
    replies_to(stack, phone, mark, 2)
    say(stack, pair.b, delivery(phone, {"type": "text", "text": {"body": "merci"}}))
    texts = [text_of(sent) for sent in replies_to(stack, phone, mark, 3)]
    thanks = response_variation("utter_you_are_welcome", "french")["text"]
    assert texts == [welcome("french"), thanks, thanks]
    assert user_texts(pair, conversation(stack, phone, user=False)) == ["bonjour", "merci", "merci"]


def test_a_number_typed_on_one_instance_picks_the_option_the_other_offered(stack: Stack, pair: Pair) -> None:
    phone = person()
    mark = stack.platforms.graph.mark()
    say(stack, pair.a, delivery(phone, {"type": "text", "text": {"body": "bonjour"}}))
    replies_to(stack, phone, mark, 1)
    say(stack, pair.a, delivery(phone, {"type": "text", "text": {"body": "quelles formations proposez-vous ?"}}))
    listing = replies_to(stack, phone, mark, 2)[-1]
    programmes = requests.get(f"{stack.registry.url}/api/v1/programmes", timeout=5).json()["data"]
    assert listing["type"] == "text" and f"2. {programmes[1]['name_fr']}" in listing["text"]["body"]
    say(stack, pair.b, delivery(phone, {"type": "text", "text": {"body": "2"}}))
    details = replies_to(stack, phone, mark, 3)[-1]
    assert text_of(details).startswith(programmes[1]["name_fr"])


def test_with_redis_unreachable_a_delivery_is_refused_then_answered_once_when_it_returns(
    stack: Stack, pair: Pair
) -> None:
    phone = person()
    body = delivery(phone, {"type": "text", "text": {"body": "bonjour"}})
    mark = stack.platforms.graph.mark()
    pair.relay.stop()
    try:
        refused = post(stack, body, to=pair.a)
        assert refused.status_code == 503  # Meta retries; a 200 would lose or double the message
    finally:
        pair.relay.start()
    said = [line for line in pair.a.log_text().splitlines() if "channel state store is unreachable" in line]
    assert said and all("(ConnectionError)" in line for line in said), said
    assert phone not in pair.a.log_text() and "bonjour" not in "\n".join(said)
    say(stack, pair.a, body)  # Meta's retry, once Redis is back
    replies_to(stack, phone, mark, 1)
    say(stack, pair.b, body)  # and another, elsewhere: a duplicate
    say(stack, pair.b, delivery(phone, {"type": "text", "text": {"body": "merci"}}))
    texts = [text_of(sent) for sent in replies_to(stack, phone, mark, 2)]
    assert texts == [welcome("french"), response_variation("utter_you_are_welcome", "french")["text"]]
    assert [addressee(r.json()) for r in stack.platforms.graph.requests[mark:]].count(phone) == 2
