"""The one way actions read the registry: bounded in time, retried, cached briefly, and
failing with typed errors that the caller turns into a kind message.

Every answer is revalidated with the registry by ETag (a 304 costs no body), so a staff
change shows in the very next answer; ``REGISTRY_CACHE_TTL_SECONDS`` > 0 lets answers be
reused without asking for that long, for heavy load.

The client is synchronous (``requests``); actions call it through ``call_registry`` so it
runs in a worker thread and never blocks the action server's event loop.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Tuple, TypeVar

import requests

from actions.config import RegistryClientSettings

logger = logging.getLogger(__name__)
T = TypeVar("T")
PAGE_SIZE = 200


class RegistryError(Exception):
    """The registry could not give a usable answer."""


class RegistryUnavailable(RegistryError):
    """Not reachable, too slow, or the circuit breaker is open."""


class RegistryBadResponse(RegistryError):
    """It answered, but with a server error or something that is not the expected JSON."""


class RegistryNotFound(RegistryError):
    """The record asked for does not exist."""


class CircuitBreaker:
    """After ``threshold`` failures in a row, fail fast for ``cooldown`` seconds, then let one call try."""

    def __init__(self, threshold: int, cooldown: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._threshold = threshold
        self._cooldown = cooldown
        self._clock = clock
        self._failures = 0
        self._open_until = 0.0
        self._lock = threading.Lock()

    def allow(self) -> bool:
        with self._lock:
            if self._failures < self._threshold:
                return True
            if self._clock() >= self._open_until:
                self._open_until = self._clock() + self._cooldown  # half-open: this caller is the probe
                return True
            return False

    def record_success(self) -> None:
        with self._lock:
            self._failures = 0

    def record_failure(self) -> None:
        with self._lock:
            self._failures += 1
            if self._failures >= self._threshold:
                self._open_until = self._clock() + self._cooldown

    @property
    def is_open(self) -> bool:
        with self._lock:
            return self._failures >= self._threshold and self._clock() < self._open_until


@dataclass
class CachedAnswer:
    etag: Optional[str]
    body: Any
    stored_at: float


class ResponseCache:
    """Registry answers with their ETags. Within ``fresh_seconds`` an answer is reused without
    asking; after that the client revalidates it (If-None-Match), and a 304 reuses it."""

    def __init__(
        self, fresh_seconds: float, clock: Callable[[], float] = time.monotonic, max_entries: int = 1000
    ) -> None:
        self._fresh_seconds = fresh_seconds
        self._clock = clock
        self._max_entries = max_entries
        self._entries: Dict[Any, CachedAnswer] = {}
        self._lock = threading.Lock()

    def get(self, key: Any) -> Optional[CachedAnswer]:
        with self._lock:
            return self._entries.get(key)

    def is_fresh(self, answer: CachedAnswer) -> bool:
        return self._fresh_seconds > 0 and self._clock() - answer.stored_at < self._fresh_seconds

    def put(self, key: Any, etag: Optional[str], body: Any) -> None:
        with self._lock:
            if len(self._entries) >= self._max_entries and key not in self._entries:
                self._entries.pop(next(iter(self._entries)))
            self._entries[key] = CachedAnswer(etag, body, self._clock())


class RegistryClient:
    def __init__(self, settings: RegistryClientSettings) -> None:
        self.settings = settings
        self.breaker = CircuitBreaker(settings.breaker_threshold, settings.breaker_cooldown)
        self._cache = ResponseCache(settings.cache_ttl)
        self._local = threading.local()

    # -- the read API ---------------------------------------------------------------

    def programmes(self) -> List[Dict[str, Any]]:
        return self._list("/api/v1/programmes")

    def programme(self, programme_id: str) -> Dict[str, Any]:
        return self._object(f"/api/v1/programmes/{requests.utils.quote(programme_id, safe='')}")

    def centres(
        self,
        city: Optional[str] = None,
        region: Optional[str] = None,
        programme: Optional[str] = None,
        near: Optional[Tuple[float, float]] = None,
    ) -> List[Dict[str, Any]]:
        params = {"city": city, "region": region, "programme": programme}
        if near is not None:
            params["near"] = f"{near[0]},{near[1]}"
        return self._list("/api/v1/centres", params)

    def upcoming_sessions(
        self,
        programme: Optional[str] = None,
        city: Optional[str] = None,
        region: Optional[str] = None,
        status: Optional[str] = None,
        from_date: Optional[dt.date] = None,
    ) -> List[Dict[str, Any]]:
        from_date = from_date or dt.date.today()
        params = {
            "programme": programme,
            "city": city,
            "region": region,
            "status": status,
            "from": from_date.isoformat(),
        }
        return self._list("/api/v1/sessions", params)

    def cities(self) -> List[Dict[str, Any]]:
        return self._list("/api/v1/cities")

    def regions(self) -> List[Dict[str, Any]]:
        return self._list("/api/v1/regions")

    def education_levels(self) -> List[Dict[str, Any]]:
        return self._list("/api/v1/education-levels")

    # -- plumbing ---------------------------------------------------------------------

    def _object(self, path: str, params: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        body = self._get_json(path, params or {})
        if not isinstance(body, dict):
            raise RegistryBadResponse(f"{path}: expected a JSON object")
        return body

    def _list(self, path: str, params: Optional[Dict[str, Any]] = None) -> List[Dict[str, Any]]:
        wanted = {k: v for k, v in (params or {}).items() if v not in (None, "")}
        records: List[Dict[str, Any]] = []
        while True:
            body = self._object(path, {**wanted, "limit": PAGE_SIZE, "offset": len(records)})
            data, count = body.get("data"), body.get("count")
            if not isinstance(data, list) or not isinstance(count, int) or not all(isinstance(r, dict) for r in data):
                raise RegistryBadResponse(f"{path}: expected {{'data': [...], 'count': n}}")
            records.extend(data)
            if not data or len(records) >= count:
                return records

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.headers["Accept"] = "application/json"
            self._local.session = session
        return session

    def _get_json(self, path: str, params: Dict[str, Any]) -> Any:
        key = (path, tuple(sorted(params.items())))
        cached = self._cache.get(key)
        if cached is not None and self._cache.is_fresh(cached):
            return cached.body
        headers = {"If-None-Match": cached.etag} if cached is not None and cached.etag else {}
        if not self.breaker.allow():
            raise RegistryUnavailable("registry circuit is open")

        url = self.settings.base_url + path
        deadline = time.monotonic() + self.settings.total_budget
        failure: RegistryError = RegistryUnavailable("registry was not tried")
        for attempt in range(self.settings.retries + 1):
            remaining = deadline - time.monotonic()
            if remaining <= 0.05:
                break
            timeout = (min(self.settings.connect_timeout, remaining), min(self.settings.read_timeout, remaining))
            try:
                response = self._session().get(url, params=params, headers=headers, timeout=timeout)
            except (requests.ConnectionError, requests.Timeout) as exc:
                failure = RegistryUnavailable(f"{path}: {type(exc).__name__}")
            except requests.RequestException as exc:
                failure = RegistryUnavailable(f"{path}: {type(exc).__name__}")
            else:
                if response.status_code == 304 and cached is not None:
                    self.breaker.record_success()
                    self._cache.put(key, cached.etag, cached.body)
                    return cached.body
                if response.status_code == 404:
                    self.breaker.record_success()
                    raise RegistryNotFound(path)
                if 200 <= response.status_code < 300:
                    try:
                        body = response.json()
                    except ValueError:
                        failure = RegistryBadResponse(f"{path}: malformed JSON")
                        break  # a broken body will not mend itself on retry
                    self.breaker.record_success()
                    self._cache.put(key, response.headers.get("ETag"), body)
                    return body
                failure = RegistryBadResponse(f"{path}: HTTP {response.status_code}")
                if response.status_code < 500:
                    break
            pause = self.settings.backoff * (2**attempt)
            if deadline - time.monotonic() > pause + 0.05:
                time.sleep(pause)  # in a worker thread, never on the event loop
        self.breaker.record_failure()
        logger.warning("Registry call failed: %s", failure)
        raise failure


_client: Optional[RegistryClient] = None
_client_lock = threading.Lock()
_executor: Optional[ThreadPoolExecutor] = None


def registry_client() -> RegistryClient:
    """The process-wide client, built on first use (nothing connects at import time)."""
    global _client
    with _client_lock:
        if _client is None:
            _client = RegistryClient(RegistryClientSettings.from_env())
        return _client


def reset_registry_client() -> None:
    global _client
    with _client_lock:
        _client = None


async def call_registry(method: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a blocking client method in a worker thread so other conversations go on meanwhile."""
    global _executor
    if _executor is None:
        _executor = ThreadPoolExecutor(max_workers=16, thread_name_prefix="registry")
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_executor, functools.partial(method, *args, **kwargs))
