"""Retries with a deadline: the one policy for every call Tawjih makes to another service.

A call is tried up to ``attempts`` times, pausing ``backoff`` seconds and doubling it after each
failure, and never past ``deadline`` seconds from the first try: each try is given only the time
that is left, so a slow service cannot hold a person's turn longer than the deadline.
``call`` is for blocking clients (the registry client, run off the event loop); ``acall`` for
asyncio ones (the WhatsApp and Twilio senders).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Awaitable, Callable, Optional, TypeVar

T = TypeVar("T")


class RetryableError(Exception):
    """Raised by a try that may succeed if tried again (a timeout, a reset, a 429 or 5xx answer)."""


class DeadlineExceeded(Exception):
    """Every try failed, or the time ran out; ``last`` is the last try's error."""

    def __init__(self, last: Optional[BaseException]) -> None:
        super().__init__(type(last).__name__ if last else "deadline")
        self.last = last


def retryable_status(status: int) -> bool:
    """429 and 5xx may pass on a later try; other 4xx will not."""
    return status == 429 or status >= 500


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 3
    backoff: float = 0.1
    deadline: float = 2.0
    min_try_seconds: float = 0.05

    def _pause(self, failures: int) -> float:
        return self.backoff * 2 ** (failures - 1)

    def call(self, attempt: Callable[[float], T], clock: Callable[[], float] = time.monotonic) -> T:
        """``attempt(seconds_left)`` until it returns; it raises RetryableError to be tried again."""
        end = clock() + self.deadline
        last: Optional[BaseException] = None
        for tried in range(1, self.attempts + 1):
            left = end - clock()
            if left < self.min_try_seconds:
                break
            try:
                return attempt(left)
            except RetryableError as error:
                last = error.__cause__ or error
            pause = self._pause(tried)
            if tried == self.attempts or clock() + pause >= end:
                break
            time.sleep(pause)  # between tries of a blocking client, which runs in a worker thread
        raise DeadlineExceeded(last)

    async def acall(self, attempt: Callable[[float], Awaitable[T]], clock: Callable[[], float] = time.monotonic) -> T:
        """The same policy for a coroutine: ``await attempt(seconds_left)``."""
        end = clock() + self.deadline
        last: Optional[BaseException] = None
        for tried in range(1, self.attempts + 1):
            left = end - clock()
            if left < self.min_try_seconds:
                break
            try:
                return await asyncio.wait_for(attempt(left), timeout=left)
            except asyncio.TimeoutError as error:
                last = error
            except RetryableError as error:
                last = error.__cause__ or error
            pause = self._pause(tried)
            if tried == self.attempts or clock() + pause >= end:
                break
            await asyncio.sleep(pause)
        raise DeadlineExceeded(last)
