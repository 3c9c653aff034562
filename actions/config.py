"""Every action-server setting, read from the environment in one place."""

from __future__ import annotations

import os
from dataclasses import dataclass

from privacy.retention import retention_days


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return float(raw) if raw not in (None, "") else default


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw not in (None, "") else default


@dataclass(frozen=True)
class RegistryClientSettings:
    base_url: str = "http://127.0.0.1:8100"
    connect_timeout: float = 0.5
    read_timeout: float = 1.5
    total_budget: float = 2.0
    retries: int = 2
    backoff: float = 0.1
    cache_ttl: float = 0.0
    breaker_threshold: int = 3
    breaker_cooldown: float = 15.0

    @classmethod
    def from_env(cls) -> "RegistryClientSettings":
        return cls(
            base_url=(os.environ.get("REGISTRY_URL") or cls.base_url).rstrip("/"),
            connect_timeout=_float("REGISTRY_CONNECT_TIMEOUT_SECONDS", cls.connect_timeout),
            read_timeout=_float("REGISTRY_READ_TIMEOUT_SECONDS", cls.read_timeout),
            total_budget=_float("REGISTRY_TOTAL_BUDGET_SECONDS", cls.total_budget),
            retries=_int("REGISTRY_RETRIES", cls.retries),
            cache_ttl=_float("REGISTRY_CACHE_TTL_SECONDS", cls.cache_ttl),
            breaker_threshold=_int("REGISTRY_BREAKER_THRESHOLD", cls.breaker_threshold),
            breaker_cooldown=_float("REGISTRY_BREAKER_COOLDOWN_SECONDS", cls.breaker_cooldown),
        )


def conversation_retention_days() -> int:
    """How long conversation logs are kept (``privacy.retention`` deletes them after); the
    welcome tells every newcomer this figure."""
    return retention_days()
