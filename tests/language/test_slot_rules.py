"""One rule per entity a person can set: hostile values are refused, every spelling the catalogue
lists becomes the catalogue's value, and the NLU's extractor applies the same rules."""

from __future__ import annotations

from typing import Any, Dict, List

import pytest
import yaml
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from language import slot_rules
from language.catalogue import DEFAULT_CATALOGUE
from language.components import CatalogueEntityExtractor, DarijaNormaliser
from tests.support.processes import ROOT

CATALOGUE = yaml.safe_load(DEFAULT_CATALOGUE.read_text(encoding="utf-8"))
SCRIPT = "<script>alert(1)</script>"

HOSTILE = [
    ("age", -5),
    ("age", 10**20),
    ("age", "10^20"),
    ("age", 9),
    ("age", 100),
    ("age", True),
    ("age", 19.5),
    ("age", "1e3"),
    ("age", "9" * 5000),
    ("age", None),
    ("age", [19]),
    ("education_level", "phd"),
    ("education_level", "doctorat"),
    ("education_level", ""),
    ("education_level", 4),
    ("education_level", {"id": "bac"}),
    ("city", SCRIPT),
    ("city", "Paris"),
    ("city", "x" * 10_000),
    ("city", ["Rabat"]),
    ("city", "   "),
    ("region", SCRIPT),
    ("region", "bretagne"),
    ("programme", SCRIPT),
    ("programme", "Cuisine française"),
    ("programme", "x"),
    ("programme", "-leading-dash"),
    ("register", "klingon"),
    ("register", "French"),
    ("register", None),
    ("latitude", float("nan")),
    ("latitude", 91),
    ("latitude", "north"),
    ("latitude", True),
    ("longitude", -180.5),
    ("longitude", float("inf")),
    ("media", "voice"),
    ("media", "executable"),
    ("erasure_confirmed", True),  # not an entity a person sets: no rule, never accepted
    ("requested_slot", "age"),
]


@pytest.mark.parametrize(("entity", "value"), HOSTILE, ids=lambda v: repr(v)[:30])
def test_hostile_values_are_refused(entity: str, value: Any) -> None:
    assert slot_rules.clean(entity, value) is None


@pytest.mark.parametrize(
    ("entity", "value", "canonical"),
    [
        ("age", 19, 19),
        ("age", " 19 ", 19),
        ("age", "99", 99),
        ("age", 10, 10),
        ("education_level", "bac+2", "bac+2"),
        ("education_level", "BTS", "bac+2"),
        ("education_level", "الباك", "bac"),
        ("city", "Fès", "Fès"),
        ("city", "fes", "Fès"),
        ("city", "فاس", "Fès"),
        ("city", "casa", "Casablanca"),
        ("region", "oriental", "oriental"),
        ("programme", "jobintech ia", "jobintech-ia"),
        ("programme", "jobintech-data-science", "jobintech-data-science"),
        ("register", "darija_arabic", "darija_arabic"),
        ("latitude", 33.97, 33.97),
        ("latitude", "-33.5", -33.5),
        ("longitude", -6, -6.0),
        ("media", "audio", "audio"),
    ],
)
def test_good_values_become_the_catalogues_values(entity: str, value: Any, canonical: Any) -> None:
    assert slot_rules.clean(entity, value) == canonical


def test_a_programme_the_catalogue_does_not_list_yet_is_kept_only_if_shaped_like_a_registry_id() -> None:
    """Staff add programmes through the registry between trainings; the actions check the id there."""
    assert slot_rules.clean("programme", "cybersecurite") == "cybersecurite"
    assert slot_rules.clean("programme", "Cybersécurité <b>") is None


@pytest.mark.parametrize(
    ("entity", "section", "field"),
    [("city", "cities", "name"), ("region", "regions", "id"), ("education_level", "education_levels", "id")],
)
def test_every_catalogue_value_passes_its_own_rule(entity: str, section: str, field: str) -> None:
    for record in CATALOGUE[section]:
        assert slot_rules.clean(entity, record[field]) == record[field]


def test_every_entity_of_the_domain_has_a_rule() -> None:
    """A new entity a person could set through a payload must get a rule here first."""
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    entities = {e if isinstance(e, str) else next(iter(e)) for e in domain["entities"]}
    assert entities <= slot_rules.ENTITIES


def parsed(text: str, entities: List[Dict[str, Any]]) -> Message:
    message = Message({TEXT: text, ENTITIES: entities})
    data = TrainingData([message])
    WhitespaceTokenizer(WhitespaceTokenizer.get_default_config()).process_training_data(data)
    DarijaNormaliser().process_training_data(data)
    return message


def test_the_extractor_drops_what_the_rules_refuse_from_other_components() -> None:
    extractor = CatalogueEntityExtractor({}, slot_rules.seed_catalogue(), None, None)  # type: ignore[arg-type]
    text = "salam"
    given = [
        {"entity": "register", "value": "klingon", "start": 0, "end": 5},
        {"entity": "age", "value": -5, "start": 0, "end": 5},
        {"entity": "city", "value": SCRIPT},
        {"entity": "education_level", "value": "phd"},
        {"entity": "latitude", "value": float("nan")},
        {"entity": "mood", "value": "happy"},  # no rule: not ours to judge
    ]
    [message] = extractor.process([parsed(text, given)])
    assert [(e["entity"], e["value"]) for e in message.get(ENTITIES)] == [("mood", "happy")]


def test_the_extractor_keeps_good_values_in_their_canonical_form() -> None:
    extractor = CatalogueEntityExtractor({}, slot_rules.seed_catalogue(), None, None)  # type: ignore[arg-type]
    text = "c'est quoi ?"
    given = [
        {"entity": "register", "value": "french", "start": 0, "end": 12, "extractor": "RegisterDetector"},
        {"entity": "media", "value": "image"},
        {"entity": "programme", "value": "x", "start": 6, "end": 12},  # "quoi ?" names no programme
    ]
    [message] = extractor.process([parsed(text, given)])
    found = {e["entity"]: e for e in message.get(ENTITIES)}
    assert set(found) == {"register", "media"}
    assert found["register"] == given[0]  # untouched: it passed as it was
