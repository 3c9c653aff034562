"""When the model is not sure: ask which of two questions the person meant, or ask to rephrase.

Rasa's ``FallbackClassifier`` (``config.yml``) turns a message into ``nlu_fallback`` when the top
intent's confidence is under its ``threshold``, or the top two are within ``ambiguity_threshold``
of each other; both were chosen on the development sets (``make eval EVAL_ARGS=--calibrate``) to
keep wrong answers rare at a bounded cost in questions back. The ranking it kept then says what
to ask:

- the two intents on top are both questions Tawjih answers, and together they hold most of the
  confidence (``CLARIFY_MIN_SHARE``): a one-tap question with the two as buttons ("Tu veux savoir
  le prix de la formation, ou ce que gagne un junior ?");
- otherwise: ask to rephrase, with examples (``utter_default``).

Pure functions, used by ``action_fallback`` (``actions/conversation.py``) and by ``make eval``
(``bench.eval_nlu``), so the evaluation scores exactly what the assistant does.
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from language.register import DARIJA_ARABIC, DARIJA_LATIN, FRENCH

FALLBACK_INTENT = "nlu_fallback"
# The two intents on top must hold this share of the confidence between them; below it, the model
# is unsure of more than two readings and a two-way question would too often offer neither.
# Chosen with the thresholds on the development sets (bench.eval_nlu --calibrate).
CLARIFY_MIN_SHARE = 0.6

# Each question Tawjih can ask back about: how the question names it (after "Tu veux…"),
# and its button (at most 20 characters: WhatsApp's limit for a reply button's title).
TOPICS: Dict[str, Dict[str, Tuple[str, str]]] = {
    "ask_programmes": {
        FRENCH: ("savoir quelles formations existent", "Les formations"),
        DARIJA_LATIN: ("t3ref les formations li kaynin", "Les formations"),
        DARIJA_ARABIC: ("تعرف التكوينات اللي كاينين", "التكوينات"),
    },
    "ask_programme_details": {
        FRENCH: ("savoir ce qu'est la formation (contenu, durée, diplôme)", "La formation"),
        DARIJA_LATIN: ("t3ref chno hiya la formation (contenu, modda, diplôme)", "Chno hiya formation"),
        DARIJA_ARABIC: ("تعرف شنو هو التكوين (المحتوى، المدة، الديبلوم)", "شنو هو التكوين"),
    },
    "ask_eligibility": {
        FRENCH: ("savoir si tu peux t'inscrire (âge, niveau)", "Suis-je éligible ?"),
        DARIJA_LATIN: ("t3ref wach t9der tsjel (3mr, niveau)", "Wach n9der ndkhol?"),
        DARIJA_ARABIC: ("تعرف واش تقدر تسجل (العمر، المستوى)", "واش نقدر ندخل؟"),
    },
    "ask_centres": {
        FRENCH: ("savoir où sont les centres", "Les centres"),
        DARIJA_LATIN: ("t3ref fin kaynin les centres", "Les centres"),
        DARIJA_ARABIC: ("تعرف فين كاينين المراكز", "المراكز"),
    },
    "ask_sessions": {
        FRENCH: ("savoir quand commence la prochaine session", "Les sessions"),
        DARIJA_LATIN: ("t3ref imta katbda la session jaya", "Les sessions"),
        DARIJA_ARABIC: ("تعرف إمتا كتبدا الدورة الجاية", "الدورات"),
    },
    "how_to_apply": {
        FRENCH: ("savoir comment t'inscrire", "S'inscrire"),
        DARIJA_LATIN: ("t3ref kifach tsjel", "Kifach nsjel"),
        DARIJA_ARABIC: ("تعرف كيفاش تسجل", "كيفاش نسجل"),
    },
    "ask_cost": {
        FRENCH: ("connaître le prix de la formation", "Le prix"),
        DARIJA_LATIN: ("t3ref taman dyal la formation", "Taman"),
        DARIJA_ARABIC: ("تعرف الثمن ديال التكوين", "الثمن"),
    },
    "ask_careers": {
        FRENCH: ("connaître les métiers après et ce que gagne un junior", "Métiers et salaires"),
        DARIJA_LATIN: ("t3ref lkhdma mn b3d w ch7al kaykhalsou", "Lkhdma w lkhlass"),
        DARIJA_ARABIC: ("تعرف الخدمة من بعد وشحال كيخلصو", "الخدمة والخلاص"),
    },
    "request_human": {
        FRENCH: ("parler à un conseiller", "Un conseiller"),
        DARIJA_LATIN: ("thder m3a conseiller", "Conseiller"),
        DARIJA_ARABIC: ("تهضر مع مستشار", "مستشار"),
    },
    "ask_about_data": {
        FRENCH: ("savoir ce que je garde de tes messages", "Tes données"),
        DARIJA_LATIN: ("t3ref chno kan7fed mn les messages dyalk", "Les données dyali"),
        DARIJA_ARABIC: ("تعرف شنو كنحفظ من الميساجات ديالك", "المعطيات ديالي"),
    },
    "request_data_deletion": {
        FRENCH: ("effacer tes messages", "Tout effacer"),
        DARIJA_LATIN: ("tmse7 les messages dyalk", "Mse7 kolchi"),
        DARIJA_ARABIC: ("تمسح الميساجات ديالك", "مسح كلشي"),
    },
}


def ranking_without_fallback(parse: Mapping[str, Any]) -> List[Tuple[str, float]]:
    """The classifier's ranking, best first, without the ``nlu_fallback`` the FallbackClassifier put on top."""
    ranking = parse.get("intent_ranking") or []
    pairs = [(str(r.get("name")), float(r.get("confidence") or 0.0)) for r in ranking if r.get("name")]
    return sorted((pair for pair in pairs if pair[0] != FALLBACK_INTENT), key=lambda pair: -pair[1])


def clarification_between(
    ranking: Sequence[Tuple[str, float]], min_share: float = CLARIFY_MIN_SHARE
) -> Optional[Tuple[str, str]]:
    """The two intents to offer, or None (ask to rephrase). ``ranking`` is best first."""
    if len(ranking) < 2:
        return None
    (first, first_confidence), (second, second_confidence) = ranking[0], ranking[1]
    if first not in TOPICS or second not in TOPICS:
        return None
    if first_confidence + second_confidence < min_share:
        return None
    return first, second


def question_part(intent: str, register: str) -> str:
    return TOPICS[intent].get(register, TOPICS[intent][FRENCH])[0]


def button_title(intent: str, register: str) -> str:
    return TOPICS[intent].get(register, TOPICS[intent][FRENCH])[1]
