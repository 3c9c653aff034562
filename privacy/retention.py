"""Conversations are kept ``TAWJIH_RETENTION_DAYS`` days (90 unless set), then deleted.

Rasa's SQL tracker store keeps one row per event in the ``events`` table, with its time. Every
event older than the retention period goes. A conversation session ends after an hour of silence
(``session_config`` in domain.yml), so what goes is whole past sessions, never part of a live one.
"""

from __future__ import annotations

import time
from typing import Optional

import sqlalchemy as sa

from privacy.addresses import forget_address, purge_addresses
from privacy.events_table import EVENTS
from scaling import tracker_window


def purge_expired(engine: sa.engine.Engine, days: int, now: Optional[float] = None) -> int:
    """Delete every event older than ``days`` days, and the sealed addresses (``privacy.addresses``) not
    renewed for as long; returns how many events went."""
    cutoff = (time.time() if now is None else now) - days * 86400
    inspector = sa.inspect(engine)
    if not inspector.has_table("events"):
        return 0  # Rasa creates the table with the first conversation
    with engine.begin() as connection:
        purge_addresses(connection, cutoff)
        tracker_window.purge(connection, cutoff)  # a long session's summed-up state (slot values)
        return connection.execute(sa.delete(EVENTS).where(EVENTS.c.timestamp < cutoff)).rowcount


def erase_conversation(engine: sa.engine.Engine, sender_id: str) -> int:
    """Delete every event of one conversation, all sessions, its sealed address if one was kept and its
    window (``scaling.tracker_window``: the slot values of a long session); returns how many events went."""
    with engine.begin() as connection:
        forget_address(connection, sender_id)
        tracker_window.forget(connection, sender_id)
        return connection.execute(sa.delete(EVENTS).where(EVENTS.c.sender_id == sender_id)).rowcount
