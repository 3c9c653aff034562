"""Twelve and more multi-turn conversations through the REST channel, each answer checked against the registry's own API."""

from __future__ import annotations

import sqlite3
import uuid
from typing import Any, Dict, List

import pytest
import requests

from tests.e2e.conftest import Stack
from tests.e2e.test_rest_conversation import response_variation, texts

pytestmark = pytest.mark.e2e
RETENTION_DAYS = 90  # the action server's default, TAWJIH_RETENTION_DAYS


class Conversation:
    """One person talking to the running stack; every reply is kept for the assertions."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.sender = f"conv-{uuid.uuid4().hex[:8]}"
        self.replies: List[dict] = []

    def say(self, text: str) -> str:
        self.replies = self.stack.rasa.say(self.sender, text)
        return texts(self.replies)

    def buttons(self) -> List[Dict[str, str]]:
        return [b for m in self.replies for b in m.get("buttons", [])]

    def api(self, path: str, **params: Any) -> Any:
        params.setdefault("limit", 200)
        return requests.get(f"{self.stack.registry.url}/api/v1/{path}", params=params, timeout=5).json()


def welcome(register: str) -> str:
    return response_variation("utter_welcome", register)["text"].format(days=RETENTION_DAYS)


def wording(name: str, register: str, **values: Any) -> str:
    return response_variation(name, register)["text"].format(**values)


def first_line(name: str, register: str) -> str:
    return response_variation(name, register)["text"].split("{")[0].split("\n")[0]


def date(iso: str) -> str:
    return f"{iso[8:10]}/{iso[5:7]}/{iso[:4]}"


def city_named(talk: Conversation, name: str) -> Dict[str, Any]:
    return next(c for c in talk.api("cities")["data"] if c["name"] == name)


def programme(talk: Conversation, programme_id: str) -> Dict[str, Any]:
    return talk.api(f"programmes/{programme_id}")


def stored_events(stack: Stack, sender: str) -> int:
    with sqlite3.connect(stack.tracker_db) as db:
        return int(db.execute("SELECT count(*) FROM events WHERE sender_id = ?", (sender,)).fetchone()[0])


def test_first_contact_says_what_is_kept_and_erasing_it_is_done_when_confirmed(stack: Stack) -> None:
    talk = Conversation(stack)
    reply = talk.say("salam")
    assert reply == welcome("darija_latin")
    assert f"{RETENTION_DAYS} youm" in reply and "machi bnadem" in reply
    talk.say("3ndi 17 3am w ana mn kaza")
    assert talk.say("bghit tmss7o les données dyali") == wording("utter_confirm_data_deletion", "darija_latin")
    assert stored_events(stack, talk.sender) > 0, "asking is not erasing"
    assert talk.say("ah") == wording("utter_data_erased", "darija_latin")
    assert stored_events(stack, talk.sender) == 0, "the whole conversation, age and city included, is erased"
    assert talk.say("salam") == welcome("darija_latin"), "the next message starts afresh"


@pytest.mark.parametrize(
    ("register", "request_text", "answer"),
    [
        ("french", "supprime mes données s'il te plaît", "non"),
        ("darija_latin", "mse7 les données dyali 3afak", "la"),
        ("darija_arabic", "بغيتكم تمسحو المعلومات ديالي", "لا"),
    ],
)
def test_only_a_yes_erases_in_every_register(stack: Stack, register: str, request_text: str, answer: str) -> None:
    talk = Conversation(stack)
    talk.say("bonjour" if register == "french" else "salam")
    asked = talk.say(request_text)
    assert asked == wording("utter_confirm_data_deletion", register)
    assert talk.say(answer) == wording("utter_erasure_declined", register)
    assert stored_events(stack, talk.sender) > 0, "a no erases nothing"


@pytest.mark.parametrize(
    ("register", "question"),
    [
        ("french", "tu gardes mes données ?"),
        ("darija_latin", "chno katdiro b les données dyali?"),
        ("darija_arabic", "شنو كديرو بالمعلومات ديالي؟"),
    ],
)
def test_a_question_about_data_is_answered_and_erases_nothing(stack: Stack, register: str, question: str) -> None:
    talk = Conversation(stack)
    talk.say("bonjour" if register == "french" else "salam")
    reply = talk.say(question)
    assert reply == wording("utter_about_data", register, days=RETENTION_DAYS)
    assert stored_events(stack, talk.sender) > 0


def test_programme_list_then_details_in_french(stack: Stack) -> None:
    talk = Conversation(stack)
    reply = talk.say("Bonjour, quelles formations proposez-vous ?")
    assert reply.startswith(welcome("french"))
    listed = talk.api("programmes")["data"]
    assert [b["title"] for b in talk.buttons()] == [p["name_fr"] for p in listed]
    chosen = listed[2]
    details = talk.say(talk.buttons()[2]["payload"])
    assert details.startswith(chosen["name_fr"])
    assert f"Durée : {chosen['duration_months']} mois" in details and f"Diplôme : {chosen['diploma']}" in details


def test_centres_in_a_city_in_arabizi(stack: Stack) -> None:
    talk = Conversation(stack)
    talk.say("salam")
    reply = talk.say("fin kaynin les centres f fes?")
    assert reply.startswith("Hahoma les centres f Fès")
    expected = talk.api("centres", city="Fès")["data"]
    assert expected and all(c["name"] in reply for c in expected)


def test_a_city_spelled_in_a_way_the_catalogue_does_not_list_is_still_found(stack: Stack) -> None:
    talk = Conversation(stack)
    talk.say("salam")
    reply = talk.say("fin kayn lmarkaz f fass")  # the catalogue lists fes, fez, fas, faas...
    assert reply.startswith("Hahoma les centres f Fès")
    expected = talk.api("centres", city="Fès")["data"]
    assert expected and all(c["name"] in reply for c in expected)


def test_a_city_without_a_centre_gets_the_nearest_in_arabic_script(stack: Stack) -> None:
    talk = Conversation(stack)
    talk.say("السلام عليكم")
    reply = talk.say("واش كاين شي مركز ف تطوان؟")
    assert reply.startswith(f"ماكاينش مركز ف {city_named(talk, 'Tétouan')['name_ar']}")
    tetouan = city_named(talk, "Tétouan")
    nearest = talk.api("centres", near=f"{tetouan['latitude']},{tetouan['longitude']}")["data"][:3]
    positions = [reply.index(c["name"]) for c in nearest]
    assert positions == sorted(positions), "nearest first"
    assert f"بعيد ب {round(nearest[0]['distance_km'])} كم" in reply


def test_sessions_follow_the_programme_from_one_city_to_the_next(stack: Stack) -> None:
    talk = Conversation(stack)
    reply = talk.say("quand commence la prochaine session de jobintech data science à rabat ?")
    expected = talk.api("sessions", programme="jobintech-data-science", city="Rabat")["data"]
    assert "Voici les prochaines sessions (JobInTech — Data science, Rabat)" in reply
    for session in expected[:5]:
        assert f"début le {date(session['start_date'])}" in reply
        assert f"candidature jusqu'au {date(session['application_deadline'])}" in reply
    reply = talk.say("et à agadir ?")
    expected = talk.api("sessions", programme="jobintech-data-science", city="Agadir")["data"]
    assert "(JobInTech — Data science, Agadir)" in reply
    assert all(f"début le {date(s['start_date'])}" in reply for s in expected[:5])
    assert "Rabat)" not in reply.split("\n", 1)[1]


def test_no_session_in_a_city_offers_the_nearest_centre_in_arabizi(stack: Stack) -> None:
    talk = Conversation(stack)
    talk.say("salam")
    reply = talk.say("imta katbda jobintech data science f meknes?")
    assert reply.startswith("Ma kayna ta session mftou7a (JobInTech — Data science, Meknès)")
    meknes = city_named(talk, "Meknès")
    nearest = talk.api(
        "centres", programme="jobintech-data-science", near=f"{meknes['latitude']},{meknes['longitude']}"
    )
    first_listed = reply.split("\n")[1]
    assert nearest["data"][0]["name"] in first_listed


def eligible_programmes(talk: Conversation, age: int, level: str) -> List[str]:
    """The test's own reading of the registry criteria (age range and minimum level)."""
    ranks = {lv["id"]: lv["rank"] for lv in talk.api("education-levels")["data"]}
    names = []
    for p in talk.api("programmes")["data"]:
        rules = p["eligibility"]
        if rules["min_age"] is not None and age < rules["min_age"]:
            continue
        if rules["max_age"] is not None and age > rules["max_age"]:
            continue
        if rules["min_education_level"] and ranks[level] < ranks[rules["min_education_level"]]:
            continue
        names.append(p["name_fr"])
    return names


def test_eligibility_verdict_matches_the_programme_criteria_in_french(stack: Stack) -> None:
    talk = Conversation(stack)
    reply = talk.say("est-ce que je peux m'inscrire à jobintech data science ?")
    assert reply.endswith(wording("utter_ask_age", "french"))
    assert talk.say("j'ai 20 ans") == wording("utter_ask_education_level", "french")
    assert talk.say("bac+2") == wording("utter_ask_home_region", "french")
    reply = talk.say("j'habite à Kénitra")
    target = programme(talk, "jobintech-data-science")
    for condition in target["eligibility"]["other_conditions"]:
        assert f"• {condition}" in reply
    verdict = talk.say("oui")
    rules = target["eligibility"]
    assert f"✅ (rempli) Âge : tu as 20 ans, il faut entre {rules['min_age']} et {rules['max_age']} ans" in verdict
    assert "✅ (rempli) Niveau d'études : Bac+2" in verdict
    assert "✅ (rempli) Centre dans ta région (Rabat-Salé-Kénitra)" in verdict  # Code 212 Kénitra
    assert "tu sembles pouvoir candidater" in verdict
    qualifying = verdict.split("Les formations auxquelles tu peux candidater :\n")[1].split("\nVeux-tu")[0]
    expected = eligible_programmes(talk, 20, "bac+2")
    assert qualifying.splitlines()[0] == f"• {target['name_fr']}", "the programme asked about comes first"
    assert sorted(qualifying.splitlines()) == sorted(f"• {n}" for n in expected)
    sessions = talk.say("oui")
    expected = talk.api("sessions", programme="jobintech-data-science", city="Kénitra")["data"]
    assert "(JobInTech — Data science, Kénitra)" in sessions
    assert all(f"début le {date(s['start_date'])}" in sessions for s in expected[:5])


def test_eligibility_in_arabizi_with_a_question_in_the_middle(stack: Stack) -> None:
    talk = Conversation(stack)
    talk.say("salam")
    assert talk.say("3ndi 19 3am, wach n9der ndkhol l offshoring?") == wording(
        "utter_ask_education_level", "darija_latin"
    )
    target = programme(talk, "digital-offshoring")
    reply = talk.say("wach had l'formation b flouss?")
    fees = "fabor (blach)" if target["cost_mad"] == 0 else f"{target['cost_mad']} dh"
    assert f"taman dyal l'formation: {fees}" in reply
    assert reply.endswith(wording("utter_ask_education_level", "darija_latin")), "the questions resume"
    assert talk.say("ma kamltch lbac") == wording("utter_ask_home_region", "darija_latin")
    talk.say("ana mn oujda")
    verdict = talk.say("ah")
    assert "❌ (ma kaynch) Niveau: Lycée (sans le bac)" in verdict
    assert "✅ (mzyan) L3omr: 3ndek 19 3am" in verdict
    expected = eligible_programmes(talk, 19, "lycee")
    if not expected:
        assert wording("utter_eligibility_none", "darija_latin") in verdict


def test_eligibility_in_arabic_script_for_someone_too_young(stack: Stack) -> None:
    talk = Conversation(stack)
    talk.say("السلام عليكم")
    assert talk.say("واش نقدر نتسجل؟") == wording("utter_ask_age", "darija_arabic")
    assert talk.say("عندي 16 عام") == wording("utter_ask_education_level", "darija_arabic")
    assert talk.say("الإعدادي") == wording("utter_ask_home_region", "darija_arabic")
    reply = talk.say("أنا من مراكش")
    assert eligible_programmes(talk, 16, "college") == []
    assert reply == wording("utter_eligibility_none", "darija_arabic")
    assert talk.buttons()[0]["payload"] == "/request_human"


def test_a_bad_answer_is_asked_again_with_an_example(stack: Stack) -> None:
    talk = Conversation(stack)
    talk.say("bonjour")
    talk.say("suis-je éligible ?")
    reply = talk.say("euh vingt")
    assert reply == wording("utter_invalid_age", "french") + "\n" + wording("utter_ask_age", "french")
    assert talk.say("22") == wording("utter_ask_education_level", "french")


def test_la_safi_ends_the_questions_and_the_next_question_is_answered(stack: Stack) -> None:
    talk = Conversation(stack)
    talk.say("salam")
    talk.say("wach n9der ndkhol?")
    assert talk.say("3ndi 19 3am") == wording("utter_ask_education_level", "darija_latin")
    assert talk.say("la safi ma bghitch nkemmel") == wording("utter_eligibility_stopped", "darija_latin")
    reply = talk.say("fin kaynin les centres f agadir?")
    assert all(c["name"] in reply for c in talk.api("centres", city="Agadir")["data"])


def test_applying_cost_and_careers_from_the_registry(stack: Stack) -> None:
    talk = Conversation(stack)
    target = programme(talk, "jobintech-ia")
    reply = talk.say("comment s'inscrire à jobintech ia ?")
    for number, step in enumerate(target["application_steps"], start=1):
        assert f"{number}. {step}" in reply
    assert all(f"• {d}" in reply for d in target["required_documents"])
    reply = talk.say("est-ce que c'est gratuit ?")
    assert ("gratuite" if target["cost_mad"] == 0 else f"{target['cost_mad']} MAD") in reply
    reply = talk.say("et après la formation, quels métiers je peux faire ?")
    assert all(f"• {career}" in reply for career in target["careers"])


def test_two_misunderstandings_lead_to_an_adviser_offer(stack: Stack) -> None:
    talk = Conversation(stack)
    talk.say("bonjour")
    first = talk.say("zxqv wkpl trrm")
    assert first == wording("utter_default", "french")
    second = talk.say("qqqq zzzz xxxx")
    assert second == wording("utter_fallback_offer_adviser", "french")
    assert [b["payload"] for b in talk.buttons()] == ["/request_human"]
    # This stack has no console: the person is told the advisers cannot be reached, nothing is promised.
    assert talk.say("oui") == wording("utter_handoff_unavailable", "french")


def test_out_of_scope_and_bot_questions_are_answered_honestly(stack: Stack) -> None:
    talk = Conversation(stack)
    talk.say("salam")
    assert talk.say("wach nta robot?") == wording("utter_iamabot", "darija_latin")
    assert talk.say("chkoun rb7 lmatch lbareh?") == wording("utter_out_of_scope", "darija_latin")


def test_a_registry_outage_in_the_middle_of_the_form_gets_a_kind_answer(stack: Stack) -> None:
    talk = Conversation(stack)
    talk.say("salam")
    talk.say("wach n9der ndkhol l jobintech ia?")
    stack.registry.pause()
    try:
        reply = talk.say("3ndi 20 3am")
    finally:
        stack.registry.resume()
    assert reply == wording("utter_registry_unavailable", "darija_latin"), "said once"
    assert "Traceback" not in stack.actions.log_text()
    reply = talk.say("fin kaynin les centres f oujda?")
    assert all(c["name"] in reply for c in talk.api("centres", city="Oujda")["data"])
    assert wording("utter_ask_age", "darija_latin") not in reply, "the form was left, not resumed"
