"""The machine's PostgreSQL, Redis and RabbitMQ, which the production-path tests need.

Where one is absent, those tests are skipped with the reason, except under .ci/run
(TAWJIH_REQUIRE_SERVICES), where a missing service is a failure: CI runs them all."""

from __future__ import annotations

import os
import socket
from typing import NoReturn, Tuple

import pytest

REDIS = ("127.0.0.1", 6379)
RABBITMQ = ("127.0.0.1", 5672)
RABBITMQ_URL = f"amqp://guest:guest@{RABBITMQ[0]}:{RABBITMQ[1]}/"


def missing_service(reason: str) -> NoReturn:
    if os.environ.get("TAWJIH_REQUIRE_SERVICES"):
        pytest.fail(f"{reason}: CI must test the production paths")
    pytest.skip(reason)


def reachable(address: Tuple[str, int]) -> bool:
    try:
        with socket.create_connection(address, timeout=1):
            return True
    except OSError:
        return False


def require(name: str, address: Tuple[str, int]) -> None:
    if not reachable(address):
        missing_service(f"{name} is not running on {address[0]}:{address[1]}")
