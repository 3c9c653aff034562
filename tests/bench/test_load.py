"""The load generator against a stand-in REST channel on loopback: what it sends, what it counts as an error."""

from __future__ import annotations

import random
from typing import Iterator

import pytest

from bench.load import MESSAGES, Target, client, conversation_turns, crowd, one_session, summarise
from tests.support.processes import free_port
from tests.support.standins import RecordingServer


@pytest.fixture
def channel() -> Iterator[RecordingServer]:
    server = RecordingServer({"text": "ok"})
    yield server
    server.stop()


def target_of(server: RecordingServer) -> Target:
    return Target("stand-in", f"{server.url}/webhooks/rest/webhook", {"Authorization": "Bearer bench"})


async def test_one_person_sends_the_nine_messages_in_order_with_a_new_sender_each_conversation(
    channel: RecordingServer,
) -> None:
    async with client(4) as http:
        turns = await conversation_turns(http, target_of(channel), 18, timeout=5, prefix="one")
    assert all(turn.ok and turn.status == 200 for turn in turns)
    bodies = [request.json() for request in channel.requests]
    assert [body["message"] for body in bodies] == list(MESSAGES) * 2
    senders = [body["sender"] for body in bodies]
    assert len(set(senders[:9])) == 1 and len(set(senders[9:])) == 1 and senders[0] != senders[9]
    assert all(request.headers["Authorization"] == "Bearer bench" for request in channel.requests)


async def test_a_long_session_keeps_one_sender(channel: RecordingServer) -> None:
    async with client(1) as http:
        turns = await one_session(http, target_of(channel), 12, timeout=5, prefix="long")
    assert len(turns) == 12 and all(turn.ok for turn in turns)
    assert len({request.json()["sender"] for request in channel.requests}) == 1


async def test_errors_and_timeouts_are_counted_never_timed(channel: RecordingServer) -> None:
    channel.fail_next(3, status=503)
    async with client(2) as http:
        failed = await conversation_turns(http, target_of(channel), 5, timeout=5, prefix="e")
        channel.slow_next(1, 1.5)
        slow = await conversation_turns(http, target_of(channel), 2, timeout=0.4, prefix="t")
    figures = summarise([*failed, *slow])
    assert figures["sent"] == 7
    assert figures["errors"] == 4
    assert figures["error_kinds"] == {"HTTP 503": 3, "timeout": 1}
    assert figures["answered"] == 3
    assert figures["max_ms"] < 400  # the timed-out request is not among the latencies


async def test_a_refused_connection_is_an_error() -> None:
    nobody = Target("nobody", f"http://127.0.0.1:{free_port()}/webhooks/rest/webhook", {})
    async with client(1) as http:
        turns = await conversation_turns(http, nobody, 2, timeout=2, prefix="r")
    assert [turn.status for turn in turns] == [0, 0]
    assert all(turn.error for turn in turns)


async def test_a_crowd_talks_for_the_given_time_and_gets_a_throughput(channel: RecordingServer) -> None:
    async with client(5) as http:
        turns, elapsed = await crowd(
            http, target_of(channel), 5, 1.5, (0.05, 0.1), timeout=5, prefix="c", rng=random.Random(1)
        )
    figures = summarise(turns, elapsed)
    assert figures["errors"] == 0 and figures["answered"] == len(channel.requests) > 10
    assert 1.5 <= elapsed < 5
    assert figures["throughput_msg_s"] == pytest.approx(figures["answered"] / elapsed, rel=0.01)
    per_sender: dict = {}
    for request in channel.requests:
        per_sender.setdefault(request.json()["sender"], []).append(request.json()["message"])
    assert all(messages == list(MESSAGES[: len(messages)]) for messages in per_sender.values())
