"""The one way out to a messaging platform: one pooled session, a timeout on every try, retries
on 429 and 5xx within a deadline, no retry on other refusals, a failure logged once without content."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Iterator

import pytest

from channels.messaging import PlatformClient
from outbound.retry import RetryPolicy
from tests.support.standins import RecordingServer


@pytest.fixture
def platform() -> Iterator[RecordingServer]:
    server = RecordingServer({"ok": True})
    yield server
    server.stop()


def client(timeout: float = 2.0, attempts: int = 3, deadline: float = 5.0) -> PlatformClient:
    return PlatformClient("Stand-in", timeout, RetryPolicy(attempts=attempts, backoff=0.05, deadline=deadline))


async def test_sends_share_one_pooled_connection(platform: RecordingServer) -> None:
    sender = client()
    try:
        for number in range(5):
            assert await sender.post(f"{platform.url}/messages", json={"n": number})
        session = sender.session()
        assert await sender.post(f"{platform.url}/messages", json={"n": 5})
        assert sender.session() is session
    finally:
        await sender.close()
    assert [r.json()["n"] for r in platform.requests] == list(range(6))
    assert len({r.peer_port for r in platform.requests}) == 1  # one kept-alive connection
    assert session.closed


async def test_a_503_is_tried_again_a_400_is_not(platform: RecordingServer, caplog: pytest.LogCaptureFixture) -> None:
    sender = client()
    try:
        platform.fail_next(2)
        assert await sender.post(f"{platform.url}/m", json={"text": "secret words"})
        assert len(platform.requests) == 3
        platform.fail_next(1, status=400)
        with caplog.at_level(logging.WARNING):
            assert not await sender.post(f"{platform.url}/m", json={"text": "secret words"})
        assert len(platform.requests) == 4
        platform.fail_next(10)
        assert not await sender.post(f"{platform.url}/m", json={"text": "secret words"})
        assert len(platform.requests) == 7  # three tries in all
    finally:
        await sender.close()
    warnings = [r.getMessage() for r in caplog.records if r.name == "channels.messaging"]
    assert len(warnings) == 2  # one line per failed send, not one per try
    assert "400" in warnings[0] and "503" in warnings[1]
    assert not any("secret" in w for w in warnings)


async def test_a_platform_that_hangs_is_given_up_within_the_deadline(platform: RecordingServer) -> None:
    sender = client(timeout=0.3, attempts=5, deadline=1.0)
    platform.slow_next(10, 2.0)
    started = time.monotonic()
    try:
        assert not await sender.post(f"{platform.url}/m", json={})
    finally:
        await sender.close()
    assert time.monotonic() - started < 1.5


async def test_a_closed_client_opens_a_new_session_when_used_again(platform: RecordingServer) -> None:
    sender = client()
    assert await sender.post(f"{platform.url}/m", json={})
    await sender.close()
    assert await sender.post(f"{platform.url}/m", json={})
    await sender.close()
    await asyncio.sleep(0)
