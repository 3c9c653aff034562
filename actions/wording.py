"""The few words that actions put inside responses, in each register.

Whole sentences live in ``domain.yml``; this holds only the fragments that depend on data
(units, "to confirm" markers, which name of a programme to show)."""

from __future__ import annotations

from typing import Any, Dict, Optional

from rasa_sdk import Tracker

from language.register import DARIJA_ARABIC, DARIJA_LATIN, FRENCH

MONTHS = {FRENCH: "{n} mois", DARIJA_LATIN: "{n} chhar", DARIJA_ARABIC: "{n} شهور"}
TO_CONFIRM = {
    FRENCH: "à confirmer auprès du centre",
    DARIJA_LATIN: "t2akked mnha m3a l'centre",
    DARIJA_ARABIC: "تأكد منها مع المركز",
}
SAMPLE_NOTE = {
    FRENCH: "(Certaines de ces informations sont des exemples : confirme-les auprès du centre.)",
    DARIJA_LATIN: "(Chi ma3lomat hna ghir amtila: t2akked mnhom m3a l'centre.)",
    DARIJA_ARABIC: "(شي معلومات هنا غير أمثلة: تأكد منهم مع المركز.)",
}


def register_of(tracker: Tracker) -> str:
    register = tracker.get_slot("register")
    return register if register in (FRENCH, DARIJA_LATIN, DARIJA_ARABIC) else FRENCH


def programme_name(programme: Dict[str, Any], register: str) -> str:
    if register == DARIJA_ARABIC and programme.get("name_ar"):
        return str(programme["name_ar"])
    return str(programme.get("name_fr") or programme.get("id") or "")


def value_or_to_confirm(value: Optional[Any], register: str) -> str:
    return str(value) if value not in (None, "", []) else TO_CONFIRM[register]


def duration(months: Optional[int], register: str) -> str:
    return MONTHS[register].format(n=months) if months else TO_CONFIRM[register]


def sample_note(record: Dict[str, Any], register: str) -> str:
    return SAMPLE_NOTE[register] if record.get("sample_fields") else ""
