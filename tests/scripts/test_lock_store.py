"""The lock store several Rasa instances share: instances taking tickets for one conversation at the same
moment never get the same one. (Rasa 3.6's RedisLockStore reads, changes and writes back: the same 4 × 50
tickets taken with it here gave duplicates; with two Rasa instances a racing turn was lost, see
tests/e2e/test_topology.py.)"""

from __future__ import annotations

import threading
import uuid
from typing import List

import pytest
from rasa.core.lock_store import RedisLockStore
from rasa.utils.endpoints import EndpointConfig

from scaling.lock_store import AtomicRedisLockStore
from tests.support.services import REDIS, require


@pytest.fixture(scope="module", autouse=True)
def redis_running() -> None:
    require("Redis", REDIS)


def tickets_taken_at_once(stores: List[RedisLockStore], conversation: str, per_store: int) -> List[int]:
    taken: List[int] = []
    start = threading.Barrier(len(stores))
    guard = threading.Lock()

    def take(store: RedisLockStore) -> None:
        start.wait()
        for _ in range(per_store):
            ticket = store.issue_ticket(conversation)
            with guard:
                taken.append(ticket)

    threads = [threading.Thread(target=take, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return taken


def store(kind: type) -> RedisLockStore:
    config = EndpointConfig(url=REDIS[0], port=REDIS[1], db=6, key_prefix="tawjihtest")
    return AtomicRedisLockStore(endpoint_config=config) if kind is AtomicRedisLockStore else kind(host=REDIS[0], db=6)


def test_two_instances_taking_tickets_at_once_each_get_their_own() -> None:
    conversation = f"race-{uuid.uuid4().hex}"
    instances = [store(AtomicRedisLockStore) for _ in range(4)]
    taken = tickets_taken_at_once(instances, conversation, per_store=50)
    assert sorted(taken) == list(range(200))  # 200 tickets, no two alike
    for ticket in taken:
        instances[ticket % 4].cleanup(conversation, ticket)
    assert instances[0].get_lock(conversation) is None  # the last cleanup removed the lock
