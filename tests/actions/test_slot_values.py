"""Slots a person can set are checked by the same rules wherever the actions meet them: in the
form's answers and in every slot or entity they read. Nothing is shown back as typed."""

from __future__ import annotations

import json
from typing import Any, Dict, List

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import wording
from actions.centres import ActionListCentres
from actions.eligibility import ActionEligibilityVerdict, ValidateEligibilityForm
from actions.programme_facts import ActionHowToApply, ActionProgrammeDetails
from actions.programmes import ActionListProgrammes
from actions.sessions import ActionListSessions
from channels.payloads import clean_payload
from tests.actions.turns import turn
from tests.support.processes import RegistryProcess

SCRIPT = "<script>alert(1)</script>"
FORM_SLOTS = ("age", "education_level", "home_region", "conditions_declared", "city", "region", "programme")
DOMAIN: Dict[str, Any] = {
    "slots": {name: {"type": "any", "mappings": [{"type": "custom"}]} for name in FORM_SLOTS},
    "forms": {"eligibility_form": {"required_slots": ["age", "education_level", "home_region"]}},
}


def answered(slot: str, value: Any, text: str = "/inform") -> Tracker:
    """The form's question about ``slot``, answered with ``value`` (a payload, or the NLU's entity)."""
    tracker = turn(text, "inform", slots={"requested_slot": slot}, entities=[{"entity": slot, "value": value}])
    tracker.slots[slot] = value
    tracker.events.append({"event": "slot", "name": slot, "value": value})
    return tracker


async def validate(tracker: Tracker) -> tuple:
    dispatcher = CollectingDispatcher()
    events = await ValidateEligibilityForm().run(dispatcher, tracker, DOMAIN)
    slots = {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
    return slots, [m.get("response") for m in dispatcher.messages], dispatcher.messages


@pytest.mark.parametrize(
    ("slot", "value", "refusal"),
    [
        ("age", -5, "utter_invalid_age"),
        ("age", 10**20, "utter_invalid_age"),
        ("age", "19 <b>", "utter_invalid_age"),
        ("education_level", "phd", "utter_invalid_education_level"),
        ("education_level", SCRIPT, "utter_invalid_education_level"),
        ("home_region", SCRIPT, "utter_invalid_home_region"),
        ("home_region", "bretagne", "utter_invalid_home_region"),
    ],
)
async def test_the_form_refuses_what_the_rules_refuse(
    registry_env: RegistryProcess, slot: str, value: Any, refusal: str
) -> None:
    slots, said, _ = await validate(answered(slot, value))
    assert slots[slot] is None and refusal in said


@pytest.mark.parametrize(
    ("slot", "value", "kept"),
    [("age", "19", 19), ("education_level", "BTS", "bac+2"), ("home_region", "Oriental", "oriental")],
)
async def test_the_form_keeps_the_canonical_value(
    registry_env: RegistryProcess, slot: str, value: Any, kept: Any
) -> None:
    slots, said, _ = await validate(answered(slot, value))
    assert slots[slot] == kept and said == []


def every_value(messages: List[Dict[str, Any]]) -> str:
    return json.dumps(messages, ensure_ascii=False)


async def run(action: Any, tracker: Tracker) -> tuple:
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker, {})
    return events, dispatcher.messages


async def test_a_city_the_rules_refuse_is_never_used_nor_echoed(registry_env: RegistryProcess) -> None:
    for tracker in (
        turn("centres ?", "ask_centres", slots={"city": SCRIPT}),
        turn(f"centres à {SCRIPT}", "ask_centres", entities=[{"entity": "city", "value": SCRIPT}]),
        turn("centres ?", "ask_centres", entities=[{"entity": "region", "value": SCRIPT}]),
    ):
        events, messages = await run(ActionListCentres(), tracker)
        assert [m["response"] for m in messages] == ["utter_ask_city_for_centres"]
        assert events == [] and SCRIPT not in every_value(messages)


async def test_refused_slots_do_not_narrow_the_sessions(registry_env: RegistryProcess) -> None:
    slots = {"programme": SCRIPT, "city": SCRIPT, "region": "klingon"}
    _, [message] = await run(ActionListSessions(), turn("sessions ?", "ask_sessions", slots=slots))
    assert message["response"] == "utter_sessions_list" and message["scope"] == ""
    assert SCRIPT not in every_value([message])


@pytest.mark.parametrize("action", [ActionProgrammeDetails(), ActionHowToApply()], ids=lambda a: a.name())
async def test_a_programme_the_rules_refuse_is_asked_for_again(registry_env: RegistryProcess, action: Any) -> None:
    events, [message] = await run(action, turn("détails ?", "ask_programme_details", slots={"programme": SCRIPT}))
    assert message["response"] == "utter_ask_which_programme" and events == [SlotSet("programme", None)]


async def test_a_verdict_needs_answers_that_pass_the_rules(registry_env: RegistryProcess) -> None:
    slots = {"age": 10**20, "education_level": "phd", "home_region": SCRIPT, "programme": "jobintech-ia"}
    events, messages = await run(ActionEligibilityVerdict(), turn("ah", "affirm", slots=slots))
    assert events == [] and messages == []


def test_an_unknown_register_is_read_as_french() -> None:
    assert wording.register_of(turn("salam", "greet", register="klingon")) == "french"
    assert wording.register_of(turn("salam", "greet", register="darija_arabic")) == "darija_arabic"


async def test_every_button_an_action_offers_passes_the_payload_cleaner_unchanged(
    registry_env: RegistryProcess,
) -> None:
    offered: List[Dict[str, Any]] = []
    _, messages = await run(ActionListProgrammes(), turn("formations ?", "ask_programmes"))
    offered += messages
    _, messages = await run(ActionHowToApply(), turn("kifach nsjjel", "how_to_apply", "darija_latin"))
    offered += messages
    slots = {"age": 22, "education_level": "bac+2", "home_region": "rabat-sale-kenitra", "conditions_declared": True}
    _, messages = await run(ActionEligibilityVerdict(), turn("ah", "affirm", slots=slots))
    offered += messages
    payloads = [button["payload"] for message in offered for button in message.get("buttons") or []]
    for register in ("french", "darija_latin", "darija_arabic"):
        buttons = [*wording.next_step_buttons(register), *wording.yes_no_buttons(register)]
        payloads += [button["payload"] for button in [*buttons, wording.adviser_button(register)]]
    assert any(p.startswith("/ask_sessions{") for p in payloads)
    assert any(p.startswith("/how_to_apply{") for p in payloads)
    assert [clean_payload(p) for p in payloads] == payloads
