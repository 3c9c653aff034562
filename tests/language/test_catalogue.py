"""Catalogue names, in any spelling the catalogue lists, map to the values the registry uses."""

from __future__ import annotations

import pytest
import yaml

from language.catalogue import DEFAULT_CATALOGUE, Gazetteer, find_ages, valid_age
from language.normaliser import normalise

CATALOGUE = yaml.safe_load(DEFAULT_CATALOGUE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return Gazetteer.from_catalogue(CATALOGUE)


def mentions(gazetteer: Gazetteer, text: str) -> list:
    return [(entity, value) for _, _, entity, value in gazetteer.find_mentions(normalise(text).split())]


@pytest.mark.parametrize("city", CATALOGUE["cities"], ids=lambda c: c["id"])
def test_every_listed_spelling_of_every_city_maps_to_its_canonical_name(gazetteer: Gazetteer, city: dict) -> None:
    for spelling in [city["name"], city["name_ar"], *city["aliases"]]:
        if normalise(spelling) in gazetteer.ambiguous:
            continue
        assert gazetteer.resolve("city", spelling) == city["name"], spelling


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("wach kayn centre f dar lbida", [("city", "Casablanca")]),
        ("bghit nqra data science f frbat", [("programme", "jobintech-data-science"), ("city", "Rabat")]),
        ("عندي الباك و ساكن فكازا", [("education_level", "bac"), ("city", "Casablanca")]),
        ("je suis à FES avec un bac+2", [("city", "Fès"), ("education_level", "bac+2")]),
        ("kayn chi markaz f souss massa", [("region", "souss-massa")]),
        ("bghit offshoring f l3ayoun", [("programme", "digital-offshoring"), ("city", "Laâyoune")]),
    ],
)
def test_finds_mentions_in_a_message(gazetteer: Gazetteer, text: str, expected: list) -> None:
    assert mentions(gazetteer, text) == expected


def test_everyday_words_are_places_only_after_a_place_word(gazetteer: Gazetteer) -> None:
    assert mentions(gazetteer, "wakha safi choukran") == []
    assert mentions(gazetteer, "kayna chi dawra jdida?") == []
    assert mentions(gazetteer, "ana f safi") == [("city", "Safi")]
    assert mentions(gazetteer, "ana weld fas") == [("city", "Fès")]
    assert mentions(gazetteer, "أنا بنت الجديدة") == [("city", "El Jadida")]
    assert mentions(gazetteer, "un billet pr dakhla") == [("city", "Dakhla")]  # "pr" is texted "pour"
    assert mentions(gazetteer, "ana mn lqsar") == [("city", "Ksar El Kébir")]  # what its people call it
    assert mentions(gazetteer, "القصر ديال الملك") == []  # the palace


def test_close_misspellings_resolve_but_unknown_places_do_not(gazetteer: Gazetteer) -> None:
    assert gazetteer.resolve("city", "casaa") == "Casablanca"
    assert gazetteer.resolve("city", "Marakech") == "Marrakech"
    assert gazetteer.resolve("city", "paris") is None
    assert gazetteer.resolve("programme", "cuisine") is None


def test_gazetteer_survives_its_json_round_trip(gazetteer: Gazetteer) -> None:
    again = Gazetteer.from_json(gazetteer.to_json())
    assert again.tables == gazetteer.tables and again.ambiguous == gazetteer.ambiguous


@pytest.mark.parametrize(
    ("text", "ages"),
    [
        ("3ndi 19 3am", [19]),
        ("j'ai 17 ans", [17]),
        ("jai 19", [19]),
        ("عمري 22 عام", [22]),
        ("code 212", []),
        ("bac+2", []),
        ("3ndi 150 3am", []),
    ],
)
def test_ages_are_numbers_said_as_ages(text: str, ages: list) -> None:
    assert [age for _, age in find_ages(normalise(text).split())] == ages


def test_valid_age_rejects_nonsense() -> None:
    assert valid_age("19") == 19
    assert valid_age("abc") is None
    assert valid_age(5) is None
    assert valid_age(200) is None


@pytest.mark.parametrize(
    "text",
    ["الدورة الجديدة امتى", "imta dakhla dyal had l3am", "l3youn dyali 3yaw", "je suis sous le choc", "الحيوط البيضاء"],
)
def test_everyday_words_that_spell_places_are_not_taken_for_places(gazetteer: Gazetteer, text: str) -> None:
    assert [m for m in mentions(gazetteer, text) if m[0] in ("city", "region")] == []


def test_hyphenated_programme_names_are_found(gazetteer: Gazetteer) -> None:
    assert mentions(gazetteer, "infos sur digital-offshoring") == [("programme", "digital-offshoring")]


def test_a_glued_in_makes_a_place_of_an_everyday_word(gazetteer: Gazetteer) -> None:
    assert mentions(gazetteer, "ساكن فالعيون") == [("city", "Laâyoune")]
    assert mentions(gazetteer, "ana fdakhla") == [("city", "Dakhla")]


@pytest.mark.parametrize(
    ("text", "city"),
    [
        ("ana mn tnja", "Tanger"),
        ("fin kayn le CMC f mknes", "Meknès"),
        ("3tini l3onwan dyal lmarkaz li f fass", "Fès"),
        ("واش كاين شي مركز ف لعيون", "Laâyoune"),
        ("saken f l3rayech", "Larache"),
        ("tnja", "Tanger"),
    ],
)
def test_unlisted_spellings_of_a_place_are_found_by_their_phonetic_key_after_a_place_word(
    gazetteer: Gazetteer, text: str, city: str
) -> None:
    assert normalise(text.split()[-1]) not in gazetteer.tables["city"]  # not a spelling the catalogue lists
    assert mentions(gazetteer, text) == [("city", city)]


def test_words_the_training_data_uses_are_never_places_by_key(gazetteer: Gazetteer) -> None:
    # "lbdya" (the beginning) shares its key with "lbida" (Casablanca), "centre" with Kénitra.
    assert mentions(gazetteer, "ch7al kaychd data analyst f lbdya") == [("city", "Casablanca")]
    trained = Gazetteer(gazetteer.tables, gazetteer.ambiguous, keys=gazetteer.keys, known_words={"lbdya", "centre"})
    assert mentions(trained, "ch7al kaychd data analyst f lbdya") == []
    assert mentions(trained, "comment aller au centre en tram") == []
    assert mentions(trained, "ana mn tnja") == [("city", "Tanger")]
    assert mentions(trained, "mknes") == [("city", "Meknès")]
    assert Gazetteer.from_json(trained.to_json()) == trained


@pytest.mark.parametrize(
    ("text", "city"),
    [
        ("fin kayn centre 9rib l berkane", "Berkane"),
        ("ana mn khmisset", "Khémisset"),
        ("ساكن ف الفقيه بن صالح", "Fquih Ben Salah"),
        ("j'habite à Ksar El Kebir", "Ksar El Kébir"),
        ("kayn chi haja f chaouen ?", "Chefchaouen"),
        ("ana f tata", "Tata"),
    ],
)
def test_towns_without_a_centre_are_places_too(gazetteer: Gazetteer, text: str, city: str) -> None:
    """So that their people get the nearest centres (``actions/centres.py``), not a question for their city."""
    assert mentions(gazetteer, text) == [("city", city)]


@pytest.mark.parametrize("text", ["bonsoir à toute l'équipe", "ana w tata dyali", "wach kayn chi stage"])
def test_short_words_never_name_a_town_by_their_key(gazetteer: Gazetteer, text: str) -> None:
    assert [m for m in mentions(gazetteer, text) if m[0] == "city"] == []
