"""What a slot may hold, one rule per entity a person can set, applied wherever a value comes in.

The NLU's extractor, the channels (``/intent{...}`` payloads, which Rasa does not run through
the NLU) and the actions (form validation, slots read back) all call ``clean``, so a value that
one of them refuses is refused by all: an age of -5, a level "phd", a city ``<script>``, a
register "klingon" never reach a slot, and no slot value is shown to anyone as typed.
"""

from __future__ import annotations

import functools
import math
import re
from typing import Any, Callable, Dict, Optional

from language.catalogue import CATALOGUE_ENTITIES, Gazetteer, valid_age
from language.register import REGISTERS

# The kinds of attachment the WhatsApp channels announce with ``/send_media{"media": ...}``.
MEDIA_KINDS = ("audio", "image", "video", "sticker", "document")
# Longer than any spelling in the catalogue: not worth matching against it.
MAX_NAME_CHARS = 100
# The registry's own shape of a programme id (``registry.schemas.SLUG_PATTERN``).
PROGRAMME_ID = re.compile(r"[a-z0-9][a-z0-9+-]{1,62}")


@functools.lru_cache(maxsize=1)
def seed_catalogue() -> Gazetteer:
    """The catalogue the NLU was trained on and the registry was seeded from (``registry/catalogue.yml``)."""
    return Gazetteer.load()


def _register(value: Any) -> Optional[str]:
    return value if isinstance(value, str) and value in REGISTERS else None


def _age(value: Any) -> Optional[int]:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        return None  # True is 1 to int(), and 19.5 years is not an answer we read
    return valid_age(value)


def _coordinate(limit: float) -> Callable[[Any], Optional[float]]:
    def rule(value: Any) -> Optional[float]:
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            return None
        try:
            number = float(value)
        except ValueError:
            return None
        return number if math.isfinite(number) and -limit <= number <= limit else None

    return rule


def _media(value: Any) -> Optional[str]:
    return value if isinstance(value, str) and value in MEDIA_KINDS else None


RULES: Dict[str, Callable[[Any], Optional[Any]]] = {
    "register": _register,
    "age": _age,
    "latitude": _coordinate(90.0),
    "longitude": _coordinate(180.0),
    "media": _media,
}
# Every entity with a rule: the four catalogue ones are checked against a catalogue (below).
ENTITIES = frozenset((*RULES, *CATALOGUE_ENTITIES))


def _catalogue_value(entity_name: str, value: Any, gazetteer: Gazetteer) -> Optional[str]:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_NAME_CHARS:
        return None
    found = gazetteer.resolve(entity_name, value.strip())
    if found is not None:
        return found
    if entity_name == "programme" and PROGRAMME_ID.fullmatch(value):
        # Staff add programmes to the registry between trainings: an id of the registry's shape
        # stands until the actions look it up there (an id it does not hold is never used or shown).
        return value
    return None


def clean(entity_name: str, value: Any, gazetteer: Optional[Gazetteer] = None) -> Optional[Any]:
    """The canonical value a slot may take for ``value``, or None if it must not be set.

    - register: "french", "darija_latin" or "darija_arabic";
    - city, region, programme, education_level: a catalogue value (a city's canonical name, a
      region / programme / level id) found through the catalogue's spellings (``gazetteer``,
      by default the seed catalogue); a programme may also be an id of the registry's shape;
    - age: a whole number from 10 to 99; latitude / longitude: a finite number within range;
    - media: one of ``MEDIA_KINDS``;
    - any other entity: None (no rule, so no one may set it).
    """
    if entity_name in CATALOGUE_ENTITIES:
        return _catalogue_value(entity_name, value, gazetteer or seed_catalogue())
    rule = RULES.get(entity_name)
    return rule(value) if rule is not None else None
