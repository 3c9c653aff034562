"""Place, programme and level names as the NLU needs them, built from the registry's catalogue
(``registry/catalogue.yml``): every spelling listed there, normalised, mapped to the value
the rest of Tawjih uses (a city's canonical name, a region / programme / level id)."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Set, Tuple

import yaml

from language.normaliser import normalise, phonetic_key

DEFAULT_CATALOGUE = Path(__file__).resolve().parents[1] / "registry" / "catalogue.yml"
CATALOGUE_ENTITIES = ("city", "region", "programme", "education_level")

# Letters that Darija glues to the next word: "فكازا" (in Casa), "بالرباط", "frbat", "lcasa".
_ARABIC_PREFIXES = ("وال", "فال", "بال", "لل", "ال", "و", "ف", "ب", "ل")
_LATIN_PREFIXES = ("f", "l", "b")
_LOCATIVE_PREFIXES = frozenset(("فال", "بال", "ف", "ب", "f", "b"))  # "in"/"at": they make a place of what follows
# Words after which an everyday word that is also a place name is taken for the place,
# including "son / daughter of" ("weld fas", "bent jdida"), the usual way to say where one is from.
PLACE_WORDS = frozenset(
    "f fi à a au de d dans vers pour pres mn men min l b near ville mdina weld ould bent wlad sakn saken qrib hda"
    " في ف من ل ب مدينه ولد بنت ولاد ساكن قريب حدا".split()
)
# Entities also looked up by phonetic key (a spelling the catalogue does not list, such as
# "tnja", "mknes", "لعيون"), but only for words the training data never uses otherwise
# ("lbdya", "vous", "centre" have keys of places too), right after a place word or alone.
_KEYED_ENTITIES = ("city",)
_AGE_AFTER = re.compile(r"^(ans?|3am|sna|snin|snine|عام|سنه|سنين|عامات|years?|yo)$")
_AGE_BEFORE = re.compile(r"^(3ndi|عندي|3mri|3omri|عمري|age|j'ai|jai|ai)$")  # "jai" is normalised to "ai"
_ARABIC = re.compile(r"[\u0600-\u06ff]")

Mention = Tuple[int, int, str, str]


# Where each entity's names are in the catalogue: entity, section, the fields that spell a
# record (aliases come on top), the field whose value the NLU gives.
CATALOGUE_SOURCES: Tuple[Tuple[str, str, Tuple[str, ...], str], ...] = (
    ("city", "cities", ("name", "name_ar", "id"), "name"),
    ("region", "regions", ("id", "name_fr", "name_ar"), "id"),
    ("programme", "programmes", ("id", "name_fr", "name_ar"), "id"),
    ("education_level", "education_levels", ("id", "name_fr", "name_ar"), "id"),
)


def spellings(record: Dict[str, Any], *names: str) -> Iterable[str]:
    """Every way the catalogue spells ``record``: its ``names`` fields, then its aliases."""
    for name in names:
        if record.get(name):
            yield str(record[name])
    yield from (str(alias) for alias in record.get("aliases") or [])


def _phonetic_phrase(normalised: str) -> str:
    return " ".join(phonetic_key(word) for word in normalised.split())


def _key(spelling: str) -> str:
    return normalise(spelling.replace("-", " "))


@dataclass
class Gazetteer:
    """``tables[entity][normalised spelling] = value``, plus the spellings that need a place word before them."""

    tables: Dict[str, Dict[str, str]]
    ambiguous: Set[str] = field(default_factory=set)
    max_words: int = 5
    keys: Dict[str, Dict[str, str]] = field(default_factory=dict)
    known_words: Set[str] = field(default_factory=set)

    @classmethod
    def from_catalogue(cls, catalogue: Dict[str, Any]) -> "Gazetteer":
        tables: Dict[str, Dict[str, str]] = {entity: {} for entity in CATALOGUE_ENTITIES}
        for entity, section, names, value_field in CATALOGUE_SOURCES:
            for record in catalogue.get(section) or []:
                for spelling in spellings(record, *names):
                    # "digital-offshoring" reaches us as one token, "digital offshoring" as two
                    for key in {_key(spelling), normalise(spelling)}:
                        if key:
                            tables[entity].setdefault(key, str(record[value_field]))
        ambiguous = {_key(s) for s in catalogue.get("ambiguous_spellings") or []}
        keys: Dict[str, Dict[str, str]] = {}
        for entity in _KEYED_ENTITIES:
            values_by_key: Dict[str, Set[str]] = {}
            for spelling, value in tables[entity].items():
                values_by_key.setdefault(_phonetic_phrase(spelling), set()).add(value)
            # A key two places share ("sl": Salé? Safi?) names neither, and one letter ("t": Tata, "toute",
            # "tout") names nothing.
            keys[entity] = {
                key: next(iter(values))
                for key, values in values_by_key.items()
                if len(values) == 1 and len(key.replace(" ", "")) >= 2
            }
        return cls(tables, ambiguous, keys=keys)

    @classmethod
    def load(cls, path: Optional[Path] = None) -> "Gazetteer":
        with (path or DEFAULT_CATALOGUE).open(encoding="utf-8") as handle:
            return cls.from_catalogue(yaml.safe_load(handle))

    def to_json(self) -> Dict[str, Any]:
        return {
            "tables": self.tables,
            "ambiguous": sorted(self.ambiguous),
            "keys": self.keys,
            "known_words": sorted(self.known_words),
        }

    @classmethod
    def from_json(cls, data: Dict[str, Any]) -> "Gazetteer":
        return cls(
            data["tables"],
            set(data["ambiguous"]),
            keys=data.get("keys", {}),
            known_words=set(data.get("known_words", [])),
        )

    def _lookup(self, entity: str, phrase: str, single_word: bool) -> Optional[str]:
        table = self.tables[entity]
        if phrase in table:
            return phrase
        if not single_word:
            return None
        prefixes = _ARABIC_PREFIXES if _ARABIC.match(phrase) else _LATIN_PREFIXES
        for prefix in prefixes:
            rest = phrase[len(prefix) :]
            if phrase.startswith(prefix) and len(rest) >= 3:
                for candidate in (rest, "ال" + rest):
                    if candidate in table and (candidate not in self.ambiguous or prefix in _LOCATIVE_PREFIXES):
                        return candidate
        return None

    def find_mentions(self, words: List[str]) -> List[Mention]:
        """Longest non-overlapping mentions in normalised ``words``: (first word, last word + 1, entity, value)."""
        found: List[Mention] = []
        i = 0
        while i < len(words):
            match = None
            for length in range(min(self.max_words, len(words) - i), 0, -1):
                phrase = " ".join(words[i : i + length])
                if phrase in self.ambiguous and (i == 0 or words[i - 1] not in PLACE_WORDS):
                    continue
                for entity in CATALOGUE_ENTITIES:
                    key = self._lookup(entity, phrase, single_word=length == 1)
                    if key is not None:
                        match = (i, i + length, entity, self.tables[entity][key])
                        break
                if match:
                    break
            if not match and (len(words) == 1 or (i > 0 and words[i - 1] in PLACE_WORDS)):
                match = self._match_by_key(words, i)
            if match:
                found.append(match)
                i = match[1]
            else:
                i += 1
        return found

    def _match_by_key(self, words: List[str], i: int) -> Optional[Mention]:
        """The longest phrase at ``i`` whose phonetic key is one place's (words of three letters or more)."""
        for length in range(min(self.max_words, len(words) - i), 0, -1):
            phrase = words[i : i + length]
            if any(len(word) < 3 or word in self.known_words for word in phrase):
                continue
            key = _phonetic_phrase(" ".join(phrase))
            for entity in _KEYED_ENTITIES:
                value = self.keys.get(entity, {}).get(key)
                if value is not None:
                    return (i, i + length, entity, value)
        return None

    def resolve(self, entity: str, text: str) -> Optional[str]:
        """The catalogue value for a spelling a classifier extracted, or None if it names nothing we know."""
        table = self.tables.get(entity, {})
        key = _key(text)
        found = self._lookup(entity, key, single_word=" " not in key) if table else None
        if found is not None:
            return table[found]
        close = difflib.get_close_matches(key, list(table), n=1, cutoff=0.84)
        return table[close[0]] if close else None


def find_ages(words: List[str]) -> List[Tuple[int, int]]:
    """(word index, age) where a number is said to be an age: "19 ans", "3ndi 19", "عمري 17"."""
    ages = []
    for i, word in enumerate(words):
        if not word.isdigit() or valid_age(word) is None:
            continue
        after = words[i + 1] if i + 1 < len(words) else ""
        before = words[i - 1] if i > 0 else ""
        if _AGE_AFTER.match(after) or _AGE_BEFORE.match(before):
            ages.append((i, int(word)))
    return ages


def valid_age(value: Any) -> Optional[int]:
    try:
        age = int(str(value).strip())
    except ValueError:
        return None
    return age if 10 <= age <= 99 else None
