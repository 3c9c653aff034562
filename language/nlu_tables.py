"""Rasa lookup tables and entity synonyms generated from the registry's catalogue.

``registry/catalogue.yml`` is the one place where a city, region, programme or education
level and its spellings are written. This module writes them into
``data/nlu/catalogue.yml`` in Rasa's own terms:

- a lookup table per entity (``city``, ``region``, ``programme``, ``education_level``) with
  every spelling, for ``RegexFeaturizer`` (a token that is a known place or programme);
- a synonym per value with every other spelling, for ``EntitySynonymMapper``.

Spellings that are also everyday words (the catalogue's ``ambiguous_spellings``: "safi",
"sla", "fas"...) stay out of the lookup tables: a lookup matches them anywhere, and "safi"
is far more often "enough" than the city. They keep their synonyms, which only apply to a
value already extracted as an entity.

``make tables`` (and ``make train``) regenerate the file; a test fails if it is out of date.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Dict, Iterable, List, Tuple

import yaml

from language.catalogue import CATALOGUE_SOURCES, DEFAULT_CATALOGUE, spellings

NLU_TABLES_FILE = Path(__file__).resolve().parents[1] / "data" / "nlu" / "catalogue.yml"

HEADER = """\
# GENERATED from registry/catalogue.yml by `make tables` (python -m language.nlu_tables).
# Do not edit: add a spelling to the catalogue's `aliases` and regenerate.
"""


def _unique_spellings(record: Dict[str, Any], fields: Iterable[str]) -> List[str]:
    """The record's spellings, each once whatever its case."""
    unique: Dict[str, str] = {}
    for spelling in spellings(record, *fields):
        unique.setdefault(spelling.strip().lower(), spelling.strip())
    return list(unique.values())


def _block(kind: str, name: str, items: Iterable[str]) -> str:
    lines = "".join(f"    - {item}\n" for item in items)
    return f"- {kind}: {name}\n  examples: |\n{lines}"


def nlu_tables(catalogue: Dict[str, Any]) -> str:
    """The text of ``data/nlu/catalogue.yml`` for ``catalogue``.

    A spelling that two values share (across entities too: Rasa's synonyms are one mapping)
    is left out of the synonyms, so the mapper never picks one of them at random.
    """
    ambiguous = {str(spelling).lower() for spelling in catalogue.get("ambiguous_spellings") or []}
    lookups: Dict[str, List[str]] = {}
    values_of: Dict[str, set] = {}
    synonyms: List[Tuple[str, List[str]]] = []
    for entity, section, fields, value_field in CATALOGUE_SOURCES:
        table: Dict[str, str] = {}
        for record in catalogue.get(section) or []:
            value = str(record[value_field])
            record_spellings = _unique_spellings(record, fields)
            for spelling in record_spellings:
                values_of.setdefault(spelling.lower(), set()).add(value)
                if spelling.lower() not in ambiguous:
                    table.setdefault(spelling.lower(), spelling)
            synonyms.append((value, [s for s in record_spellings if s.lower() != value.lower()]))
        lookups[entity] = sorted(table.values(), key=str.lower)

    blocks = [_block("lookup", entity, table_spellings) for entity, table_spellings in lookups.items()]
    for value, other_spellings in synonyms:
        unshared = [s for s in other_spellings if values_of[s.lower()] == {value}]
        if unshared:
            blocks.append(_block("synonym", value, unshared))
    return HEADER + 'version: "3.1"\n\nnlu:\n' + "\n".join(blocks)


def generated_text(catalogue_path: Path = DEFAULT_CATALOGUE) -> str:
    with catalogue_path.open(encoding="utf-8") as handle:
        return nlu_tables(yaml.safe_load(handle))


def main() -> int:
    text = generated_text()
    current = NLU_TABLES_FILE.read_text(encoding="utf-8") if NLU_TABLES_FILE.exists() else ""
    if current != text:
        NLU_TABLES_FILE.write_text(text, encoding="utf-8")
        print(f"Wrote {NLU_TABLES_FILE.relative_to(NLU_TABLES_FILE.parents[2])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
