"""Where a message's first question ends, when it asks two.

"wach fabor wla la w fin kayn lcentre", "wach khass lbac? w ch7al taman": a young person often asks
two things at once. The classifier sees words, not their order, so the second question pulls the
answer its way; Tawjih answers the first (the intent contract labels such a message by its first
question) and the person can ask the second next. The intent is read from the words up to the end
of the first question; entities (a city named in the second half) are still read from all of them.

A first question ends at a "?" with more words after it, or before "w / o / et / and / و" followed
by a question word. It counts only if it holds a question word used as one and at least two words,
and is no small talk ("chno akhbar? …", "comment tu vas ? …": a greeting glued to a question is
labelled by the question), no reaction to the bot ("3lach la? …", "pourquoi pas ? …") and no "I don't
know what…" ("ma3reftch chno ndir? …"). When in doubt the whole message is read, as before.
"""

from __future__ import annotations

from typing import Optional, Sequence, Tuple

# Normalised forms (``language.normaliser``): "ch7al" is "chhal", "achno" is "chno", "إمتى" is "امتى".
# Not "ou": French "où" and "ou" (or) are one word once accents go.
QUESTION_WORDS = frozenset(
    "fin imta chhal wach kifach chno 3lach chkon comment combien quand quoi quel quelle quels quelles pourquoi"
    " how where when what which why"
    " فين امتى شحال بشحال واش كيفاش شنو اشنو علاش شكون".split()
)
JOINERS = frozenset("w o et and و".split())
QUESTION_MARKS = ("?", "؟", "？")
# A first part with one of these is small talk, a reaction or a doubt, not a question of its own.
NOT_A_QUESTION_WORDS = frozenset(
    "salam labas khbar khbarek khbarkom akhbar akhbarek takhbar jdid kidayr kidayra cv va vas allez neuf"
    " bonjour salut bonsoir hello hi you up bsa7 bsah hna qqn quelqu someone anyone sais ma3reftch ma3rftch"
    " لاباس خبار خبارك الاخبار اخبار كيداير السلام سلام عرفتش ماعرفتش".split()
)
NOT_A_QUESTION_PHRASES = frozenset(("3lach la", "3lach lla", "3lach la2", "pourquoi pas", "why not"))
# French words that are question words only in some places: "fin juin" (end), "quand même", "n'importe quel".
_MONTHS = frozenset(
    "janvier fevrier mars avril mai juin juillet aout septembre octobre novembre decembre annee mois semaine".split()
)

# (start, end, normalised word) of each token, as the tokenizer and the normaliser left it.
Token = Tuple[int, int, str]


def _is_question_word(words: Sequence[str], index: int) -> bool:
    word = words[index]
    after = words[index + 1] if index + 1 < len(words) else ""
    before = words[index - 1] if index > 0 else ""
    if word == "fin" and (after in _MONTHS or after in ("de", "d", "du")):
        return False
    if word == "quand" and after in ("meme", "mm"):
        return False
    if word in ("quel", "quelle", "quels", "quelles") and before == "importe":
        return False
    return word in QUESTION_WORDS


def _asks(words: Sequence[str]) -> bool:
    return (
        len(words) >= 2
        and any(_is_question_word(words, index) for index in range(len(words)))
        and not any(w in NOT_A_QUESTION_WORDS for w in words)
        and " ".join(words) not in NOT_A_QUESTION_PHRASES
    )


def first_question_length(text: str, tokens: Sequence[Token]) -> Optional[int]:
    """How many of ``tokens`` the first of two questions in ``text`` spans; None for one question."""
    words = [word for _, _, word in tokens]
    for index in range(1, len(tokens)):
        between = text[tokens[index - 1][1] : tokens[index][0]]
        if any(mark in between for mark in QUESTION_MARKS):
            cut = index
        elif words[index] in JOINERS and index + 1 < len(tokens) and _is_question_word(words, index + 1):
            cut = index
        else:
            continue
        return cut if _asks(words[:cut]) else None
    return None
