"""Where the WhatsApp channels keep what they remember between webhooks: message ids already
accepted, the options last offered, the links between a person's identifiers.

In the Rasa process's memory by default (`make run` needs nothing else); in Redis when
TAWJIH_CHANNEL_STATE_URL is set, so that several Rasa instances behind a load balancer share it.
Keys are ``<prefix>:<channel>:<kind>:<hash>``: a hash of what the caller names, never a number or
an id in clear; values are JSON; every entry expires.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections import OrderedDict
from typing import Any, Dict, Optional, Protocol, Tuple

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

KEY_PREFIX = "tawjih"
# Each Redis call's socket timeout (connecting, and waiting for the answer): a webhook waits no longer.
REDIS_TIMEOUT_SECONDS = 1.0
REDIS_MAX_CONNECTIONS = 32


class StateUnavailable(Exception):
    """The shared store could not be reached; ``kind`` names the error (never a key or a value)."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


def state_key(channel: str, kind: str, name: str) -> str:
    """``<channel>:<kind>:<hash of name>``; the Redis store puts its prefix in front."""
    return f"{channel}:{kind}:{hashlib.sha256(name.encode()).hexdigest()[:40]}"


class StateStore(Protocol):
    async def get(self, key: str) -> Any: ...

    async def put(self, key: str, value: Any, ttl_seconds: float) -> None: ...

    async def put_if_absent(self, key: str, value: Any, ttl_seconds: float) -> bool:
        """True when the key was absent and is now set: the caller is the first (atomic)."""

    async def pop(self, key: str) -> None: ...

    async def close(self) -> None: ...


class MemoryStore:
    """A bounded map whose entries expire: memory stays flat whatever the traffic. One process only."""

    def __init__(self, max_entries: int = 100_000) -> None:
        self.max_entries = max_entries
        self._items: "OrderedDict[str, Tuple[float, str]]" = OrderedDict()

    def _purge(self, now: float) -> None:
        # Entries are kept in insertion order; with TTLs that differ, an expired entry behind a live
        # one waits for the bound or for its own lookup (``get`` checks the expiry).
        while self._items and (len(self._items) > self.max_entries or next(iter(self._items.values()))[0] < now):
            self._items.popitem(last=False)

    def _live(self, key: str, now: float) -> Optional[str]:
        entry = self._items.get(key)
        if entry is None or entry[0] < now:
            return None
        return entry[1]

    async def get(self, key: str) -> Any:
        now = time.monotonic()
        self._purge(now)
        found = self._live(key, now)
        return None if found is None else json.loads(found)

    async def put(self, key: str, value: Any, ttl_seconds: float) -> None:
        now = time.monotonic()
        self._items.pop(key, None)
        self._items[key] = (now + ttl_seconds, json.dumps(value))
        self._purge(now)

    async def put_if_absent(self, key: str, value: Any, ttl_seconds: float) -> bool:
        if self._live(key, time.monotonic()) is not None:
            return False
        await self.put(key, value, ttl_seconds)
        return True

    async def pop(self, key: str) -> None:
        self._items.pop(key, None)

    async def close(self) -> None:
        return None


class RedisStore:
    """The same in Redis, through one connection pool per process, created lazily in the running loop."""

    def __init__(self, url: str, prefix: str = KEY_PREFIX, timeout_seconds: float = REDIS_TIMEOUT_SECONDS) -> None:
        self.url = url
        self.prefix = prefix
        self.timeout_seconds = timeout_seconds
        self._client: Optional[aioredis.Redis] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None

    def _redis(self) -> aioredis.Redis:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            # Blocking: a burst waits (up to the timeout) for a free connection instead of failing.
            pool = aioredis.BlockingConnectionPool.from_url(
                self.url,
                max_connections=REDIS_MAX_CONNECTIONS,
                timeout=self.timeout_seconds,
                socket_timeout=self.timeout_seconds,
                socket_connect_timeout=self.timeout_seconds,
                # A pooled connection that Redis (or a restart) cut is reconnected once, at once.
                retry_on_error=[RedisConnectionError],
            )
            self._client = aioredis.Redis(connection_pool=pool)
            self._loop = loop
        return self._client

    async def _call(self, command: str, key: str, *args: Any, **options: Any) -> Any:
        try:
            return await getattr(self._redis(), command)(f"{self.prefix}:{key}", *args, **options)
        except (RedisError, OSError, asyncio.TimeoutError) as error:
            raise StateUnavailable(type(error).__name__) from error

    async def get(self, key: str) -> Any:
        found = await self._call("get", key)
        return None if found is None else json.loads(found)

    async def put(self, key: str, value: Any, ttl_seconds: float) -> None:
        await self._call("set", key, json.dumps(value), px=max(1, int(ttl_seconds * 1000)))

    async def put_if_absent(self, key: str, value: Any, ttl_seconds: float) -> bool:
        return bool(await self._call("set", key, json.dumps(value), px=max(1, int(ttl_seconds * 1000)), nx=True))

    async def pop(self, key: str) -> None:
        await self._call("delete", key)

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None and self._loop is asyncio.get_running_loop():
            await client.close(close_connection_pool=True)


_SHARED: Dict[str, RedisStore] = {}


def state_store(url: str, max_entries: int = 100_000) -> StateStore:
    """The process's one Redis store for this URL, or (no URL) a new store in this process's memory."""
    if not url:
        return MemoryStore(max_entries)
    if url not in _SHARED:
        _SHARED[url] = RedisStore(url)
    return _SHARED[url]


async def close_state_stores() -> None:
    """Close the process's Redis pools (when the server stops; a later call opens them again)."""
    for store in list(_SHARED.values()):
        await store.close()
