"""The few words that actions put inside responses, in each register.

Whole sentences live in ``domain.yml``; this holds only the fragments that depend on data
(units, "to confirm" markers, which name of a programme to show)."""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker

from channels.payloads import intent_payload
from language import slot_rules
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
    return slot_rules.clean("register", tracker.get_slot("register")) or FRENCH


def programme_name(programme: Dict[str, Any], register: str) -> str:
    if register == DARIJA_ARABIC and programme.get("name_ar"):
        return str(programme["name_ar"])
    return str(programme.get("name_fr") or programme.get("id") or "")


_LATIN = re.compile(r"[A-Za-zÀ-ÿ]")


def isolate(text: str, register: str) -> str:
    """French words inside an Arabic-script reply, wrapped in Unicode direction isolates
    (FSI ... PDI) so that their punctuation stays in place in a right-to-left line."""
    if register == DARIJA_ARABIC and _LATIN.search(text):
        return f"\u2068{text}\u2069"
    return text


def value_or_to_confirm(value: Optional[Any], register: str) -> str:
    return isolate(str(value), register) if value not in (None, "", []) else TO_CONFIRM[register]


def duration(months: Optional[int], register: str) -> str:
    return MONTHS[register].format(n=months) if months else TO_CONFIRM[register]


def sample_note(record: Dict[str, Any], register: str) -> str:
    return SAMPLE_NOTE[register] if record.get("sample_fields") else ""


# -- centres and sessions -----------------------------------------------------------

DISTANCE = {FRENCH: "à {km} km", DARIJA_LATIN: "b3id b {km} km", DARIJA_ARABIC: "بعيد ب {km} كم"}
SEATS_LEFT = {
    FRENCH: "{n} places restantes",
    DARIJA_LATIN: "ba9in {n} blassa",
    DARIJA_ARABIC: "باقين {n} بلاصة",
}
SESSION_FULL = {FRENCH: "complet", DARIJA_LATIN: "3amra", DARIJA_ARABIC: "عامرة"}
SESSION_CLOSED = {FRENCH: "inscriptions fermées", DARIJA_LATIN: "tsjil tsedd", DARIJA_ARABIC: "التسجيل تسد"}
SESSION_LINE = {
    FRENCH: "• {programme} — {centre} ({city}) : début le {start}, candidature jusqu'au {deadline}, {seats}",
    DARIJA_LATIN: "• {programme} — {centre} ({city}): katbda {start}, akhir ajal l tsjil {deadline}, {seats}",
    DARIJA_ARABIC: "• {programme} — {centre} ({city}): كتبدا {start}، آخر أجل للتسجيل {deadline}، {seats}",
}
NONE_GIVEN = {FRENCH: "non précisé", DARIJA_LATIN: "ma mktoubch", DARIJA_ARABIC: "ماشي مكتوب"}
FREE = {FRENCH: "gratuite", DARIJA_LATIN: "fabor (blach)", DARIJA_ARABIC: "فابور (بلاش)"}
MAD = {FRENCH: "{n} MAD", DARIJA_LATIN: "{n} dh", DARIJA_ARABIC: "{n} درهم"}


def date(value: Optional[str]) -> str:
    """An ISO date as 12/01/2027, the same in every register (digits read the same everywhere)."""
    if not value:
        return ""
    year, month, day = str(value)[:10].split("-")
    return f"{day}/{month}/{year}"


def distance(km: Optional[float], register: str) -> str:
    if km is None:
        return ""
    return DISTANCE[register].format(km=round(km) if km >= 1 else "< 1")


def centre_line(centre: Dict[str, Any], programme_names: Dict[str, str], register: str) -> str:
    names = ", ".join(programme_names.get(pid, pid) for pid in centre.get("programmes") or [])
    where = isolate(str(centre.get("address") or centre.get("city") or ""), register)
    line = f"• {isolate(str(centre.get('name') or ''), register)} ({where})"
    if centre.get("distance_km") is not None:
        line += f" — {distance(centre['distance_km'], register)}"
    return f"{line}\n  {names}" if names else line


def session_line(session: Dict[str, Any], programme_name: str, register: str) -> str:
    if session.get("status") == "full" or not session.get("seats_left"):
        seats = SESSION_FULL[register]
    elif session.get("status") == "closed":
        seats = SESSION_CLOSED[register]
    else:
        seats = SEATS_LEFT[register].format(n=session["seats_left"])
    return SESSION_LINE[register].format(
        programme=programme_name,
        centre=isolate(str(session.get("centre_name") or ""), register),
        city=isolate(str(session.get("city") or ""), register),
        start=date(session.get("start_date")),
        deadline=date(session.get("application_deadline")),
        seats=seats,
    )


def bullet_list(items: List[str], register: str = FRENCH) -> str:
    return "\n".join(f"• {isolate(item, register)}" for item in items)


def numbered_list(items: List[str], register: str = FRENCH) -> str:
    return "\n".join(f"{i}. {isolate(item, register)}" for i, item in enumerate(items, start=1))


def money(amount: Optional[int], register: str) -> str:
    if amount is None:
        return NONE_GIVEN[register]
    return FREE[register] if amount == 0 else MAD[register].format(n=amount)


# -- eligibility ----------------------------------------------------------------------

OUTCOME_MARK = {
    "met": {FRENCH: "✅ (rempli)", DARIJA_LATIN: "✅ (mzyan)", DARIJA_ARABIC: "✅ (مزيان)"},
    "not_met": {FRENCH: "❌ (pas rempli)", DARIJA_LATIN: "❌ (ma kaynch)", DARIJA_ARABIC: "❌ (ماكاينش)"},
    "to_confirm": {FRENCH: "❔ (à confirmer)", DARIJA_LATIN: "❔ (t2akked)", DARIJA_ARABIC: "❔ (خاصو تأكيد)"},
}
CRITERION_TEXT = {
    "age": {
        FRENCH: "Âge : {you}, il faut {rule}",
        DARIJA_LATIN: "L3omr: {you}, khass {rule}",
        DARIJA_ARABIC: "العمر: {you}، خاص {rule}",
    },
    "education_level": {
        FRENCH: "Niveau d'études : {you} ; il faut au moins : {rule}",
        DARIJA_LATIN: "Niveau: {you}; khass 3la l2a9al: {rule}",
        DARIJA_ARABIC: "المستوى: {you}؛ خاص على الأقل: {rule}",
    },
    "place": {
        FRENCH: "Centre dans ta région ({you}) : {rule}",
        DARIJA_LATIN: "Centre f jihtek ({you}): {rule}",
        DARIJA_ARABIC: "مركز ف جهتك ({you}): {rule}",
    },
    "condition": {
        FRENCH: "« {rule} » : {you}",
        DARIJA_LATIN: "« {rule} »: {you}",
        DARIJA_ARABIC: "« {rule} »: {you}",
    },
}
AGE_YOU = {FRENCH: "tu as {n} ans", DARIJA_LATIN: "3ndek {n} 3am", DARIJA_ARABIC: "عندك {n} عام"}
AGE_RANGE = {
    FRENCH: "entre {low} et {high} ans",
    DARIJA_LATIN: "bin {low} w {high} 3am",
    DARIJA_ARABIC: "بين {low} و {high} عام",
}
AGE_MIN = {FRENCH: "au moins {low} ans", DARIJA_LATIN: "3la l2a9al {low} 3am", DARIJA_ARABIC: "على الأقل {low} عام"}
AGE_MAX = {
    FRENCH: "au plus {high} ans",
    DARIJA_LATIN: "ma ykounch ktar mn {high} 3am",
    DARIJA_ARABIC: "ماشي كثر من {high} عام",
}
UNKNOWN = {FRENCH: "non indiqué", DARIJA_LATIN: "ma 3titinich", DARIJA_ARABIC: "ماعطيتينيش"}
PLACE_MET = {
    FRENCH: "oui, un centre de ta région la propose",
    DARIJA_LATIN: "ah, kayn centre f jihtek kayqri had l'formation",
    DARIJA_ARABIC: "اه، كاين مركز ف جهتك كيقري هاد التكوين",
}
PLACE_FAR = {
    FRENCH: "aucun centre de ta région ne la propose ; il faudrait te déplacer",
    DARIJA_LATIN: "ta centre f jihtek ma kayqriha; khassek tmchi l blasa khra",
    DARIJA_ARABIC: "حتى مركز ف جهتك ما كيقريها؛ خاصك تمشي لبلاصة خرا",
}
NEAREST = {FRENCH: " (le plus proche : {c})", DARIJA_LATIN: " (a9rab wa7ed: {c})", DARIJA_ARABIC: " (أقرب واحد: {c})"}
CONDITION_SAID_NO = {FRENCH: "tu m'as dit que non", DARIJA_LATIN: "9olti liya la", DARIJA_ARABIC: "قلتي ليا لا"}
CONDITION_CHECK = {
    FRENCH: "le centre le vérifiera",
    DARIJA_LATIN: "l'centre howa li ghadi ychoufha",
    DARIJA_ARABIC: "المركز هو اللي غادي يشوفها",
}
SESSIONS_BUTTON = {FRENCH: "Sessions : {p}", DARIJA_LATIN: "Sessions: {p}", DARIJA_ARABIC: "الدورات: {p}"}
ADVISER_BUTTON = {
    FRENCH: "Parler à un conseiller",
    DARIJA_LATIN: "Nhder m3a conseiller",
    DARIJA_ARABIC: "نهضر مع مستشار",
}
YES_NO = {FRENCH: ("Oui", "Non"), DARIJA_LATIN: ("Ah", "La"), DARIJA_ARABIC: ("اه", "لا")}


def level_name(level: Dict[str, Any], register: str) -> str:
    return str(level.get("name_ar") if register == DARIJA_ARABIC else level.get("name_fr") or level.get("id"))


def region_name(region: Dict[str, Any], register: str) -> str:
    return str(region.get("name_ar") if register == DARIJA_ARABIC else region.get("name_fr") or region.get("id"))


def _age_rule(low: Optional[int], high: Optional[int], register: str) -> str:
    if low is not None and high is not None:
        return AGE_RANGE[register].format(low=low, high=high)
    if low is not None:
        return AGE_MIN[register].format(low=low)
    return AGE_MAX[register].format(high=high)


def verdict_line(
    verdict: Any, level_names: Dict[str, str], region_names: Dict[str, str], register: str, nearest: str = ""
) -> str:
    """One criterion, its outcome and why: "✅ (rempli) Âge : tu as 19 ans, il faut entre 18 et 35 ans"."""
    facts = verdict.facts
    if verdict.criterion == "age":
        you = AGE_YOU[register].format(n=facts["age"]) if facts["age"] is not None else UNKNOWN[register]
        rule = _age_rule(facts["min"], facts["max"], register)
    elif verdict.criterion == "education_level":
        you = level_names.get(facts["level"] or "", UNKNOWN[register])
        rule = level_names.get(facts["min"], facts["min"])
    elif verdict.criterion == "place":
        you = region_names.get(facts["region"] or "", UNKNOWN[register])
        rule = PLACE_MET[register] if verdict.outcome == "met" else PLACE_FAR[register]
        if nearest:
            rule += NEAREST[register].format(c=nearest)
    else:
        you = CONDITION_SAID_NO[register] if verdict.outcome == "not_met" else CONDITION_CHECK[register]
        rule = facts["condition"]
    text = CRITERION_TEXT[verdict.criterion][register].format(you=you, rule=rule)
    return f"{OUTCOME_MARK[verdict.outcome][register]} {text}"


def sessions_button(programme_name: str, register: str) -> str:
    return SESSIONS_BUTTON[register].format(p=programme_name)


def button(title: str, intent: str, **entities: Any) -> Dict[str, str]:
    """A button that sends ``intent`` with ``entities``, as a person could type it (``/intent{json}``)."""
    return {"title": title, "payload": intent_payload(intent, entities)}


def programme_buttons(programmes: List[Dict[str, Any]], register: str, intent: str) -> List[Dict[str, str]]:
    """A button per programme, asking ``intent`` about it."""
    return [button(programme_name(p, register), intent, programme=p["id"]) for p in programmes]


def adviser_button(register: str) -> Dict[str, str]:
    return button(ADVISER_BUTTON[register], "request_human")


def yes_no_buttons(register: str) -> List[Dict[str, str]]:
    yes, no = YES_NO[register]
    return [button(yes, "affirm"), button(no, "deny")]


NEXT_STEPS = {
    FRENCH: (
        ("Les centres", "ask_centres"),
        ("Les sessions", "ask_sessions"),
        ("Suis-je éligible ?", "ask_eligibility"),
    ),
    DARIJA_LATIN: (
        ("Les centres", "ask_centres"),
        ("Les sessions", "ask_sessions"),
        ("Wach n9der ndkhol?", "ask_eligibility"),
    ),
    DARIJA_ARABIC: (("المراكز", "ask_centres"), ("الدورات", "ask_sessions"), ("واش نقدر ندخل؟", "ask_eligibility")),
}


def next_step_buttons(register: str) -> List[Dict[str, str]]:
    return [button(title, intent) for title, intent in NEXT_STEPS[register]]
