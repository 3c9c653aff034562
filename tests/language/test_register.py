"""Each message's register decides the language of the reply."""

from __future__ import annotations

import pytest

from language.register import DARIJA_ARABIC, DARIJA_LATIN, FRENCH, detect_register


@pytest.mark.parametrize(
    ("text", "register"),
    [
        ("Quelles sont les conditions pour s'inscrire à JobInTech ?", FRENCH),
        ("quelles formations proposez-vous ?", FRENCH),
        ("je veux la fin de la formation", FRENCH),
        ("Bonjour", FRENCH),
        ("j'ai bac+2", FRENCH),
        ("oui", FRENCH),
        ("wach khassni lbac bach nqra f code 212?", DARIJA_LATIN),
        ("3ndi 19 3am", DARIJA_LATIN),
        ("salaaam", DARIJA_LATIN),
        ("bghit nsjl f la formation dyal l'IA, imta katbda?", DARIJA_LATIN),
        ("واش خاص الباك باش نتسجل؟", DARIJA_ARABIC),
        ("بغيت formation ديال IA", DARIJA_ARABIC),
        ("\u200fسلام\u200f", DARIJA_ARABIC),
    ],
)
def test_detects_the_register(text: str, register: str) -> None:
    assert detect_register(text) == register


@pytest.mark.parametrize("text", ["", "   ", "👍", "🙏🙏", "212", "?!", "\x00\x07"])
def test_no_letters_means_no_register_so_the_conversation_keeps_its_own(text: str) -> None:
    assert detect_register(text) is None


@pytest.mark.parametrize("text", ["ah", "ok", "merci", "la", "Agadir", "bac+2", "data science", "19"])
def test_answers_both_registers_type_keep_the_conversations_register(text: str) -> None:
    """A Darija speaker's "ah" must not switch the replies to French."""
    assert detect_register(text) is None


@pytest.mark.parametrize(
    "text", ["human please", "are you a bot?", "delete my data pls", "how much", "where", "r u a robot", "thx"]
)
def test_english_says_nothing_of_the_register_so_replies_stay_in_the_conversations(text: str) -> None:
    """English is not a reply register: a Darija conversation's "human please" is answered in Darija."""
    assert detect_register(text) is None


@pytest.mark.parametrize(
    ("text", "register"),
    [
        ("how much la formation ?", FRENCH),
        ("how much kat5alles", DARIJA_LATIN),
        ("human please بغيت نهضر", DARIJA_ARABIC),
    ],
)
def test_english_mixed_with_french_or_darija_takes_their_register(text: str, register: str) -> None:
    assert detect_register(text) == register


def test_long_input_is_handled() -> None:
    assert detect_register("formation " * 5000) == FRENCH
