"""Logs carry no message text, slot values or sender ids; an error is logged once, naming where it
happened; the domain's buttons do not set off Rasa's response interpolator."""

from __future__ import annotations

import logging
from typing import Any, Dict, List

import pytest
from rasa.core.nlg import interpolator
from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet
from rasa.shared.core.trackers import DialogueStateTracker
from rasa_sdk.events import SlotSet as SdkSlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.eligibility import ValidateEligibilityForm
from actions.sessions import ActionListSessions
from tests.actions.turns import turn
from tests.support.processes import ROOT

PRIVATE_TEXT = "ana f Kénitra, 0612345678"


class Recorder:
    """Stands in for the interpolator's structlog logger and keeps what it was asked to log."""

    def __init__(self) -> None:
        self.calls: List[Dict[str, Any]] = []

    def exception(self, event: str, **fields: Any) -> None:
        self.calls.append({"event": event, **fields})

    error = warning = exception


@pytest.mark.parametrize("register", ["french", "darija_latin", "darija_arabic"])
async def test_the_education_level_question_logs_nothing_and_its_buttons_send_json(
    register: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = Recorder()
    monkeypatch.setattr(interpolator, "structlogger", recorder)
    domain = Domain.load(str(ROOT / "domain.yml"))
    tracker = DialogueStateTracker.from_events(
        "someone", [SlotSet("register", register), SlotSet("city", "Kénitra"), SlotSet("age", 20)], slots=domain.slots
    )
    nlg = TemplatedNaturalLanguageGenerator(domain.responses)
    response = await nlg.generate("utter_ask_education_level", tracker, "rest")
    assert response is not None and recorder.calls == []
    payloads = [button["payload"] for button in response["buttons"]]
    assert payloads == [
        '/inform{"education_level": "college"}',
        '/inform{"education_level": "lycee"}',
        '/inform{"education_level": "bac"}',
        '/inform{"education_level": "bac+2"}',
        '/inform{"education_level": "bac+3"}',
    ]


def test_no_button_of_the_domain_is_read_as_a_placeholder(monkeypatch: pytest.MonkeyPatch) -> None:
    recorder = Recorder()
    monkeypatch.setattr(interpolator, "structlogger", recorder)
    domain = Domain.load(str(ROOT / "domain.yml"))
    values = {"city": "Kénitra", "register": "french", "age": 20}
    for name, variations in domain.responses.items():
        for variation in variations:
            for button in variation.get("buttons") or []:
                interpolator.interpolate(dict(button), values)
                assert recorder.calls == [], name


async def fake_registry(method: Any, *args: Any, **kwargs: Any) -> Any:
    """A registry whose session record is malformed (a start date without month or day)."""
    answers = {
        "programmes": [{"id": "ia-cmc", "name_fr": "IA"}],
        "upcoming_sessions": [{"programme_id": "ia-cmc", "status": "open", "seats_left": 3, "start_date": "2027"}],
    }
    return answers[method.__name__]


async def test_an_error_is_logged_once_naming_the_function_that_failed_and_nothing_the_person_wrote(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr("actions.sessions.call_registry", fake_registry)
    monkeypatch.setattr("actions.centres.call_registry", fake_registry)
    tracker = turn(PRIVATE_TEXT, "ask_sessions", "darija_latin", slots={"programme": "ia-cmc"})
    dispatcher = CollectingDispatcher()
    with caplog.at_level(logging.DEBUG):
        events = await ActionListSessions().run(dispatcher, tracker, {})
    assert events == [] and [m["response"] for m in dispatcher.messages] == ["utter_registry_unavailable"]
    [record] = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert record.levelno == logging.ERROR
    assert record.getMessage().startswith("action_list_sessions failed with ValueError in wording.date:")
    assert "0612345678" not in caplog.text and "Kénitra" not in caplog.text and "test-user" not in caplog.text


async def test_the_forms_guard_is_the_actions_guard(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Any failure in the form's validation (not only the registry's) gets a kind answer and leaves the form."""

    async def broken(tracker: Any) -> Any:
        raise RuntimeError(PRIVATE_TEXT)

    monkeypatch.setattr("actions.eligibility.programme_in_focus", broken)
    tracker = turn(PRIVATE_TEXT, "inform", slots={"requested_slot": "age", "programme": "ia-cmc"})
    dispatcher = CollectingDispatcher()
    with caplog.at_level(logging.DEBUG):
        events = await ValidateEligibilityForm().run(dispatcher, tracker, {"slots": {}, "forms": {}})
    assert events == [SdkSlotSet("requested_slot", None)]
    assert [m["response"] for m in dispatcher.messages] == ["utter_registry_unavailable"]
    assert "validate_eligibility_form failed with RuntimeError in eligibility.required_slots" in caplog.text
    assert "0612345678" not in caplog.text


def test_no_logger_call_in_the_actions_is_given_what_a_person_wrote_or_a_slot() -> None:
    """Every log call's arguments are names, error types or routes: never the tracker's contents."""
    for path in (ROOT / "actions").glob("*.py"):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if "logger." in line:
                assert not any(word in line for word in ("tracker", "text", "slot", "sender", "value")), (
                    f"{path.name}:{number}"
                )
