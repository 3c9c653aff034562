"""The one way actions reach the staff console's handoff queue (``console/handoff``).

``POST {CONSOLE_URL}/internal/v1/handoffs`` with the bearer token HANDOFF_SERVICE_TOKEN queues a
request for an adviser (the console answers the one already open for the conversation if there is
one, so a retried call queues nothing twice) and says what to tell the person: whether advisers are
working now, the place in the queue, a rough wait, the next opening. Calls run in a worker thread,
never on the action server's event loop, with a timeout on every try and the shared retry policy
(``outbound.retry``); anything but a usable answer is ``HandoffServiceUnavailable``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Dict, Optional

import requests

from actions.config import ActionServerSettings, action_server_settings
from outbound.retry import DeadlineExceeded, RetryableError, RetryPolicy, retryable_status

logger = logging.getLogger(__name__)


class HandoffServiceUnavailable(Exception):
    """The console could not queue the request (unreachable, refused, or an answer we cannot read)."""


@dataclass(frozen=True)
class Ticket:
    """What the console said about a queued request."""

    id: int
    status: str
    open_now: bool
    position: int
    estimate_minutes: Optional[int]
    next_opening: Optional[dt.datetime]
    already_open: bool


def ticket_from(body: Any, already_open: bool) -> Ticket:
    if not isinstance(body, dict):
        raise HandoffServiceUnavailable("not an object")
    try:
        opening = body.get("next_opening")
        estimate = body.get("estimate_minutes")
        return Ticket(
            id=int(body["id"]),
            status=str(body["status"]),
            open_now=bool(body["open_now"]),
            position=max(1, int(body.get("position") or 1)),
            estimate_minutes=int(estimate) if estimate is not None else None,
            next_opening=dt.datetime.fromisoformat(opening) if opening else None,
            already_open=already_open,
        )
    except (KeyError, TypeError, ValueError) as error:
        raise HandoffServiceUnavailable(type(error).__name__) from None


class HandoffService:
    def __init__(self, settings: ActionServerSettings) -> None:
        self.url = f"{settings.console_url}/internal/v1/handoffs"
        self.token = settings.handoff_service_token or ""
        self.policy = RetryPolicy(attempts=2, backoff=0.2, deadline=settings.console_budget)
        self._session = requests.Session()
        self._executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="handoff")

    def _post(self, request: Dict[str, Any]) -> Ticket:
        def attempt(seconds_left: float) -> Ticket:
            try:
                reply = self._session.post(
                    self.url,
                    json=request,
                    headers={"Authorization": f"Bearer {self.token}"},
                    timeout=(min(1.0, seconds_left), seconds_left),
                )
            except requests.RequestException as error:
                raise RetryableError(type(error).__name__) from error
            if retryable_status(reply.status_code):
                raise RetryableError(f"status {reply.status_code}")
            if reply.status_code not in (200, 201):
                raise HandoffServiceUnavailable(f"status {reply.status_code}")
            try:
                body = reply.json()
            except ValueError:
                raise HandoffServiceUnavailable("not JSON") from None
            return ticket_from(body, already_open=reply.status_code == 200)

        try:
            return self.policy.call(attempt)
        except DeadlineExceeded as error:
            raise HandoffServiceUnavailable(str(error.last or "deadline")) from None

    async def request_adviser(self, request: Dict[str, Any]) -> Ticket:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, self._post, request)
        except HandoffServiceUnavailable as error:
            # The reason is a status or an error's type: never the conversation or what was said.
            logger.warning("The staff console could not queue a request for an adviser (%s).", error)
            raise


_lock = threading.Lock()


@functools.lru_cache(maxsize=1)
def _service() -> HandoffService:
    return HandoffService(action_server_settings())


def handoff_service() -> HandoffService:
    with _lock:
        return _service()
