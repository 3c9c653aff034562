"""The held-out sets measure how Tawjih does on messages it never saw.

No training example may copy a message of our held-out set, or nearly copy it (same words up
to spelling and one word). The blind sets were written by authors who never saw the training
data, so some of their short, common messages ("merci", "بسلامة") were already there: those
overlaps are listed in ``tests/nlu/blind_overlaps.txt`` as they were when the sets were
written, and no training example added since may copy another blind message. The blind sets
themselves must not be edited (to fit the model) either: their checksums are fixed here."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Dict, FrozenSet, List, Tuple

import yaml

from bench.eval_nlu import HELDOUT, SEALED_SETS, load_heldout
from language.normaliser import normalise

ROOT = Path(__file__).resolve().parents[2]
BLIND_SETS = {
    "blind_a.yml": "84d4901568b76a3560df00445b17069516c5806c65fca7b0f222bb406606ca53",
    "blind_b.yml": "511a88f254e7b637e4e770f65b7e65b52ff9dfacbe06a4396012a3e325f865be",
    "blind_c.yml": "c3a948daa09107a053f270a8dc2cd02fd69095d328fd58fb58e5d1f2f317f548",
    "blind_d.yml": "52c1ec6db3930ede211ddab05b0115039ee45381756550b5db405e69f0d965a3",
    "blind_e.yml": "c5b27cb7ce233ab548097fbcb6e24cfd5f3b9860de4415f5a8f51b48a8da9843",
    "blind_f.yml": "c4d5b8131e5f071a21e248cefddb5d13ee876c280c9d481a73c2bcdf3ac74072",
    "blind_g.yml": "faaf784016ca6739e446daa1f236df34b208e57f5f8845f7c2349466d78dcf1f",
    "blind_h.yml": "50804e968ffc50e238aa2e40f028f339149df2519061e817a02822788ed6906e",
    "blind_i.yml": "a704b57c0c161fcc3b946c384a7ebf59a6d8531565141b29c7afd8a5b557d67c",
    "blind_j.yml": "f6d4d54a2d2e0a85c7aae0c8daeae9db72d74fe4da9e3d38fcce350dd850b2a8",
    "blind_k.yml": "d96d355546103c125397202082b352e11b133fc4123e59085cded450eb64906f",
    "blind_l.yml": "11018f4ea497a593eaac56b18b9e3365fffbca716ac67ed7921b71230131b62d",
}
BLIND_OVERLAPS = ROOT / "tests" / "nlu" / "blind_overlaps.txt"
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


def copying_pairs(heldout: Path) -> List[Tuple[str, str]]:
    """(held-out message, the training example that copies or nearly copies it)."""
    training: Dict[FrozenSet[str], str] = {}
    for file_name, text in _training_examples():
        training.setdefault(_words(text), f"{file_name}: {text}")
    pairs = []
    for example in load_heldout(heldout):
        held = _words(example.text)
        if held in training:
            pairs.append((example.text, training[held]))
            continue
        if len(held) < 4:
            continue
        for words, where in training.items():
            if len(words) >= 4 and len(held & words) / len(held | words) >= NEAR_COPY_JACCARD:
                pairs.append((example.text, where))
                break
    return pairs


def copies_of(heldout: Path) -> List[str]:
    """The held-out messages that a training example copies or nearly copies."""
    return [held for held, _ in copying_pairs(heldout)]


def test_no_training_example_copies_a_heldout_message() -> None:
    copies = copies_of(HELDOUT)
    assert not copies, "training data copies held-out messages:\n" + "\n".join(copies)


def test_training_copies_no_blind_message_beyond_those_it_had_when_they_were_written() -> None:
    """A failure names the training examples to rewrite; for a sealed set, never the held-out message."""
    known = set(BLIND_OVERLAPS.read_text(encoding="utf-8").splitlines())
    new = [
        where if name in SEALED_SETS else f"{held}  <-  {where}"
        for name in BLIND_SETS
        for held, where in copying_pairs(ROOT / "tests" / "nlu" / name)
        if held not in known
    ]
    assert not new, "training examples now copy blind held-out messages (rewrite them):\n" + "\n".join(new)


def test_blind_sets_are_as_their_authors_wrote_them() -> None:
    for name, checksum in BLIND_SETS.items():
        assert hashlib.sha256((ROOT / "tests" / "nlu" / name).read_bytes()).hexdigest() == checksum, name
