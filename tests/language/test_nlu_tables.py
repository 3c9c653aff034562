"""The NLU lookup tables and synonyms are the catalogue's, never typed by hand."""

from __future__ import annotations

from typing import Any, Dict

import pytest
import yaml
from rasa.shared.nlu.training_data.loading import load_data
from rasa.shared.nlu.training_data.training_data import TrainingData

from language.catalogue import DEFAULT_CATALOGUE
from language.nlu_tables import NLU_TABLES_FILE, generated_text, nlu_tables


@pytest.fixture(scope="module")
def catalogue() -> Dict[str, Any]:
    return yaml.safe_load(DEFAULT_CATALOGUE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def tables() -> TrainingData:
    return load_data(str(NLU_TABLES_FILE))


def test_the_committed_file_is_what_the_catalogue_generates() -> None:
    assert NLU_TABLES_FILE.read_text(encoding="utf-8") == generated_text(), "run `make tables`"


def test_every_city_spelling_is_a_synonym_of_its_canonical_name(
    catalogue: Dict[str, Any], tables: TrainingData
) -> None:
    synonyms = tables.entity_synonyms
    for city in catalogue["cities"]:
        for alias in [city["name_ar"], *city.get("aliases", [])]:
            if str(alias).lower() != city["name"].lower():
                assert synonyms[str(alias)] == city["name"], alias
    assert synonyms["الدار البيضاء"] == "Casablanca" and synonyms["kaza"] == "Casablanca"


def test_lookup_tables_list_every_entity_but_not_everyday_words(
    catalogue: Dict[str, Any], tables: TrainingData
) -> None:
    lookups = {table["name"]: [e.lower() for e in table["elements"]] for table in tables.lookup_tables}
    assert set(lookups) == {"city", "region", "programme", "education_level"}
    assert "casablanca" in lookups["city"] and "مراكش" in lookups["city"]
    assert "digital-offshoring" in lookups["programme"] and "bac+2" in lookups["education_level"]
    # "safi" is "enough" far more often than the city: a lookup would fire on "safi merci"
    for everyday in ("safi", "sla", "fas", "jdida"):
        assert everyday not in lookups["city"]


def test_a_spelling_two_values_share_maps_to_neither() -> None:
    catalogue = {
        "cities": [
            {"id": "a", "name": "Alpha", "aliases": ["al", "alfa"]},
            {"id": "b", "name": "Beta", "aliases": ["al", "bita"]},
        ]
    }
    text = nlu_tables(catalogue)
    document = yaml.safe_load(text)
    synonyms = {block["synonym"]: block["examples"] for block in document["nlu"] if "synonym" in block}
    assert synonyms == {"Alpha": "- a\n- alfa\n", "Beta": "- b\n- bita\n"}
