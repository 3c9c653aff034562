"""The one way actions read the registry: bounded in time, retried, cached briefly, and
failing with typed errors that the caller turns into a kind message.

- One pooled HTTP session per process, with as many connections as worker threads; calls run in
  those threads (``call_registry``), never on the action server's event loop.
- Retries with a deadline come from ``outbound.retry.RetryPolicy``, the policy the WhatsApp and
  Twilio senders use too.
- Reference lists (cities, regions, education levels, programmes) are reused for
  ``REGISTRY_REFERENCE_TTL_SECONDS`` without asking; every other answer is revalidated by ETag on
  every use (a 304 costs no body), so a session's seats or a programme's record are never stale.
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
from requests.adapters import HTTPAdapter

from actions.config import ActionServerSettings, action_server_settings
from outbound.retry import DeadlineExceeded, RetryableError, RetryPolicy, retryable_status

logger = logging.getLogger(__name__)
T = TypeVar("T")
PAGE_SIZE = 200
# Lists that change only when staff edit the catalogue: worth a short reuse window.
REFERENCE_LISTS = frozenset({"/api/v1/cities", "/api/v1/regions", "/api/v1/education-levels", "/api/v1/programmes"})


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
    fresh_until: float


class ResponseCache:
    """Registry answers with their ETags. Until ``fresh_until`` an answer is reused without asking;
    after that the client revalidates it (If-None-Match), and a 304 reuses it."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, max_entries: int = 1000) -> None:
        self._clock = clock
        self._max_entries = max_entries
        self._entries: Dict[Any, CachedAnswer] = {}
        self._lock = threading.Lock()

    def get(self, key: Any) -> Optional[CachedAnswer]:
        with self._lock:
            return self._entries.get(key)

    def is_fresh(self, answer: CachedAnswer) -> bool:
        return self._clock() < answer.fresh_until

    def put(self, key: Any, etag: Optional[str], body: Any, fresh_for: float) -> None:
        with self._lock:
            if len(self._entries) >= self._max_entries and key not in self._entries:
                self._entries.pop(next(iter(self._entries)))
            self._entries[key] = CachedAnswer(etag, body, self._clock() + fresh_for)


class RegistryClient:
    def __init__(self, settings: ActionServerSettings) -> None:
        self.settings = settings
        self.breaker = CircuitBreaker(settings.breaker_threshold, settings.breaker_cooldown)
        self.retry = RetryPolicy(
            attempts=settings.retries + 1, backoff=settings.backoff, deadline=settings.total_budget
        )
        self._cache = ResponseCache()
        self._lock = threading.Lock()
        self._http: Optional[requests.Session] = None
        self._executor: Optional[ThreadPoolExecutor] = None

    # -- the read API ---------------------------------------------------------------

    def programmes(self) -> List[Dict[str, Any]]:
        return self._list("/api/v1/programmes")

    def programme(self, programme_id: str) -> Dict[str, Any]:
        path = f"/api/v1/programmes/{requests.utils.quote(programme_id, safe='')}"
        return self._object(path, route="/api/v1/programmes/{id}")

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

    # -- threads and connections -------------------------------------------------------

    @property
    def executor(self) -> ThreadPoolExecutor:
        """The threads registry calls run in: as many as the session keeps connections."""
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=self.settings.workers, thread_name_prefix="registry")
            return self._executor

    def _session(self) -> requests.Session:
        with self._lock:
            if self._http is None:
                session = requests.Session()
                session.headers["Accept"] = "application/json"
                # Retries are the RetryPolicy's; the pool holds a connection for every worker thread.
                adapter = HTTPAdapter(pool_connections=1, pool_maxsize=self.settings.workers, max_retries=0)
                session.mount("http://", adapter)
                session.mount("https://", adapter)
                self._http = session
            return self._http

    def close(self) -> None:
        with self._lock:
            session, executor = self._http, self._executor
            self._http = self._executor = None
        if session is not None:
            session.close()
        if executor is not None:
            executor.shutdown(wait=False)

    # -- plumbing ---------------------------------------------------------------------

    def _object(
        self, path: str, params: Optional[Dict[str, Any]] = None, route: Optional[str] = None
    ) -> Dict[str, Any]:
        body = self._get_json(path, params or {}, route or path)
        if not isinstance(body, dict):
            raise RegistryBadResponse(f"{route or path}: expected a JSON object")
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

    def _fresh_for(self, path: str) -> float:
        return self.settings.reference_ttl if path in REFERENCE_LISTS else self.settings.cache_ttl

    def _get_json(self, path: str, params: Dict[str, Any], route: str) -> Any:
        """GET one answer. ``route`` names the endpoint in errors and logs, never a value from a slot."""
        key = (path, tuple(sorted(params.items())))
        cached = self._cache.get(key)
        if cached is not None and self._cache.is_fresh(cached):
            return cached.body
        if not self.breaker.allow():
            raise RegistryUnavailable("registry circuit is open")
        headers = {"If-None-Match": cached.etag} if cached is not None and cached.etag else {}
        url = self.settings.registry_url + path

        def attempt(seconds_left: float) -> Any:
            timeout = (min(self.settings.connect_timeout, seconds_left), min(self.settings.read_timeout, seconds_left))
            try:
                response = self._session().get(url, params=params, headers=headers, timeout=timeout)
            except requests.RequestException as exc:
                raise RetryableError() from RegistryUnavailable(f"{route}: {type(exc).__name__}")
            status = response.status_code
            if status == 304 and cached is not None:
                self._cache.put(key, cached.etag, cached.body, self._fresh_for(path))
                return cached.body
            if status == 404:
                raise RegistryNotFound(route)
            if 200 <= status < 300:
                try:
                    body = response.json()
                except ValueError:
                    raise RegistryBadResponse(f"{route}: malformed JSON") from None  # will not mend on retry
                self._cache.put(key, response.headers.get("ETag"), body, self._fresh_for(path))
                return body
            if retryable_status(status):
                raise RetryableError() from RegistryBadResponse(f"{route}: HTTP {status}")
            raise RegistryBadResponse(f"{route}: HTTP {status}")

        try:
            body = self.retry.call(attempt)
        except RegistryNotFound:
            self.breaker.record_success()  # it answered, and clearly
            raise
        except DeadlineExceeded as exhausted:
            last = exhausted.last
            failure: RegistryError = (
                last if isinstance(last, RegistryError) else RegistryUnavailable(f"{route}: no time left")
            )
        except RegistryError as error:
            failure = error
        else:
            self.breaker.record_success()
            return body
        self.breaker.record_failure()
        logger.warning("Registry call failed: %s", failure)
        raise failure


_client: Optional[RegistryClient] = None
_client_lock = threading.Lock()


def registry_client() -> RegistryClient:
    """The process-wide client, built on first use (nothing connects at import time)."""
    global _client
    with _client_lock:
        if _client is None:
            _client = RegistryClient(action_server_settings())
        return _client


def reset_registry_client() -> None:
    """Forget the client and the settings it was built from (tests change the environment)."""
    global _client
    with _client_lock:
        client, _client = _client, None
    action_server_settings.cache_clear()
    if client is not None:
        client.close()


async def call_registry(method: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a blocking call in the registry client's worker threads, so other conversations go on meanwhile."""
    owner = getattr(method, "__self__", None)
    client = owner if isinstance(owner, RegistryClient) else registry_client()
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(client.executor, functools.partial(method, *args, **kwargs))
