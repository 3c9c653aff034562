"""Stand-ins for the platforms the tests cannot reach (Meta's Graph API, Twilio's REST API):
small HTTP servers on loopback that record every request and answer like the platform."""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, List, Optional
from urllib.parse import parse_qs


@dataclass
class Recorded:
    method: str
    path: str
    headers: Dict[str, str]
    body: bytes
    # The caller's port: requests on one kept-alive connection share it.
    peer_port: int = 0

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
        self._failure_status = 503
        self._failure_body: Dict[str, Any] = {"error": "temporarily unavailable"}
        self._failure_match: Callable[[Recorded], bool] = lambda request: True
        self._slow_left = 0
        self._slow_seconds = 0.0
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keeps connections alive, as the platforms do

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                recorded = Recorded("POST", self.path, dict(self.headers), body, self.client_address[1])
                with server._arrived:
                    server.requests.append(recorded)
                    server._arrived.notify_all()
                    failing = server._failures_left > 0 and server._failure_match(recorded)
                    server._failures_left -= int(failing)
                    status = server._failure_status if failing else 200
                    slow = server._slow_seconds if server._slow_left > 0 else 0.0
                    server._slow_left -= int(server._slow_left > 0)
                if slow:
                    time.sleep(slow)  # a platform that does not answer in time
                payload = json.dumps(server._failure_body if failing else answer).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the caller gave up waiting

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def fail_next(
        self,
        count: int,
        status: int = 503,
        body: Optional[Dict[str, Any]] = None,
        match: Callable[[Recorded], bool] = lambda request: True,
    ) -> None:
        """Answer the next ``count`` requests with a 503, as a platform having a bad minute does
        (or with another error status and the platform's error body: a 400 for a message it refuses,
        e.g. Meta's ``{"error": {"code": 131047}}`` outside the 24-hour window). With ``match``,
        only the requests it accepts fail; others (a watcher's notice racing the test) pass."""
        with self._arrived:
            self._failures_left = count
            self._failure_status = status
            self._failure_body = body or {"error": "temporarily unavailable"}
            self._failure_match = match

    def slow_next(self, count: int, seconds: float) -> None:
        """Hold the answer to the next ``count`` requests for ``seconds``."""
        with self._arrived:
            self._slow_left = count
            self._slow_seconds = seconds

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


# What Meta's webhooks carry, shaped as its WhatsApp Cloud API reference shows them (README, "Phone
# numbers": the pages read). A person with a username may come without a number: no ``from`` on the
# message, no ``wa_id`` in ``contacts``, only their business-scoped user id (``from_user_id``, ``user_id``).
WHATSAPP_PHONE_NUMBER_ID = "109876543210"


def meta_delivery(messages: List[Dict[str, Any]], contacts: Optional[List[Dict[str, Any]]] = None) -> Dict[str, Any]:
    value: Dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550001111", "phone_number_id": WHATSAPP_PHONE_NUMBER_ID},
    }
    if contacts is not None:
        value["contacts"] = contacts
    value["messages"] = messages
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": value}]}],
    }


def meta_message(
    content: Dict[str, Any], phone: Optional[str] = None, user_id: Optional[str] = None, name: str = "Salma"
) -> Dict[str, Any]:
    """One person's message: ``from`` and ``contacts[].wa_id`` when Meta shares the number,
    ``from_user_id`` and ``contacts[].user_id`` when the person has a BSUID."""
    message: Dict[str, Any] = {"id": f"wamid.{uuid.uuid4().hex}", "timestamp": "1790000000", **content}
    contact: Dict[str, Any] = {"profile": {"name": name}}
    if phone:
        message["from"] = phone
        contact["wa_id"] = phone
    if user_id:
        message["from_user_id"] = user_id
        contact["user_id"] = user_id
        contact["profile"]["username"] = "@" + name.lower()
    return meta_delivery([message], [contact])


def meta_number_changed(old_phone: str, new_phone: str, old_user_id: str, new_user_id: str) -> Dict[str, Any]:
    """The system message of a person who changed their number (and so got a new BSUID)."""
    system = {
        "body": f"User Salma changed from {old_phone} to {new_phone}",
        "wa_id": new_phone,
        "user_id": new_user_id,
        "previous_user_id": old_user_id,
        "type": "user_changed_number",
    }
    message = {"from": old_phone, "id": f"wamid.{uuid.uuid4().hex}", "timestamp": "1790000000", "type": "system"}
    return meta_delivery([{**message, "system": system}])


def meta_user_id_changed(old_user_id: str, new_user_id: str) -> Dict[str, Any]:
    """The system message of a person whose BSUID changed, with no number to share."""
    system = {
        "body": "User Salma changed their business-scoped user ID",
        "user_id": new_user_id,
        "previous_user_id": old_user_id,
        "type": "user_changed_user_id",
    }
    message = {"id": f"wamid.{uuid.uuid4().hex}", "timestamp": "1790000000", "type": "system"}
    return meta_delivery([{**message, "system": system}])


def new_bsuid() -> str:
    return "MA." + str(uuid.uuid4().int)[:20]
