"""A loopback HTTP proxy in front of the real registry that can make the network slow or
garble answers: the faults a real registry process cannot be asked to produce."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Optional

import requests


class FaultyProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.delay_seconds = 0.0
        self.truncate_body = False
        self.requests_seen = 0
        self.statuses: list = []
        self.max_in_flight = 0
        self._in_flight = 0
        self._lock = threading.Lock()
        self._server: Optional[ThreadingHTTPServer] = None

    def __enter__(self) -> "FaultyProxy":
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with proxy._lock:
                    proxy.requests_seen += 1
                    proxy._in_flight += 1
                    proxy.max_in_flight = max(proxy.max_in_flight, proxy._in_flight)
                try:
                    if proxy.delay_seconds:
                        time.sleep(proxy.delay_seconds)  # the fault being simulated: a slow network
                    forwarded = {k: v for k, v in self.headers.items() if k.lower() == "if-none-match"}
                    upstream = requests.get(proxy.upstream + self.path, headers=forwarded, timeout=10)
                    proxy.statuses.append(upstream.status_code)
                    body = upstream.content[: len(upstream.content) // 2] if proxy.truncate_body else upstream.content
                    self.send_response(upstream.status_code)
                    self.send_header("Content-Type", upstream.headers.get("Content-Type", "application/json"))
                    if "ETag" in upstream.headers:
                        self.send_header("ETag", upstream.headers["ETag"])
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                finally:
                    with proxy._lock:
                        proxy._in_flight -= 1

            def log_message(self, format: str, *args: object) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
