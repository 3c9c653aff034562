"""The eligibility pre-check: criteria come from the registry, answers in any register, a verdict per criterion."""

from __future__ import annotations

from typing import Any, Dict, List

import pytest
import requests
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.eligibility import (
    MET,
    NOT_MET,
    TO_CONFIRM,
    ActionEligibilityVerdict,
    Person,
    ValidateEligibilityForm,
    assess,
    qualifies,
)
from tests.actions.turns import turn
from tests.support.processes import RegistryProcess

DOMAIN: Dict[str, Any] = {
    "slots": {
        name: {"type": "any", "mappings": [{"type": "custom"}]}
        for name in ("age", "education_level", "home_region", "conditions_declared", "city", "region", "programme")
    },
    "forms": {"eligibility_form": {"required_slots": ["age", "education_level", "home_region", "conditions_declared"]}},
}
RANKS = {"college": 2, "lycee": 3, "bac": 4, "bac+2": 5, "bac+3": 6}
PROGRAMME = {
    "id": "p",
    "eligibility": {"min_age": 18, "max_age": 35, "min_education_level": "bac+2", "other_conditions": ["Test"]},
}


def outcomes(person: Person, regions: set = frozenset({"rabat-sale-kenitra"})) -> Dict[str, str]:
    return {v.criterion: v.outcome for v in assess(PROGRAMME, person, RANKS, set(regions))}


def test_each_criterion_is_compared_with_the_registry_rule() -> None:
    assert outcomes(Person(20, "bac+2", "rabat-sale-kenitra", True)) == {
        "age": MET,
        "education_level": MET,
        "place": MET,
        "condition": TO_CONFIRM,  # a self-declared condition is always checked by the centre
    }
    assert outcomes(Person(17, "bac", "fes-meknes", False)) == {
        "age": NOT_MET,
        "education_level": NOT_MET,
        "place": TO_CONFIRM,  # no centre in the region: the person could travel
        "condition": NOT_MET,
    }
    assert outcomes(Person(36, "bac+5-unknown", None, None))["age"] == NOT_MET
    assert outcomes(Person(36, "bac+5-unknown", None, None))["education_level"] == TO_CONFIRM


def test_a_programme_without_criteria_has_no_verdicts_and_anyone_qualifies() -> None:
    verdicts = assess({"id": "open", "eligibility": {}}, Person(15, "college", None, None), RANKS, set())
    assert verdicts == [] and qualifies(verdicts)


async def validate(tracker: Any) -> tuple:
    dispatcher = CollectingDispatcher()
    events = await ValidateEligibilityForm().run(dispatcher, tracker, DOMAIN)
    return events, [m.get("response") for m in dispatcher.messages]


def slot_values(events: List[Dict[str, Any]]) -> Dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


async def test_a_bare_number_answers_the_age_question(registry_env: RegistryProcess) -> None:
    tracker = turn("18", "nlu_fallback", "darija_latin", slots={"requested_slot": "age"})
    events, said = await validate(tracker)
    assert slot_values(events)["age"] == 18 and said == []


@pytest.mark.parametrize(
    "text, register", [("bla bla", "french"), ("ma3rftch", "darija_latin"), ("مافهمتش", "darija_arabic")]
)
async def test_an_unreadable_age_is_asked_again_with_an_example(
    registry_env: RegistryProcess, text: str, register: str
) -> None:
    events, said = await validate(turn(text, "inform", register, slots={"requested_slot": "age"}))
    assert said == ["utter_invalid_age"]
    assert SlotSet("age", None) in events


async def test_an_impossible_age_is_refused_kindly(registry_env: RegistryProcess) -> None:
    tracker = turn(
        "j'ai 150 ans", "inform", entities=[{"entity": "age", "value": 150}], slots={"requested_slot": "age"}
    )
    tracker.slots["age"] = 150
    tracker.events.append({"event": "slot", "name": "age", "value": 150})
    events, said = await validate(tracker)
    assert "utter_invalid_age" in said and slot_values(events)["age"] is None


async def test_a_question_in_the_middle_fills_nothing_so_the_rules_answer_it(registry_env: RegistryProcess) -> None:
    events, said = await validate(turn("c'est gratuit ?", "ask_cost", slots={"requested_slot": "age"}))
    assert said == [] and "age" not in slot_values(events)


async def test_the_city_fills_the_home_region_from_the_registry(registry_env: RegistryProcess) -> None:
    tracker = turn("ana mn fes", "inform", "darija_latin", slots={"requested_slot": "home_region", "city": "Fès"})
    events, _ = await validate(tracker)
    assert slot_values(events)["home_region"] == "fes-meknes"


async def test_a_city_typed_alone_fills_the_home_region(registry_env: RegistryProcess) -> None:
    events, _ = await validate(turn("قنيطرة", "nlu_fallback", "darija_arabic", slots={"requested_slot": "home_region"}))
    assert slot_values(events)["home_region"] == "rabat-sale-kenitra"


async def test_conditions_are_asked_only_when_the_programme_lists_some(registry_env: RegistryProcess) -> None:
    form = ValidateEligibilityForm()
    slots = list(DOMAIN["forms"]["eligibility_form"]["required_slots"])
    with_conditions = turn("x", "inform", slots={"programme": "jobintech-ia"})
    without_programme = turn("x", "inform")
    assert "conditions_declared" in await form.required_slots(slots, CollectingDispatcher(), with_conditions, DOMAIN)
    assert "conditions_declared" not in await form.required_slots(
        slots, CollectingDispatcher(), without_programme, DOMAIN
    )


async def test_no_answers_the_conditions_question_but_la_safi_stops(registry_env: RegistryProcess) -> None:
    slots = {"requested_slot": "conditions_declared", "programme": "jobintech-ia"}
    events, _ = await validate(turn("non", "deny", slots=slots))
    assert slot_values(events)["conditions_declared"] is False
    events, said = await validate(turn("la safi", "deny", "darija_latin", slots=slots))
    assert "conditions_declared" not in slot_values(events) and said == []


async def verdict(tracker: Any) -> tuple:
    dispatcher = CollectingDispatcher()
    events = await ActionEligibilityVerdict().run(dispatcher, tracker, {})
    return events, dispatcher.messages


async def test_verdict_per_criterion_matches_the_registry_programme(registry_env: RegistryProcess) -> None:
    programme = requests.get(f"{registry_env.url}/api/v1/programmes/jobintech-data-science", timeout=5).json()
    rules = programme["eligibility"]
    slots = {
        "programme": "jobintech-data-science",
        "age": 19,
        "education_level": "bac",
        "home_region": "fes-meknes",
        "city": "Fès",
        "conditions_declared": True,
    }
    events, messages = await verdict(turn("ah", "affirm", "darija_latin", slots=slots))
    first = messages[0]
    assert first["response"] == "utter_eligibility_verdict_not_met"  # the registry asks for bac+2
    lines = first["criteria_lines"].splitlines()
    assert lines[0].startswith("✅") and f"bin {rules['min_age']} w {rules['max_age']} 3am" in lines[0]
    assert lines[1].startswith("❌") and "Bac+2" in lines[1]
    assert lines[2].startswith("❔") and "Code 212" in lines[2]  # no centre in Fès-Meknès: the nearest is named
    assert all(condition in first["criteria_lines"] for condition in rules["other_conditions"])
    # With the bac and 19 years, the CMC programmes (bac minimum in the registry) qualify
    qualifying = messages[1]
    assert qualifying["response"] == "utter_eligibility_qualifying"
    all_programmes = requests.get(f"{registry_env.url}/api/v1/programmes", timeout=5).json()["data"]
    expected = [p["name_fr"] for p in all_programmes if p["eligibility"]["min_education_level"] == "bac"]
    assert qualifying["programme_lines"].splitlines() == [f"• {name}" for name in expected]
    assert SlotSet("offer", "sessions") in events


async def test_too_young_for_everything_gets_an_adviser_offer(registry_env: RegistryProcess) -> None:
    slots = {"age": 15, "education_level": "college", "home_region": "souss-massa"}
    events, messages = await verdict(turn("15", "inform", "darija_arabic", slots=slots))
    assert [m["response"] for m in messages] == ["utter_eligibility_none"]
    assert messages[0]["buttons"][0]["payload"] == "/request_human"
    assert SlotSet("offer", "human") in events


async def test_a_darija_age_answer_is_read_whole(registry_env: RegistryProcess) -> None:
    """ "3ndi 19 3am": 19, not the 3 of "3ndi" nor of "3am"."""
    events, said = await validate(turn("3ndi 19 3am", "inform", "darija_latin", slots={"requested_slot": "age"}))
    assert slot_values(events)["age"] == 19 and said == []
    found = turn("3ndi 19 3am", "inform", "darija_latin", entities=[{"entity": "age", "value": 19}])
    found.slots.update(requested_slot="age", age=19)
    found.events.append({"event": "slot", "name": "age", "value": 19})
    events, said = await validate(found)
    assert slot_values(events)["age"] == 19 and said == []
