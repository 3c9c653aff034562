"""A long conversation read back as its latest turns, with what came before them summed up in one step.

Rasa reads a conversation's whole current session from the tracker store for every message, replays it,
builds the dialogue state of every turn of it for the rule policy, and sends all of it to the action
server with every custom action. Each of those costs grows with the session: turn 300 of one session took
seven times as long as turn 10 (`make bench`, "one session"). Nothing in Tawjih looks that far back: its
rules span a few turns, and its actions read the slots and the latest messages.

So once a session has more than ``2 × keep`` of the person's messages, the tracker store keeps a
**window**: the point just before the ``keep``-th last message (the ``action_listen`` that waited for it),
and the **prefix**, a handful of events that put a fresh tracker in the state the conversation had at that
point: every slot that was set, with its value; the form that was active (interrupted or rejected, if it
was); ``ConversationPaused`` if an adviser had the conversation. A read is then the prefix followed by the
events from that point on: between ``keep`` and ``2 × keep`` messages, whatever the length of the session
(not during a handoff: a message the bot does not answer has no ``action_listen`` before it to cut at, so
a long handoff is read whole until it ends).
The window moves forward as the conversation goes on, and is written in the same transaction as the turn's
events, so it never describes events that were not stored.

What the rest of Rasa sees is unchanged, and this is checked each time a window is made: the windowed
tracker's slots, active form and pause equal the whole tracker's, or no window is kept. The rule policy
matches the latest states only (a rule longer than ``keep`` messages would not see its start: none is);
the events before the window stay in the database, and the staff console, exports and Rasa's
``GET /conversations/<id>/tracker`` read them all (``retrieve_full_tracker``); the trackers that Rasa's
``execute``, ``trigger_intent`` and ``tracker/events`` routes return are the windowed ones. A window is used
only while its first event is stored, and made only while the events it was read with are: an erasure
between a turn's read and its write leaves no window. The prefix holds slot values, which are personal
data: the window row goes with the conversation's erasure, and with the retention purge as soon as the
conversation loses any event to it (``privacy.retention``).

Not covered: a window whose every message was then reverted (``UserUtteranceReverted``, ten in a row, as
only Rasa's core fallback emits) would make its first state look like a conversation start to the rule
policy; every Tawjih intent has a rule, and ``/back`` and ``/restart`` are refused by the channels.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

import sqlalchemy as sa
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import (
    ActionExecuted,
    ActionExecutionRejected,
    ActiveLoop,
    ConversationPaused,
    Event,
    LoopInterrupted,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.slots import Slot
from rasa.shared.core.trackers import DialogueStateTracker

from privacy.events_table import EVENTS

# How many of the person's latest messages a read always holds; it holds at most twice as many.
DEFAULT_KEEP_MESSAGES = 10
# Never fewer: Tawjih's rules span one message of the person (data/rules.yml; a conversation-start rule
# must not see the window's first state as the conversation's start), and its actions look back two
# (two misses in a row, the previous answer).
MIN_KEEP_MESSAGES = 3

METADATA = sa.MetaData()
WINDOWS = sa.Table(
    "tawjih_tracker_windows",
    METADATA,
    sa.Column("conversation_id", sa.String(255), primary_key=True),
    # The timestamp of the session start the window belongs to (None: a conversation without one).
    sa.Column("session_started_at", sa.Float, nullable=True),
    sa.Column("first_event_id", sa.Integer, nullable=False),
    sa.Column("first_event_at", sa.Float, nullable=False, index=True),
    sa.Column("prefix", sa.Text, nullable=False),
)


@dataclass(frozen=True)
class Window:
    session_started_at: Optional[float]
    first_event_id: int
    prefix: List[Dict[str, Any]]


@dataclass
class ReadBack:
    """What a tracker read from the store holds: how many of its events are stored (the rest are new this
    turn), and each one's row id (None for the prefix, which is not stored as events)."""

    stored: int
    event_ids: List[Optional[int]] = field(default_factory=list)


_READ_BACK = "_tawjih_read_back"


def read_back(tracker: DialogueStateTracker) -> Optional[ReadBack]:
    return getattr(tracker, _READ_BACK, None)


def mark_read_back(tracker: DialogueStateTracker, event_ids: List[Optional[int]]) -> None:
    setattr(tracker, _READ_BACK, ReadBack(stored=len(event_ids), event_ids=list(event_ids)))


# --- the table ----------------------------------------------------------------------------------------------------
def ensure_table(engine: sa.engine.Engine) -> None:
    METADATA.create_all(engine, tables=[WINDOWS], checkfirst=True)


def _has_table(connection: sa.engine.Connection) -> bool:
    return bool(sa.inspect(connection).has_table(WINDOWS.name))


def load(connection: sa.engine.Connection, conversation_id: str) -> Optional[Window]:
    row = connection.execute(sa.select(WINDOWS).where(WINDOWS.c.conversation_id == conversation_id)).first()
    if row is None:
        return None
    return Window(row.session_started_at, int(row.first_event_id), json.loads(row.prefix))


def store(connection: sa.engine.Connection, conversation_id: str, window: Window, first_event_at: float) -> None:
    """Put the conversation's window in place of the previous one (one conversation's turns are handled one
    at a time: the lock store)."""
    connection.execute(sa.delete(WINDOWS).where(WINDOWS.c.conversation_id == conversation_id))
    connection.execute(
        sa.insert(WINDOWS).values(
            conversation_id=conversation_id,
            session_started_at=window.session_started_at,
            first_event_id=window.first_event_id,
            first_event_at=first_event_at,
            prefix=json.dumps(window.prefix),
        )
    )


def forget(connection: sa.engine.Connection, conversation_id: str) -> int:
    """Delete a conversation's window inside the caller's transaction (an erasure)."""
    if not _has_table(connection):
        return 0
    return int(connection.execute(sa.delete(WINDOWS).where(WINDOWS.c.conversation_id == conversation_id)).rowcount)


def purge(connection: sa.engine.Connection, cutoff: float) -> int:
    """Delete the windows of every conversation that loses events to the retention purge (called before
    the events go): a window's prefix may hold a value set only by one of them."""
    if not _has_table(connection):
        return 0
    losing = sa.select(EVENTS.c.sender_id).where(EVENTS.c.timestamp < cutoff).distinct()
    stale = sa.or_(WINDOWS.c.first_event_at < cutoff, WINDOWS.c.conversation_id.in_(losing))
    return int(connection.execute(sa.delete(WINDOWS).where(stale)).rowcount)


# --- where to cut, and what the prefix says (pure) ----------------------------------------------------------------
def latest_session_start(events: Sequence[Event]) -> int:
    """Index of the first event of the latest session (0 when there is no session start)."""
    for index in range(len(events) - 1, -1, -1):
        if isinstance(events[index], SessionStarted):
            return index + 1
    return 0


def user_messages(events: Sequence[Event], start: int = 0) -> List[int]:
    return [index for index in range(start, len(events)) if isinstance(events[index], UserUttered)]


def cut_index(events: Sequence[Event], keep: int, not_before: int = 0) -> Optional[int]:
    """Where a window holding the latest ``keep`` messages starts: the ``action_listen`` just before the
    ``keep``-th last message of the latest session, or an earlier message's if that one had none."""
    start = max(latest_session_start(events), not_before)
    messages = user_messages(events, start)
    if len(messages) < keep:
        return None
    for message in reversed(messages[: len(messages) - keep + 1]):
        before = message - 1
        if before < start:
            return None
        event = events[before]
        if isinstance(event, ActionExecuted) and event.action_name == ACTION_LISTEN_NAME:
            return before
    return None


def prefix_events(state: DialogueStateTracker, timestamp: float) -> List[Event]:
    """Events that put a fresh tracker in ``state``'s slots, form and pause."""
    events: List[Event] = [
        SlotSet(slot.name, slot.value, timestamp=timestamp) for slot in state.slots.values() if slot.has_been_set
    ]
    loop = state.active_loop
    if loop is not None and loop.name:
        events.append(ActiveLoop(loop.name, timestamp=timestamp))
        if loop.is_interrupted:
            events.append(LoopInterrupted(True, timestamp=timestamp))
        if loop.rejected:
            events.append(ActionExecutionRejected(loop.name, timestamp=timestamp))
    if state.is_paused():
        events.append(ConversationPaused(timestamp=timestamp))
    return events


def dialogue_state(tracker: DialogueStateTracker) -> Tuple[Any, ...]:
    """What a window must reproduce: the slot values, the active form with its flags, the pause."""
    loop = tracker.active_loop
    return (
        tracker.current_slot_values(),
        (loop.name, loop.is_interrupted, loop.rejected) if loop is not None and loop.name else None,
        tracker.is_paused(),
    )


def replay(sender_id: str, events: Sequence[Event], slots: Sequence[Slot]) -> DialogueStateTracker:
    return DialogueStateTracker.from_events(sender_id, list(events), slots=list(slots))


def _first_stored(event_ids: Sequence[Optional[int]]) -> int:
    return next((index for index, event_id in enumerate(event_ids) if event_id is not None), len(event_ids))


def window_due(events: Sequence[Event], event_ids: Sequence[Optional[int]], keep: int) -> bool:
    """Whether a tracker holds more than ``2 × keep`` messages of its latest session after its stored prefix:
    only then is a new window worth making (most turns it is not, and no query is made)."""
    if len(event_ids) != len(events):
        return False
    start = max(latest_session_start(events), _first_stored(event_ids))
    return len(user_messages(events, start)) > 2 * keep


def next_window(
    tracker: DialogueStateTracker,
    event_ids: Sequence[Optional[int]],
    slots: Sequence[Slot],
    keep: int,
    session_started_at: Optional[float],
) -> Optional[Tuple[Window, float]]:
    """The window to keep after this turn, with its first event's time; None to keep the one there is.

    A new one is made once the tracker holds more than ``2 × keep`` messages of its latest session after
    its stored prefix, and only when the windowed tracker reproduces the whole one's state."""
    events = list(tracker.events)
    if not window_due(events, event_ids, keep):
        return None
    first_stored = _first_stored(event_ids)
    cut = cut_index(events, keep, not_before=first_stored)
    if cut is None or event_ids[cut] is None:
        return None
    timestamp = events[cut].timestamp
    prefix = prefix_events(replay(tracker.sender_id, events[:cut], slots), timestamp)
    windowed = replay(tracker.sender_id, prefix + events[cut:], slots)
    if dialogue_state(windowed) != dialogue_state(tracker):
        return None
    window = Window(session_started_at, int(event_ids[cut]), [event.as_dict() for event in prefix])  # type: ignore[arg-type]
    return window, timestamp
