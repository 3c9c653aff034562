"""The held-out set measures how Tawjih does on messages it never saw: no training example may
copy one of its messages, or nearly copy it (same words up to spelling and one word)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Dict, FrozenSet, List, Tuple

import yaml

from bench.eval_nlu import load_heldout
from language.normaliser import normalise

ROOT = Path(__file__).resolve().parents[2]
_ANNOTATION = re.compile(r"\[([^\]]*)\](\{[^}]*\}|\([^)]*\))")
_PUNCTUATION = re.compile(r"[^\w\s]")
# Two messages of at least four words sharing this share of their words are one message.
NEAR_COPY_JACCARD = 0.8


def _words(text: str) -> FrozenSet[str]:
    return frozenset(_PUNCTUATION.sub(" ", normalise(text)).split())


def _training_examples() -> List[Tuple[str, str]]:
    examples = []
    for path in sorted((ROOT / "data" / "nlu").glob("*.yml")):
        for block in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", []):
            if "intent" not in block:
                continue
            for line in block["examples"].splitlines():
                line = line.strip()
                if line.startswith("- "):
                    examples.append((path.name, _ANNOTATION.sub(lambda m: m.group(1), line[2:])))
    return examples


def test_no_training_example_copies_a_heldout_message() -> None:
    training: Dict[FrozenSet[str], str] = {}
    for file_name, text in _training_examples():
        training.setdefault(_words(text), f"{file_name}: {text}")
    copies = []
    for example in load_heldout():
        held = _words(example.text)
        if held in training:
            copies.append(f"{example.text!r} == {training[held]!r}")
            continue
        if len(held) < 4:
            continue
        for words, origin in training.items():
            if len(words) >= 4 and len(held & words) / len(held | words) >= NEAR_COPY_JACCARD:
                copies.append(f"{example.text!r} ~ {origin!r}")
    assert not copies, "training data copies held-out messages:\n" + "\n".join(copies)
