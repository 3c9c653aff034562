"""A long session is read back as its latest messages after a summed-up state (scaling/tracker_window.py),
on SQLite and (in CI) on PostgreSQL: the same slots, form and pause as the whole session, every event stored
once, everything still there for the console, and the summed-up state erased and purged with the rest."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Iterator, List

import pytest
import sqlalchemy as sa
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    ConversationPaused,
    Event,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from privacy.retention import erase_conversation, purge_expired
from privacy.tracker_store import ERASURE_SLOT, PrivateSQLTrackerStore
from scaling import tracker_window
from tests.privacy.test_retention import DAY, new_sender, session

KEEP = 3
DOMAIN = Domain.from_dict(
    {
        "slots": {
            ERASURE_SLOT: {"type": "bool", "mappings": [{"type": "custom"}]},
            "age": {"type": "float", "mappings": [{"type": "custom"}]},
            "register": {"type": "text", "mappings": [{"type": "custom"}]},
        },
        "forms": {"eligibility_form": {"required_slots": ["age"]}},
    }
)


@pytest.fixture
def store(tracker_store_url: str) -> Iterator[PrivateSQLTrackerStore]:
    store = PrivateSQLTrackerStore(domain=DOMAIN, host=tracker_store_url, window_messages=KEEP)
    yield store
    store.engine.dispose()


def turn(at: float, index: int) -> List[Event]:
    """One message and its answer; a few of them set a slot, open the form or hand over to an adviser."""
    events: List[Event] = [UserUttered(f"message {index}", {"name": "inform", "confidence": 0.9}, timestamp=at)]
    events.append(SlotSet("register", "french" if index % 2 else "darija_latin", timestamp=at + 0.1))
    if index == 2:
        events.append(SlotSet("age", 19.0, timestamp=at + 0.2))
    if index == 4:
        events.append(ActiveLoop("eligibility_form", timestamp=at + 0.2))
    if index == 7:
        events.append(ConversationPaused(timestamp=at + 0.3))
    events += [BotUttered(f"answer {index}", timestamp=at + 0.4), ActionExecuted("action_listen", timestamp=at + 0.5)]
    return events


def talk(store: PrivateSQLTrackerStore, person: str, messages: int) -> float:
    """A session, then ``messages`` turns, each read back and saved as Rasa does for every message."""
    started = time.time() - 3600
    first = session(started, "message 0")
    asyncio.run(store.save(DialogueStateTracker.from_events(person, first, slots=DOMAIN.slots)))
    for index in range(1, messages + 1):
        tracker = asyncio.run(store.retrieve(person))
        assert tracker is not None
        for event in turn(started + 10 * index, index):
            tracker.update(event)
        asyncio.run(store.save(tracker))
    return started


def user_texts(tracker: DialogueStateTracker) -> List[str]:
    return [e.text for e in tracker.events if isinstance(e, UserUttered)]  # type: ignore[misc]


def with_windows(store: PrivateSQLTrackerStore, *people: str) -> List[str]:
    """Which of ``people`` have a window (the PostgreSQL schema is shared by the module's tests)."""
    table = tracker_window.WINDOWS
    with store.engine.connect() as connection:
        query = sa.select(table.c.conversation_id).where(table.c.conversation_id.in_(people))
        return sorted(connection.execute(query).scalars().all())


def test_a_long_session_reads_back_as_its_latest_messages_in_the_same_state(store: PrivateSQLTrackerStore) -> None:
    person = new_sender()
    talk(store, person, 20)

    latest = asyncio.run(store.retrieve(person))
    whole = asyncio.run(store.retrieve_full_tracker(person))
    assert latest is not None and whole is not None
    assert KEEP <= len(user_texts(latest)) <= 2 * KEEP
    assert user_texts(latest) == user_texts(whole)[-len(user_texts(latest)) :]
    # The state of the whole session: slots (one set at message 2), the form opened at 4, the pause at 7.
    assert latest.current_slot_values() == whole.current_slot_values()
    assert latest.get_slot("age") == 19.0
    assert latest.active_loop_name == "eligibility_form" and latest.is_paused()
    # Every message stored once, in order: the console reads them all.
    assert user_texts(whole) == [f"message {index}" for index in range(21)]
    assert len(latest.events) < len(whole.events) / 2


def test_a_short_session_is_read_whole(store: PrivateSQLTrackerStore) -> None:
    person = new_sender()
    talk(store, person, 2 * KEEP - 1)
    assert with_windows(store, person) == []
    tracker = asyncio.run(store.retrieve(person))
    assert tracker is not None and len(user_texts(tracker)) == 2 * KEEP


def test_a_new_session_is_read_from_its_own_start(store: PrivateSQLTrackerStore) -> None:
    person = new_sender()
    talk(store, person, 12)
    tracker = asyncio.run(store.retrieve(person))
    assert tracker is not None
    for event in session(time.time(), "de retour"):
        tracker.update(event)
    asyncio.run(store.save(tracker))
    again = asyncio.run(store.retrieve(person))
    assert again is not None and user_texts(again) == ["de retour"]
    assert not again.is_paused() and again.get_slot("age") is None


def test_the_summed_up_state_goes_with_an_erasure_and_with_the_purge(store: PrivateSQLTrackerStore) -> None:
    erased, purged, kept = new_sender(), new_sender(), new_sender()
    for person in (erased, purged, kept):
        talk(store, person, 12)
    assert with_windows(store, erased, purged, kept) == sorted([erased, purged, kept])

    erase_conversation(store.engine, erased)
    assert with_windows(store, erased, purged, kept) == sorted([purged, kept])

    # The purge deletes the events of a window older than the retention period, and the window with them.
    with store.engine.begin() as connection:
        connection.execute(
            sa.update(tracker_window.WINDOWS)
            .where(tracker_window.WINDOWS.c.conversation_id == purged)
            .values(first_event_at=time.time() - 100 * DAY)
        )
    purge_expired(store.engine, days=90)
    assert with_windows(store, erased, purged, kept) == [kept]


def test_a_conversation_erased_during_a_turn_gets_no_window_of_its_old_values(store: PrivateSQLTrackerStore) -> None:
    """The console erases without Rasa's lock: the turn in flight must not bring the erased values back."""
    person = new_sender()
    talk(store, person, 12)
    tracker = asyncio.run(store.retrieve(person))
    assert tracker is not None and tracker.get_slot("age") == 19.0
    erase_conversation(store.engine, person)
    for event in turn(time.time(), 13):
        tracker.update(event)
    asyncio.run(store.save(tracker))
    assert with_windows(store, person) == []
    again = asyncio.run(store.retrieve(person))
    assert again is not None and again.get_slot("age") is None


def test_the_purge_takes_the_window_of_a_session_it_cuts(store: PrivateSQLTrackerStore) -> None:
    """A session running at the cutoff loses its first events; a value set only by them must go too."""
    person = new_sender()
    started = talk(store, person, 12)  # age is set by message 2, at started + 20
    assert with_windows(store, person) == [person]
    purge_expired(store.engine, days=90, now=started + 25 + 90 * DAY)
    assert with_windows(store, person) == []
    tracker = asyncio.run(store.retrieve(person))
    assert tracker is not None and tracker.get_slot("age") is None


class RecordingBroker:
    def __init__(self) -> None:
        self.published: List[dict] = []

    def publish(self, event: dict) -> None:
        self.published.append(event)


def test_the_stream_gets_exactly_what_was_stored(store: PrivateSQLTrackerStore) -> None:
    """Also for a tracker Rasa did not read from the store (its HTTP API's replace-events)."""
    person = new_sender()
    talk(store, person, 12)
    whole = asyncio.run(store.retrieve_full_tracker(person))
    assert whole is not None
    broker = RecordingBroker()
    store.event_broker = broker  # type: ignore[assignment]
    rebuilt = DialogueStateTracker.from_events(person, [*whole.events, *turn(time.time(), 13)], slots=DOMAIN.slots)
    before = stored_types(store, person)
    asyncio.run(store.save(rebuilt))
    added = stored_types(store, person)[len(before) :]
    assert [e["event"] for e in broker.published] == added
    assert added[-len(turn(0, 13)) :] == [e.type_name for e in turn(0, 13)]
    broker.published.clear()
    asyncio.run(store.save(rebuilt))  # saved again unchanged: nothing new stored, nothing published
    assert broker.published == [] and len(stored_types(store, person)) == len(before) + len(added)


def stored_types(store: PrivateSQLTrackerStore, person: str) -> List[str]:
    with store.engine.connect() as connection:
        query = sa.text("SELECT type_name FROM events WHERE sender_id = :person ORDER BY id")
        return list(connection.execute(query, {"person": person}).scalars())


@pytest.mark.parametrize("value", ["2", "-1", "ten", ""])
def test_a_window_too_small_to_hold_a_rule_refuses_to_start(value: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="TAWJIH_TRACKER_WINDOW_MESSAGES"):
        PrivateSQLTrackerStore(domain=DOMAIN, host=f"sqlite:///{tmp_path / 't.db'}", window_messages=value)


def test_a_window_is_due_only_past_twice_the_kept_messages_of_the_latest_session() -> None:
    started = time.time() - 3600
    events: List[Event] = list(session(started, "message 0"))
    for index in range(1, 2 * KEEP):
        events += turn(started + 10 * index, index)
    stored = list(range(1, len(events) + 1))
    assert not tracker_window.window_due(events, stored, KEEP)  # 2 × KEEP messages: not yet
    events += turn(started + 10 * 2 * KEEP, 2 * KEEP)
    stored = list(range(1, len(events) + 1))
    assert tracker_window.window_due(events, stored, KEEP)
    # A new session starts the count again; the ids must describe every event, or nothing is due.
    events += session(started + 5000, "again")
    assert not tracker_window.window_due(events, list(range(1, len(events) + 1)), KEEP)
    assert not tracker_window.window_due(events, stored, KEEP)
