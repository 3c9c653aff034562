"""The tracker store Tawjih runs with (endpoints.yml): Rasa's SQL tracker store, which erases
a conversation when the person asks for it.

The turn in which someone asks for their data to be deleted (intent ``request_data_deletion``)
is answered as usual, then, instead of being stored, the whole conversation is deleted: every
event of every session under that conversation id. Their next message starts a new
conversation with the welcome. Nothing of the erased turn is sent to the event broker either.
"""

from __future__ import annotations

import logging

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker

from privacy.retention import erase_conversation

ERASURE_INTENT = "request_data_deletion"
logger = logging.getLogger(__name__)


def erasure_requested(tracker: DialogueStateTracker) -> bool:
    """Whether the turn being saved is the person asking for their data to be deleted."""
    latest = tracker.latest_message
    return bool(latest and (latest.intent or {}).get("name") == ERASURE_INTENT)


class PrivateSQLTrackerStore(SQLTrackerStore):
    """``SQLTrackerStore`` that keeps no conversation whose author asked for it to be erased."""

    async def save(self, tracker: DialogueStateTracker) -> None:
        if erasure_requested(tracker):
            erased = erase_conversation(self.engine, tracker.sender_id)
            # Neither the conversation id nor any text: just that it happened.
            logger.info("Erased a conversation at its author's request (%d events).", erased)
            return
        await super().save(tracker)
