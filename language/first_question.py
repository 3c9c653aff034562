"""Where a message's first question ends, when it asks two.

"wach fabor wla la w fin kayn lcentre", "wach khass lbac? w ch7al taman": a young person often asks
two things at once. The classifier sees words, not their order, so the second question pulls the
answer its way; Tawjih answers the first (the intent contract labels such a message by its first
question) and the person can ask the second next. The intent is read from the words up to the end
of the first question; entities (a city named in the second half) are still read from all of them.

A first question ends at a "?" with more words after it, or before "w / o / et / and / و" followed
by a question word. It counts only if it holds a question word and at least two words, and is no
greeting ("ach khbarek? …", "labas? …": a greeting glued to a question is labelled by the question).
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
GREETING_WORDS = frozenset(
    "salam labas khbar khbarek khbarkom kidayr kidayra cv va bonjour salut bonsoir hello hi"
    " لاباس خبار خبارك كيداير السلام سلام".split()
)

# (start, end, normalised word) of each token, as the tokenizer and the normaliser left it.
Token = Tuple[int, int, str]


def _asks(words: Sequence[str]) -> bool:
    return len(words) >= 2 and any(w in QUESTION_WORDS for w in words) and not any(w in GREETING_WORDS for w in words)


def first_question_length(text: str, tokens: Sequence[Token]) -> Optional[int]:
    """How many of ``tokens`` the first of two questions in ``text`` spans; None for one question."""
    words = [word for _, _, word in tokens]
    for index in range(1, len(tokens)):
        between = text[tokens[index - 1][1] : tokens[index][0]]
        if "?" in between or "؟" in between:
            cut = index
        elif words[index] in JOINERS and index + 1 < len(tokens) and words[index + 1] in QUESTION_WORDS:
            cut = index
        else:
            continue
        return cut if _asks(words[:cut]) else None
    return None
