"""Words that signal distress, abuse or danger in what a person writes: they make a handoff request urgent.

The terms are data (``safeguarding.yml``, reviewed by supervisors); this module only folds text and terms the
same way and finds whole words in order. It never logs, keeps or returns the text it reads: only categories,
and for supervisors the term (as written in the data) that matched.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import yaml

from language.normaliser import DARIJA_SPELLINGS, FRENCH_TEXTING, normalise_word, strip_invisible

DEFAULT_PATH = Path(__file__).with_name("safeguarding.yml")
REGISTERS = ("french", "darija_latin", "darija_arabic", "mixed")

_WORD = re.compile(r"[^\W_]+")
_TERM_WORD = re.compile(r"[^\W_]+\*?|\*")
_DOUBLED = re.compile(r"([^\W\d_])\1+")
_ARABIC = re.compile(r"[\u0621-\u064a]")
# Arabic prefixes that are words of their own: "فالدار" is "ف" + "دار"; the article alone goes.
_ARABIC_PREFIXES = (("فال", "ف"), ("بال", "ب"), ("لل", "ل"), ("ال", ""))
_VOWELS = frozenset("aeiouy")
_NORMALISER_FORMS = frozenset(DARIJA_SPELLINGS.values()) | frozenset(FRENCH_TEXTING.values())


def _pieces(raw: str) -> List[str]:
    """One written word to its folded word(s), before the spellings table."""
    word = normalise_word(raw)
    if not word:
        return []
    if _ARABIC.search(word):
        if word.startswith("و") and len(word) >= 4:  # "and"
            word = word[1:]
        for prefix, head in _ARABIC_PREFIXES:
            if word.startswith(prefix) and len(word) - len(prefix) >= 2:
                return [piece for piece in (head, _DOUBLED.sub(r"\1", word[len(prefix) :])) if piece]
        return [_DOUBLED.sub(r"\1", word)]
    word = _DOUBLED.sub(r"\1", word)
    if word == "l":  # the Darija (and French) article standing alone
        return []
    if word.startswith("l") and len(word) >= 4 and word[1] not in _VOWELS:  # ldar, lberd, l7yat
        word = word[1:]
    return [word]


def _fold_words(text: str, spellings: Mapping[str, Tuple[str, ...]]) -> List[str]:
    words: List[str] = []
    for raw in _WORD.findall(strip_invisible(text)):
        for piece in _pieces(raw):
            words.extend(spellings.get(piece, (piece,)))
    return words


@dataclass(frozen=True)
class _Phrase:
    category: str
    written: str
    words: Tuple[str, ...]
    prefix: Tuple[bool, ...]

    def at(self, words: Sequence[str], start: int) -> bool:
        if start + len(self.words) > len(words):
            return False
        for offset, (want, is_prefix) in enumerate(zip(self.words, self.prefix, strict=True)):
            have = words[start + offset]
            if not (have.startswith(want) if is_prefix else have == want):
                return False
        return True


@dataclass
class _Index:
    """Phrases by their first word, and those whose first word ends with ``*``."""

    exact: Dict[str, List[_Phrase]] = field(default_factory=dict)
    prefixed: List[_Phrase] = field(default_factory=list)

    def add(self, phrase: _Phrase) -> None:
        if phrase.prefix[0]:
            self.prefixed.append(phrase)
        else:
            self.exact.setdefault(phrase.words[0], []).append(phrase)

    def spans(self, words: Sequence[str]) -> List[Tuple[int, int, _Phrase]]:
        found = []
        for start, word in enumerate(words):
            for phrase in self.exact.get(word, []) + self.prefixed:
                if phrase.at(words, start):
                    found.append((start, start + len(phrase.words), phrase))
        return found


class SafeguardingTerms:
    """The terms of ``safeguarding.yml``, ready to look for in messages."""

    def __init__(self, labels: Dict[str, str], spellings: Dict[str, Tuple[str, ...]], terms: List[_Phrase]) -> None:
        self.labels = labels  # category -> label shown to staff, in the file's order
        self._spellings = spellings
        self._terms = _Index()
        self._exceptions = _Index()
        for phrase in terms:
            (self._exceptions if phrase.category == "" else self._terms).add(phrase)

    def fold(self, text: str) -> List[str]:
        """The words of ``text`` as they are compared (for tests and for reviewing a new term)."""
        return _fold_words(text, self._spellings)

    def found(self, text: str) -> List[Tuple[str, str]]:
        """(category, term as written in the data) for each term in ``text``, outside the exceptions."""
        words = self.fold(text)
        if not words:
            return []
        exceptions = [(start, end) for start, end, _ in self._exceptions.spans(words)]
        return [
            (phrase.category, phrase.written)
            for start, end, phrase in self._terms.spans(words)
            if not any(low <= start and end <= high for low, high in exceptions)
        ]

    def matches(self, text: str) -> List[str]:
        """The categories ``text`` signals (in the data's order); empty when it signals none."""
        hit = {category for category, _ in self.found(text)}
        return [category for category in self.labels if category in hit]


# --------------------------------------------------------------------------- loading


def _strings(value: Any, where: str) -> List[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
        raise ValueError(f"{where}: a list of words or phrases")
    return value


def _plain(raw: str, where: str) -> List[str]:
    """The folded words of a spelling (no spellings table applied)."""
    words = [piece for word in _WORD.findall(strip_invisible(raw)) for piece in _pieces(word)]
    if not words:
        raise ValueError(f"{where}: {raw!r} has no word in it")
    return words


def _spellings(raw: Any) -> Dict[str, Tuple[str, ...]]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ValueError("spellings: a mapping from the spelling used in terms to its other spellings")
    table: Dict[str, Tuple[str, ...]] = {}
    for canonical, variants in raw.items():
        where = f"spellings, {canonical!r}"
        if not isinstance(canonical, str):
            raise ValueError(f"{where}: write it as text")
        target = tuple(_plain(canonical, where))
        for variant in [canonical, *_strings(variants, where)]:
            if variant == canonical and len(target) > 1:
                continue  # "ma bghitch": the words already fold to themselves
            words = _plain(variant, where)
            if len(words) != 1:
                raise ValueError(f"{where}: {variant!r} is several words; only the first spelling may be")
            word, normalised = words[0], normalise_word(variant)
            if normalised in _NORMALISER_FORMS and normalised != variant.lower():
                raise ValueError(f"{where}: {variant!r} already means {normalised!r} (language/normaliser.py)")
            if table.get(word, target) != target:
                raise ValueError(f"{where}: {variant!r} is also a spelling of {' '.join(table[word])!r}")
            if word != " ".join(target):
                table[word] = target
    return table


def _phrase(category: str, written: str, spellings: Dict[str, Tuple[str, ...]], where: str) -> _Phrase:
    words: List[str] = []
    prefix: List[bool] = []
    for item in _TERM_WORD.findall(strip_invisible(written)):
        if item == "*":
            raise ValueError(f"{where}: {written!r}: '*' goes at the end of a word, e.g. suicid*")
        if item.endswith("*"):
            pieces = _plain(item[:-1], where)
            words.extend(pieces)
            prefix.extend([False] * (len(pieces) - 1) + [True])
            continue
        for piece in _plain(item, where):
            mapped = spellings.get(piece, (piece,))
            words.extend(mapped)
            prefix.extend([False] * len(mapped))
    if not words:
        raise ValueError(f"{where}: {written!r} has no word in it")
    return _Phrase(category, written, tuple(words), tuple(prefix))


def load_terms(path: Optional[Path] = None) -> SafeguardingTerms:
    """Read and check the terms (``safeguarding.yml`` beside this module by default); ValueError says what is wrong."""
    source = Path(path) if path else DEFAULT_PATH
    try:
        data = yaml.safe_load(source.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise ValueError(f"{source.name}: not valid YAML ({error})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{source.name}: expected spellings, categories and exceptions")
    unknown = set(data) - {"spellings", "categories", "exceptions"}
    if unknown:
        raise ValueError(f"{source.name}: unknown section(s) {', '.join(sorted(map(str, unknown)))}")
    spellings = _spellings(data.get("spellings"))
    categories = data.get("categories")
    if not isinstance(categories, dict) or not categories:
        raise ValueError(f"{source.name}: categories: at least one category")
    labels: Dict[str, str] = {}
    terms: List[_Phrase] = []
    for category, entry in categories.items():
        where = f"categories, {category!r}"
        if not isinstance(category, str) or not category or not isinstance(entry, dict):
            raise ValueError(f"{where}: a name, then its label and its terms per register")
        label = entry.get("label")
        if not isinstance(label, str) or not label.strip():
            raise ValueError(f"{where}: a label (shown to staff) is missing")
        extra = set(entry) - {"label", *REGISTERS}
        if extra:
            raise ValueError(f"{where}: unknown key(s) {', '.join(sorted(map(str, extra)))}; registers are {REGISTERS}")
        labels[category] = label.strip()
        for register in REGISTERS:
            for written in _strings(entry.get(register), f"{where}, {register}"):
                terms.append(_phrase(category, written, spellings, f"{where}, {register}"))
        if not any(term.category == category for term in terms):
            raise ValueError(f"{where}: no term")
    for written in _strings(data.get("exceptions"), "exceptions"):
        terms.append(_phrase("", written, spellings, "exceptions"))
    return SafeguardingTerms(labels, spellings, terms)


@functools.lru_cache(maxsize=1)
def default_terms() -> SafeguardingTerms:
    """The terms beside this module, read once per process."""
    return load_terms()
