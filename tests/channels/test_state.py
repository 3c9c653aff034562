"""Where the WhatsApp channels remember things: in memory by default, in Redis shared by instances.

The Redis tests use the Redis on 127.0.0.1:6379 (TAWJIH_TEST_REDIS_URL to point elsewhere), under a
key prefix of their own, deleted afterwards; without a Redis they are reported as skipped."""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from typing import AsyncIterator, Callable, List

import pytest
import redis
from redis.asyncio import Redis

from channels.messaging import Choices, Identities, Person, SeenMessages
from channels.settings import RasaSettings
from channels.state import MemoryStore, RedisStore, StateStore, StateUnavailable, state_key, state_store
from tests.channels.conftest import SetEnv
from tests.support.processes import free_port
from tests.support.services import missing_service

REDIS_URL = os.environ.get("TAWJIH_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
PHONE, BSUID = "212612345678", "MA.13491208655302741918"


def redis_or_skip() -> None:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        missing_service(f"the shared channel state tests need a Redis at {REDIS_URL} (TAWJIH_TEST_REDIS_URL)")


@pytest.fixture
async def prefix() -> AsyncIterator[str]:
    """A key prefix of this test's own; every key under it is deleted afterwards."""
    redis_or_skip()
    chosen = f"tawjih-test-{uuid.uuid4().hex[:12]}"
    yield chosen
    client = Redis.from_url(REDIS_URL)
    keys = [key async for key in client.scan_iter(match=f"{chosen}:*")]
    if keys:
        await client.delete(*keys)
    await client.close()


@pytest.fixture
def redis_store(prefix: str) -> Callable[[], RedisStore]:
    """A Redis store as one Rasa instance has it; each call is another instance (its own pool)."""
    return lambda: RedisStore(REDIS_URL, prefix=prefix)


@pytest.fixture(params=["memory", "redis"])
def store(request: pytest.FixtureRequest) -> StateStore:
    if request.param == "memory":
        return MemoryStore()
    result: StateStore = request.getfixturevalue("redis_store")()
    return result


async def test_a_store_keeps_json_values_until_they_expire_or_are_popped(store: StateStore) -> None:
    assert await store.get("whatsapp:choices:a") is None
    await store.put("whatsapp:choices:a", ["/a", "/b"], 60)
    assert await store.get("whatsapp:choices:a") == ["/a", "/b"]
    await store.put("whatsapp:choices:a", ["/c"], 60)  # put replaces
    assert await store.get("whatsapp:choices:a") == ["/c"]
    await store.pop("whatsapp:choices:a")
    await store.pop("whatsapp:choices:a")  # popping nothing is fine
    assert await store.get("whatsapp:choices:a") is None
    await store.put("whatsapp:link:b", "whatsapp-0123", 0.05)
    deadline = asyncio.get_running_loop().time() + 5
    while await store.get("whatsapp:link:b") is not None:  # expiry, polled: no fixed sleep
        assert asyncio.get_running_loop().time() < deadline, "the entry never expired"
        await asyncio.sleep(0.02)
    await store.close()


async def test_put_if_absent_is_true_only_for_the_first(store: StateStore) -> None:
    assert await store.put_if_absent("whatsapp:seen:1", True, 60)
    assert not await store.put_if_absent("whatsapp:seen:1", True, 60)
    assert await store.get("whatsapp:seen:1") is True
    await store.close()


async def test_the_memory_store_stays_bounded() -> None:
    store = MemoryStore(max_entries=3)
    for i in range(10):
        await store.put(f"k{i}", i, 60)
    assert [await store.get(f"k{i}") for i in range(10)] == [None] * 7 + [7, 8, 9]


async def test_keys_are_namespaced_hashes_that_name_no_number(settings_env: SetEnv, prefix: str) -> None:
    instance = RedisStore(REDIS_URL, prefix=prefix)
    people, choices = Identities("whatsapp", instance), Choices("whatsapp", instance)
    conversation = await people.conversation(Person(PHONE, BSUID))
    await choices.offer(conversation, ['/pick{"programme": "jobintech"}'])
    await SeenMessages("whatsapp", instance).accept("wamid.HBgMMjEyNjEyMzQ1Njc4")
    client = Redis.from_url(REDIS_URL, decode_responses=True)
    keys = sorted([key async for key in client.scan_iter(match=f"{prefix}:*")])
    assert [key.split(":")[1:3] for key in keys] == [["whatsapp", kind] for kind in ("choices", "link", "seen")]
    assert all(len(key.split(":")[3]) == 40 for key in keys)
    stored = " ".join(keys + [str(await client.get(key)) for key in keys])
    for secret in (PHONE, "612345678", BSUID, "13491208655302741918", "HBgMMjEy"):
        assert secret not in stored
    assert 0 < await client.pttl(keys[0]) <= 24 * 3600 * 1000
    await client.close()
    await instance.close()


async def test_two_instances_sharing_redis_accept_a_message_id_once(prefix: str) -> None:
    """Meta's retries reach two instances at once: each message id is handled by exactly one."""
    first, second = RedisStore(REDIS_URL, prefix=prefix), RedisStore(REDIS_URL, prefix=prefix)
    instances = [SeenMessages("whatsapp", first), SeenMessages("whatsapp", second)]
    ids = [f"wamid.{uuid.uuid4().hex}" for _ in range(50)]
    claims = [(instance, message_id) for message_id in ids for instance in instances for _ in range(3)]
    won = await asyncio.gather(*(instance.first_time(message_id) for instance, message_id in claims))
    winners: List[str] = [message_id for (_, message_id), first_time in zip(claims, won, strict=True) if first_time]
    assert sorted(winners) == sorted(ids)
    assert all([await instance.seen(message_id) for instance in instances for message_id in ids])
    await first.close()
    await second.close()


async def test_an_option_offered_on_one_instance_is_picked_on_another(prefix: str) -> None:
    offered_by = Choices("whatsapp", RedisStore(REDIS_URL, prefix=prefix))
    picked_by = Choices("whatsapp", RedisStore(REDIS_URL, prefix=prefix))
    await offered_by.offer("whatsapp-abc", ["/a", "/b"])
    assert await picked_by.resolve("whatsapp-abc", "2") == "/b"
    await picked_by.offer("whatsapp-abc", [])
    assert await offered_by.resolve("whatsapp-abc", "2") == "2"


async def test_links_made_on_one_instance_are_followed_on_another(settings_env: SetEnv, prefix: str) -> None:
    one = Identities("whatsapp", RedisStore(REDIS_URL, prefix=prefix))
    other = Identities("whatsapp", RedisStore(REDIS_URL, prefix=prefix))
    first = await one.conversation(Person(PHONE, BSUID))
    assert await other.conversation(Person(phone=PHONE)) == first
    assert await one.changed(Person(user_id=BSUID), Person(user_id="MA.222")) == first
    assert await other.conversation(Person(user_id="MA.222")) == first


async def test_redis_down_is_a_typed_error_for_dedup_and_the_text_as_typed_for_choices(
    settings_env: SetEnv, caplog: pytest.LogCaptureFixture
) -> None:
    down = RedisStore(f"redis://127.0.0.1:{free_port()}/0", timeout_seconds=0.5)
    with pytest.raises(StateUnavailable) as raised:
        await SeenMessages("whatsapp", down).first_time("wamid.1")
    assert raised.value.kind == "ConnectionError"
    with pytest.raises(StateUnavailable):
        await Identities("whatsapp", down).conversation(Person(PHONE))
    choices = Choices("whatsapp", down)
    with caplog.at_level(logging.WARNING, logger="channels.messaging"):
        await choices.offer("whatsapp-abc", ["/a", "/b"])
        assert await choices.resolve("whatsapp-abc", "2") == "2"
    said = [record.getMessage() for record in caplog.records]
    assert len(said) == 2 and all("ConnectionError" in line for line in said), said
    assert not any("whatsapp-abc" in line or "/a" in line for line in said)
    await down.close()


def test_the_setting_chooses_the_store(settings_env: SetEnv) -> None:
    assert isinstance(state_store(""), MemoryStore)
    assert state_store("") is not state_store("")  # in memory: each kind bounded on its own
    shared = state_store("redis://127.0.0.1:6379/0")
    assert isinstance(shared, RedisStore) and state_store("redis://127.0.0.1:6379/0") is shared  # one pool
    settings_env(TAWJIH_CHANNEL_STATE_URL="redis://127.0.0.1:6379/3")
    assert RasaSettings().channel_state_url == "redis://127.0.0.1:6379/3"
    settings_env(TAWJIH_CHANNEL_STATE_URL="http://127.0.0.1:6379")
    with pytest.raises(ValueError, match="redis://"):
        RasaSettings()
    assert state_key("whatsapp", "seen", "wamid.1") == state_key("whatsapp", "seen", "wamid.1")
    assert state_key("whatsapp", "seen", "x") != state_key("twilio_whatsapp", "seen", "x")
