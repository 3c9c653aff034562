"""Reading a conversation back: the events of its latest session (what Rasa's own store returns), or all of
them, whatever else the table holds; on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import time
from typing import List

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import UserUttered

from privacy.tracker_store import PrivateSQLTrackerStore
from tests.privacy.conftest import DOMAIN
from tests.privacy.test_retention import new_sender, save, session


def user_texts(events: object) -> List[str]:
    return [e.text for e in events if isinstance(e, UserUttered)]  # type: ignore[attr-defined]


def test_a_conversation_reads_back_its_latest_session_or_all_of_them(store: PrivateSQLTrackerStore) -> None:
    now = time.time()
    person, other, new = new_sender(), new_sender(), new_sender()
    save(store, person, session(now - 7200, "salam") + session(now - 60, "fin kaynin les centres?"))
    save(store, other, session(now - 30, "quelles formations ?"))

    latest = asyncio.run(store.retrieve(person))
    assert latest is not None and user_texts(latest.events) == ["fin kaynin les centres?"]
    everything = asyncio.run(store.retrieve_full_tracker(person))
    assert everything is not None and user_texts(everything.events) == ["salam", "fin kaynin les centres?"]
    assert asyncio.run(store.retrieve(new)) is None

    # The same events as Rasa's own store reads, event for event.
    rasas = SQLTrackerStore(domain=DOMAIN, host=str(store.engine.url))
    try:
        assert [e.as_dict() for e in asyncio.run(rasas.retrieve(person)).events] == [  # type: ignore[union-attr]
            e.as_dict() for e in latest.events
        ]
    finally:
        rasas.engine.dispose()


def test_a_session_without_a_start_reads_back_whole(store: PrivateSQLTrackerStore) -> None:
    person = new_sender()
    events = session(time.time() - 100, "bonjour")[2:]  # no action_session_start / session_started
    save(store, person, events)
    tracker = asyncio.run(store.retrieve(person))
    assert tracker is not None and user_texts(tracker.events) == ["bonjour"]
