"""The read path's cache: a GET of the API is built once per catalogue version, then served as bytes.

The catalogue changes only when staff write to it, and every write raises one number in the same
transaction (``catalogue_version``, see ``registry.db.session_factory``). A read asks the database
for that number (one indexed one-row query, in a worker thread) and, while it has not moved, answers
with the body, the ETag and the headers it built the first time: no ORM query, no validation, no
encoding. A client that already holds the ETag gets a 304 with no body. A write is seen by the next
read, on every replica, because each replica compares the number in the shared database.

It is a plain ASGI middleware, not Starlette's ``BaseHTTPMiddleware``, which costs a task and a
stream per request and wraps errors."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Dict, List, MutableMapping, Optional, Tuple

import anyio
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from registry.db import catalogue_version

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# A few hundred distinct reads (filters × pages) cover what the actions ask; a body above this is not kept.
MAX_ENTRIES = 2048
MAX_BODY_BYTES = 1_000_000


@dataclass(frozen=True)
class CachedRead:
    headers: List[Tuple[bytes, bytes]]
    body: bytes
    etag: bytes


def etag_of(body: bytes) -> bytes:
    return b'"' + hashlib.sha256(body).hexdigest()[:32].encode() + b'"'


class ReadCache:
    def __init__(self, app: ASGIApp, engine: Engine, max_entries: int = MAX_ENTRIES) -> None:
        self.app = app
        self.engine = engine
        self.max_entries = max_entries
        self._entries: "OrderedDict[bytes, CachedRead]" = OrderedDict()
        self._version: Optional[int] = None
        self.hits = 0
        self.misses = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or not scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return
        version = await anyio.to_thread.run_sync(self._read_version)
        key = scope["path"].encode() + b"?" + scope.get("query_string", b"")
        if_none_match = dict(scope.get("headers") or []).get(b"if-none-match")
        cached = self._lookup(version, key)
        if cached is not None:
            self.hits += 1
            await self._answer(send, cached, if_none_match)
            return
        self.misses += 1
        built = await self._build(scope, receive, send)
        if built is None:
            return  # not a 200: already passed through as it was
        if version is not None and len(built.body) <= MAX_BODY_BYTES:
            self._store(version, key, built)
        await self._answer(send, built, if_none_match)

    # -- the cache ----------------------------------------------------------------------------
    def _read_version(self) -> Optional[int]:
        """None when the database cannot say: the request is then built and not kept."""
        try:
            with self.engine.connect() as connection:
                return catalogue_version(connection)
        except sa.exc.SQLAlchemyError:
            return None

    def _lookup(self, version: Optional[int], key: bytes) -> Optional[CachedRead]:
        if version is None or version != self._version:
            return None
        cached = self._entries.get(key)
        if cached is not None:
            self._entries.move_to_end(key)
        return cached

    def _store(self, version: int, key: bytes, built: CachedRead) -> None:
        if version != self._version:
            self._entries.clear()
            self._version = version
        self._entries[key] = built
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    # -- the application's answer -------------------------------------------------------------
    async def _build(self, scope: Scope, receive: Receive, send: Send) -> Optional[CachedRead]:
        """Runs the route; a 200 comes back whole (to be answered and kept), anything else is sent on."""
        start: Dict[str, Any] = {}
        chunks: List[bytes] = []
        passing_through = False

        async def capture(message: Message) -> None:
            nonlocal passing_through
            if message["type"] == "http.response.start":
                start.update(message)
                passing_through = message["status"] != 200
                if passing_through:
                    await send(message)
            elif passing_through:
                await send(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, capture)
        if passing_through or not start:
            return None
        body = b"".join(chunks)
        headers = [(name, value) for name, value in start.get("headers", []) if name.lower() != b"content-length"]
        return CachedRead(headers=headers, body=body, etag=etag_of(body))

    @staticmethod
    async def _answer(send: Send, read: CachedRead, if_none_match: Optional[bytes]) -> None:
        if if_none_match == read.etag:
            await send({"type": "http.response.start", "status": 304, "headers": [(b"etag", read.etag)]})
            await send({"type": "http.response.body", "body": b""})
            return
        headers = [*read.headers, (b"content-length", str(len(read.body)).encode()), (b"etag", read.etag)]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": read.body})
