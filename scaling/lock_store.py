"""Rasa's Redis lock store, made safe for several instances.

Rasa 3.6's ``RedisLockStore`` changes a conversation's ticket lock by reading it, changing it in the process
and writing it back. Two instances doing that at the same moment both read the same lock: both get the same
ticket and handle one conversation at once (each loads the tracker, each appends its turn, and the tracker
store keeps one of the two), or one deletes the lock while the other's ticket is in it. On loopback, 20
conversations with two messages racing on two instances lost a turn within a few tries (tests/e2e/test_topology.py).

Here every change to a lock is one Redis transaction (WATCH the key, read, change, MULTI/EXEC the write, and
again from the read if another instance wrote in between): issuing a ticket, dropping expired ones, finishing
and cleaning up. Reading is unchanged. endpoints: ``lock_store: {type: scaling.lock_store.AtomicRedisLockStore,
url: host, port: ..., db: ..., key_prefix: ...}`` (scripts/serve_rasa.py writes it from LOCK_STORE_URL).
"""

from __future__ import annotations

import json
import logging
from typing import Any, Callable, Optional, Tuple, TypeVar

import redis
from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

logger = logging.getLogger(__name__)
T = TypeVar("T")
MAX_TRIES = 50


class AtomicRedisLockStore(RedisLockStore):
    def __init__(self, endpoint_config: Optional[EndpointConfig] = None, **kwargs: Any) -> None:
        # Rasa builds a lock store named by module path with ``endpoint_config=`` only.
        if endpoint_config is not None:
            kwargs = {"host": endpoint_config.url or "localhost", **endpoint_config.kwargs, **kwargs}
        super().__init__(**kwargs)

    def _change(
        self, conversation_id: str, change: Callable[[Optional[TicketLock]], Tuple[Optional[TicketLock], T]]
    ) -> T:
        """Apply ``change`` to the stored lock in one transaction; ``None`` as the new lock deletes it."""
        key = self.key_prefix + conversation_id
        with self.red.pipeline() as pipe:
            for _ in range(MAX_TRIES):
                try:
                    pipe.watch(key)
                    stored: Any = pipe.get(key)
                    lock = TicketLock.from_dict(json.loads(stored)) if stored else None
                    new, result = change(lock)
                    pipe.multi()
                    if new is None:
                        pipe.delete(key)
                    else:
                        pipe.set(key, new.dumps())
                    pipe.execute()
                    return result
                except redis.WatchError:
                    continue  # another instance changed it between our read and our write: read again
        raise LockError("The conversation's lock kept changing under us.")

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        def issue(lock: Optional[TicketLock]) -> Tuple[Optional[TicketLock], int]:
            lock = lock or TicketLock(conversation_id)
            return lock, lock.issue_ticket(lock_lifetime)

        try:
            return self._change(conversation_id, issue)
        except redis.RedisError as error:
            raise LockError(f"Error while acquiring lock ({type(error).__name__}).") from None

    def update_lock(self, conversation_id: str) -> None:
        def drop_expired(lock: Optional[TicketLock]) -> Tuple[Optional[TicketLock], None]:
            if lock is not None:
                lock.remove_expired_tickets()
            return lock, None

        self._change(conversation_id, drop_expired)

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        self.cleanup(conversation_id, ticket_number)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Drop this ticket; the lock goes with the last one (in the same transaction as the check)."""

        def finish(lock: Optional[TicketLock]) -> Tuple[Optional[TicketLock], None]:
            if lock is None:
                return None, None
            lock.remove_ticket_for(ticket_number)
            return (lock if lock.is_someone_waiting() else None), None

        self._change(conversation_id, finish)
