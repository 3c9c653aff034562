"""scaling.rasa_speedups: Rasa answers as it did, without redoing per call what it can do once."""

from __future__ import annotations

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.events import ActionExecuted, Event, SlotSet, UserUttered
from rasa.shared.utils.common import all_subclasses

from scaling import rasa_speedups


@pytest.fixture(scope="module", autouse=True)
def installed() -> None:
    rasa_speedups.install()


def test_every_event_type_resolves_to_the_class_rasa_finds() -> None:
    for cls in all_subclasses(Event):
        if getattr(cls, "type_name", None) and cls.type_name != "event":
            assert Event.resolve_by_type(cls.type_name) is next(
                c for c in all_subclasses(Event) if c.type_name == cls.type_name
            )
    assert Event.resolve_by_type("user") is UserUttered and Event.resolve_by_type("slot") is SlotSet


def test_unknown_event_types_get_rasas_own_answers() -> None:
    assert Event.resolve_by_type("topic") is None
    assert Event.resolve_by_type("no_such_event", default=ActionExecuted) is ActionExecuted
    with pytest.raises(ValueError, match="Unknown event name 'no_such_event'"):
        Event.resolve_by_type("no_such_event")


def test_stored_events_read_back_as_before() -> None:
    stored = [
        {"event": "user", "text": "salam", "parse_data": {"intent": {"name": "greet"}}},
        {"event": "slot", "name": "city", "value": "Rabat"},
    ]
    assert [type(Event.from_parameters(e)) for e in stored] == [UserUttered, SlotSet]


def test_an_action_servers_answer_is_still_validated() -> None:
    action = RemoteAction("action_anything", None)
    assert action._validate_action_result(
        {"events": [{"event": "slot", "name": "city", "value": "Rabat"}], "responses": []}
    )
    with pytest.raises(ValidationError, match="Failed to validate Action server response"):
        action._validate_action_result({"events": [{"no_event_key": 1}], "responses": []})
    with pytest.raises(ValidationError):
        action._validate_action_result({"events": "not a list"})
