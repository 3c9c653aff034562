"""Stand-ins for the platforms the tests cannot reach (Meta's Graph API, Twilio's REST API):
small HTTP servers on loopback that record every request and answer like the platform."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, List
from urllib.parse import parse_qs


@dataclass
class Recorded:
    method: str
    path: str
    headers: Dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> Dict[str, str]:
        return {key: values[0] for key, values in parse_qs(self.body.decode()).items()}


class RecordingServer:
    """Records requests; `wait_for(n)` blocks (on a condition, not a sleep) until n have arrived."""

    def __init__(self, answer: Dict[str, Any]) -> None:
        self.requests: List[Recorded] = []
        self._arrived = threading.Condition()
        self._failures_left = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with server._arrived:
                    server.requests.append(Recorded("POST", self.path, dict(self.headers), body))
                    server._arrived.notify_all()
                    failing = server._failures_left > 0
                    server._failures_left -= int(failing)
                payload = json.dumps({"error": "temporarily unavailable"} if failing else answer).encode()
                self.send_response(503 if failing else 200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def fail_next(self, count: int) -> None:
        """Answer the next ``count`` requests with a 503, as a platform having a bad minute does."""
        with self._arrived:
            self._failures_left = count

    def mark(self) -> int:
        with self._arrived:
            return len(self.requests)

    def wait_for(
        self, count: int, since: int = 0, match: Callable[[Recorded], bool] = lambda r: True, timeout: float = 30
    ) -> List[Recorded]:
        """The first ``count`` matching requests recorded after position ``since``, once they are there."""

        def matching() -> List[Recorded]:
            return [r for r in self.requests[since:] if match(r)]

        with self._arrived:
            if not self._arrived.wait_for(lambda: len(matching()) >= count, timeout=timeout):
                raise TimeoutError(f"{len(matching())} of {count} requests arrived")
            return matching()[:count]

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
