"""Rasa's ``/intent{json}`` messages: built in one place, and cleaned before Rasa reads one.

Rasa takes a message that starts with "/" as an intent and entities given outright, without the
NLU: whatever a button sends, a person can type. ``clean_payload`` runs on every incoming message
so that typing one gives nothing a button could not: only the domain's intents (never Rasa's own
commands such as ``/restart``), only the domain's entities, only values that pass
``language.slot_rules``. A command a person may not give is read as the words it contains.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any, Dict, FrozenSet, Iterable, Mapping, Optional, Tuple

import yaml

from language import slot_rules

DOMAIN_FILE = Path(__file__).resolve().parents[1] / "domain.yml"
PREFIX = "/"
# Rasa's commands, which a person must not trigger by typing them (even if the domain listed them).
COMMANDS = frozenset({"restart", "session_start", "back"})
# Rasa's own reading (YAMLStoryReader._regex_message_pattern): an intent name, "@confidence", the rest.
_PAYLOAD = re.compile(r"/(?P<intent>[^{@]+)(?P<confidence>@[0-9.]*)?(?P<rest>.*)", re.DOTALL)
_LEADING_COMMAND_MARKS = re.compile(r"^[\s/]+")


def intent_payload(intent: str, entities: Optional[Mapping[str, Any]] = None) -> str:
    """The message a button sends: ``/ask_sessions{"programme": "ia-cmc"}``, or ``/affirm``."""
    return PREFIX + intent + (json.dumps(dict(entities), ensure_ascii=False) if entities else "")


def _names(items: Optional[Iterable[Any]]) -> FrozenSet[str]:
    """Names in a domain list, whose items are names or one-key mappings (``- city: {roles: [...]}``)."""
    names: set = set()
    for item in items or []:
        names.update(item if isinstance(item, dict) else [item])
    return frozenset(str(name) for name in names)


@functools.lru_cache(maxsize=1)
def domain_vocabulary(path: Path = DOMAIN_FILE) -> Tuple[FrozenSet[str], FrozenSet[str]]:
    """The intents a payload may name (the domain's, less Rasa's commands) and the entities it may set."""
    domain = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return _names(domain.get("intents")) - COMMANDS, _names(domain.get("entities"))


def as_words(text: str) -> str:
    """A command as plain text: the leading slashes gone, so the NLU reads the rest as words."""
    return _LEADING_COMMAND_MARKS.sub("", text)


def _entities(rest: str, allowed: FrozenSet[str]) -> Dict[str, Any]:
    """The entities of a payload's JSON object that may be set, with their canonical values."""
    if not rest.strip():
        return {}
    try:
        given = json.loads(rest)
    except (ValueError, RecursionError):
        return {}
    if not isinstance(given, dict):
        return {}
    kept: Dict[str, Any] = {}
    for name, value in given.items():
        if name not in allowed:
            continue
        canonical = slot_rules.clean(name, value)
        if canonical is not None:
            kept[name] = canonical
    return kept


def clean_payload(text: str) -> str:
    """The message as Rasa may read it.

    A message that does not start with "/" is returned unchanged. ``/intent``, ``/intent{json}``
    and ``/intent@0.9{json}`` naming one of the domain's intents become ``/intent`` followed by
    the entities that pass (no confidence: a person does not set it; JSON that is not an object,
    or not JSON, leaves the intent alone). Anything else starting with "/" (``/restart``,
    ``/session_start``, ``/back``, an unknown intent, a "/" alone) becomes its words without
    the slash.
    """
    stripped = text.strip()
    if not stripped.startswith(PREFIX):
        return text
    intents, entities = domain_vocabulary()
    match = _PAYLOAD.fullmatch(stripped)
    intent = match.group("intent").strip() if match else ""
    if match is None or intent not in intents:
        return as_words(stripped)
    return intent_payload(intent, _entities(match.group("rest"), entities))


def warm_up() -> None:
    """Read the domain and the catalogue when the server starts, not on the first person's message."""
    domain_vocabulary()
    slot_rules.seed_catalogue()
