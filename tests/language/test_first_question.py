"""A message that asks two questions is answered on its first (the intent contract's rule)."""

from __future__ import annotations

from typing import List, Optional

import pytest
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.training_data.message import Message

from language.first_question import first_question_length
from language.normaliser import normalise_word

TOKENIZER = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())


def first_question(text: str) -> Optional[str]:
    tokens = TOKENIZER.tokenize(Message({"text": text}), "text")
    length = first_question_length(text, [(t.start, t.end, normalise_word(t.text)) for t in tokens])
    return None if length is None else text[: tokens[length - 1].end]


@pytest.mark.parametrize(
    "message, first",
    [
        ("wach fabor wla la w fin kayn lcentre", "wach fabor wla la"),
        ("wach khass lbac? w ch7al taman", "wach khass lbac"),
        ("chno lwra9 li khassin w imta akhir ajal", "chno lwra9 li khassin"),
        ("c'est quoi la CMC ? et c'est où", "c'est quoi la CMC"),
        ("واش مجاني؟ وفين كاين المركز", "واش مجاني"),
        ("fin kayn lmarkaz ? ana f casa", "fin kayn lmarkaz"),
    ],
)
def test_the_first_of_two_questions_is_found(message: str, first: str) -> None:
    assert first_question(message) == first


@pytest.mark.parametrize(
    "message",
    [
        "wach kayn formation f casa?",  # one question
        "ana 3ndi bac pro w wach nqder ntsjl",  # a statement, then the question: the model reads both
        "salam labas? wach kayn formation",  # a greeting glued to a question is labelled by the question
        "ach khbarek? fin kayn lcentre",
        "wach? bghit n3ref ch7al",  # one word is no question of its own
        "formation en ligne ou sur place",  # "ou" is "or" as often as "où"
        "chno akhbar? fin kayn lcentre",  # small talk, then the question
        "comment tu vas ? c'est quoi jobintech",
        "how are you? where is the centre",
        "3lach la? w imta tbda",  # a reaction to the bot's answer
        "pourquoi pas ? et c'est gratuit",
        "ma3reftch chno ndir? chno homa les formations",  # not knowing what, then the question
        "je sais pas quoi faire ? quelles formations",
        "wach kayn chi wa7ed hna? chno homa les formations",
        "j'ai eu mon bac fin juin et quand commence la formation",  # "fin", the end
        "merci quand meme et comment je m'inscris",
        "",
    ],
)
def test_one_question_is_read_whole(message: str) -> None:
    assert first_question(message) is None


def test_the_cut_is_at_the_first_boundary() -> None:
    tokens: List[str] = "wach fabor w fin kayn w imta".split()
    positions, start = [], 0
    for word in tokens:
        positions.append((start, start + len(word), word))
        start += len(word) + 1
    assert first_question_length(" ".join(tokens), positions) == 2
