"""Typed ``/intent{json}`` messages give nothing a button could not: the domain's intents only,
never Rasa's commands, and only entity values that pass the slot rules."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List

import pytest
import yaml
from rasa.core.nlg import interpolator

from channels.payloads import clean_payload, domain_vocabulary, intent_payload
from tests.support.processes import ROOT

SCRIPT = "<script>alert(1)</script>"


def payload(intent: str, **entities: Any) -> str:
    return "/" + intent + json.dumps(entities)


@pytest.mark.parametrize(
    "hostile",
    [
        payload("inform", age=-5),
        payload("inform", age=10**20),
        '/inform{"age": 1e400}',
        payload("inform", education_level="phd"),
        payload("inform", city=SCRIPT),
        payload("inform", register="klingon"),
        payload("inform", region=SCRIPT),
        payload("ask_programme_details", programme=SCRIPT),
        payload("share_location", latitude=float("nan"), longitude="east"),
        payload("share_location", latitude=91, longitude=200),
        payload("send_media", media="voice.exe"),
        payload("inform", city=["Rabat", SCRIPT]),
        payload("inform", city={"name": "Rabat"}),
        payload("inform", erasure_confirmed=True, requested_slot="age", offer="human"),  # slots, not entities
    ],
)
def test_values_the_rules_refuse_are_dropped_and_the_intent_stays(hostile: str) -> None:
    intent = hostile[1 : hostile.index("{")]
    assert clean_payload(hostile) == f"/{intent}"


def test_good_values_stay_in_their_canonical_form() -> None:
    typed = payload("inform", city="rabat", age="19", education_level="BTS", register="darija_latin", mood="ok")
    cleaned = clean_payload(typed)
    assert cleaned.startswith("/inform{")
    assert json.loads(cleaned[len("/inform") :]) == {
        "city": "Rabat",
        "age": 19,
        "education_level": "bac+2",
        "register": "darija_latin",
    }


def test_the_city_is_never_echoed_as_typed() -> None:
    assert SCRIPT not in clean_payload(payload("ask_centres", city=SCRIPT))
    assert "<" not in clean_payload(f'/ask_centres{{"city": "Rabat{SCRIPT}"}}')


@pytest.mark.parametrize(
    ("typed", "as_words"),
    [
        ("/restart", "restart"),
        ("/session_start", "session_start"),
        ("/back", "back"),
        ("  /restart  ", "restart"),
        ("//restart", "restart"),
        ("/ /restart", "restart"),
        ('/restart{"city": "Rabat"}', 'restart{"city": "Rabat"}'),
        ("/nlu_fallback", "nlu_fallback"),  # Rasa's, not the domain's
        ("/action_restart", "action_restart"),
        ('/klingon{"age": 19}', 'klingon{"age": 19}'),
        ("/greet hello", "greet hello"),  # Rasa reads "greet hello" as the intent's name: no such intent
        ('/{"city": "Rabat"}', '{"city": "Rabat"}'),
        ("/@0.9", "@0.9"),
        ("/", ""),
    ],
)
def test_commands_a_person_may_not_give_are_read_as_words(typed: str, as_words: str) -> None:
    assert clean_payload(typed) == as_words


@pytest.mark.parametrize(
    ("typed", "cleaned"),
    [
        ("/affirm", "/affirm"),
        ("  /ask_cost ", "/ask_cost"),
        ("/ ask_cost", "/ask_cost"),
        ('/inform@0.1{"city": "fes"}', '/inform{"city": "Fès"}'),  # no confidence: a person does not set it
        ("/ask_programmes@0.0", "/ask_programmes"),
        ('/inform{"city": "Rabat"', "/inform"),  # not JSON
        ('/inform{"city": "Rabat"} and more', "/inform"),
        ('/inform["Rabat"]', 'inform["Rabat"]'),  # Rasa reads `inform["Rabat"]` as the intent's name
        ('/inform{"city": "Rabat", "city": "<b>"}', "/inform"),  # JSON's last duplicate wins
        ("/inform{}", "/inform"),
        ("/inform{" + '"a": [' * 100_000 + "}", "/inform"),  # too deep for the parser, no crash
    ],
)
def test_the_domains_intents_keep_only_what_passes(typed: str, cleaned: str) -> None:
    assert clean_payload(typed) == cleaned


@pytest.mark.parametrize("text", ["salam", "", "  ", "kifach /restart", "3ndi 19 3am {city}", "واش كاين", "a/b"])
def test_a_message_that_is_not_a_command_is_left_exactly_as_it_is(text: str) -> None:
    assert clean_payload(text) is text


def domain_button_payloads(values: Dict[str, Any]) -> List[str]:
    """Every button payload in domain.yml as Rasa sends it (after its response interpolator)."""
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    return [
        str(interpolator.interpolate(button["payload"], values))
        for variations in domain["responses"].values()
        for variation in variations
        for button in variation.get("buttons") or []
    ]


def test_every_button_of_the_domain_passes_the_cleaner_unchanged() -> None:
    values = {"city": "Kénitra", "register": "french", "age": 20, "programme": "ia-cmc"}
    payloads = domain_button_payloads(values)
    assert '/inform{"education_level": "bac+2"}' in payloads
    assert all(clean_payload(p) == p for p in payloads)


def test_built_payloads_are_what_the_cleaner_gives_back() -> None:
    built = intent_payload("ask_sessions", {"programme": "jobintech-ia", "city": "Fès"})
    assert built == '/ask_sessions{"programme": "jobintech-ia", "city": "Fès"}'
    assert clean_payload(built) == built
    assert intent_payload("request_human") == "/request_human" == intent_payload("request_human", {})


@pytest.mark.parametrize(
    "typed",
    ["/restart", '/inform@0.2{"city": "casa", "age": -1}', "//x", '/inform{"a": 1', "/ask_cost", "/ /back", "/"],
)
def test_cleaning_twice_changes_nothing_more(typed: str) -> None:
    once = clean_payload(typed)
    assert clean_payload(once) == once


def test_the_vocabulary_is_the_domains_less_rasas_commands(tmp_path: Path) -> None:
    domain = tmp_path / "domain.yml"
    domain.write_text(
        yaml.safe_dump({"intents": ["greet", "restart", {"inform": {"use_entities": True}}], "entities": ["city"]}),
        encoding="utf-8",
    )
    intents, entities = domain_vocabulary(domain)
    assert intents == {"greet", "inform"} and entities == {"city"}
    real_intents, _ = domain_vocabulary()
    assert {"inform", "ask_sessions", "share_location"} <= real_intents
    assert not real_intents & {"restart", "session_start", "back", "nlu_fallback"}
