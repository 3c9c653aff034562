"""Centres, sessions, applying, cost, careers and the conversation turns, against a real registry."""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Tuple

import pytest
import requests
import yaml
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.centres import ActionCentresNearLocation, ActionListCentres
from actions.conversation import ActionAcceptOffer, ActionAcknowledgeInform, ActionFallback, ActionWelcome
from actions.eligibility import ActionEligibilityVerdict, ValidateEligibilityForm
from actions.programme_facts import ActionCareers, ActionCost, ActionHowToApply
from actions.registry_client import reset_registry_client
from actions.sessions import SHOWN_AT_MOST, ActionListSessions
from tests.actions.turns import turn
from tests.support.processes import ROOT, RegistryProcess, free_port


def api(registry: RegistryProcess, path: str, **params: Any) -> Any:
    return requests.get(f"{registry.url}/api/v1/{path}", params=params, timeout=5).json()


async def run(action: Any, tracker: Any) -> tuple:
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker, {})
    return events, dispatcher.messages


CITY_FES = [{"entity": "city", "value": "Fès"}]


async def test_centres_in_a_city_are_the_registrys(registry_env: RegistryProcess) -> None:
    events, [message] = await run(
        ActionListCentres(), turn("fin kaynin les centres f fes", "ask_centres", "darija_latin", CITY_FES)
    )
    assert message["response"] == "utter_centres_in_place"
    expected = api(registry_env, "centres", city="Fès")["data"]
    assert expected and all(c["name"] in message["centre_lines"] for c in expected)
    assert SlotSet("city", "Fès") in events and SlotSet("region", None) in events


async def test_a_city_without_a_centre_gets_the_nearest_with_their_distance(registry_env: RegistryProcess) -> None:
    tetouan = [{"entity": "city", "value": "Tétouan"}]
    _, [message] = await run(ActionListCentres(), turn("centres à tétouan ?", "ask_centres", entities=tetouan))
    assert message["response"] == "utter_centres_nearest" and message["place"] == "Tétouan"
    city = next(c for c in api(registry_env, "cities", limit=200)["data"] if c["name"] == "Tétouan")
    nearest = api(registry_env, "centres", near=f"{city['latitude']},{city['longitude']}")["data"][:3]
    lines = [line for line in message["centre_lines"].splitlines() if line.startswith("•")]
    assert [line.split(" (")[0] for line in lines] == [f"• {c['name']}" for c in nearest]
    assert f"à {round(nearest[0]['distance_km'])} km" in lines[0]


async def test_centres_of_a_region(registry_env: RegistryProcess) -> None:
    region = [{"entity": "region", "value": "souss-massa"}]
    _, [message] = await run(ActionListCentres(), turn("les centres de souss massa", "ask_centres", entities=region))
    expected = api(registry_env, "centres", region="souss-massa")["data"]
    assert message["response"] == "utter_centres_in_place"
    assert all(c["name"] in message["centre_lines"] for c in expected)


async def test_no_place_known_asks_for_the_city(registry_env: RegistryProcess) -> None:
    _, [message] = await run(ActionListCentres(), turn("فين كاينين المراكز", "ask_centres", "darija_arabic"))
    assert message["response"] == "utter_ask_city_for_centres"


def session_starts(lines: str) -> List[str]:
    return [line for line in lines.splitlines() if line.startswith("•")]


async def test_sessions_for_the_programme_and_city_in_focus(registry_env: RegistryProcess) -> None:
    slots = {"programme": "jobintech-ia", "city": "Rabat"}
    _, [message] = await run(ActionListSessions(), turn("imta katbda?", "ask_sessions", "darija_latin", slots=slots))
    expected = api(registry_env, "sessions", programme="jobintech-ia", city="Rabat")["data"]
    assert message["response"] == "utter_sessions_list"
    shown = session_starts(message["session_lines"])
    assert len(shown) == min(len(expected), SHOWN_AT_MOST)
    for line, session in zip(shown, expected[:SHOWN_AT_MOST], strict=True):
        day, month, year = session["start_date"][8:10], session["start_date"][5:7], session["start_date"][:4]
        assert f"katbda {day}/{month}/{year}" in line and session["centre_name"] in line


async def test_no_session_in_the_city_offers_the_nearest_ones(registry_env: RegistryProcess) -> None:
    slots = {"programme": "jobintech-data-science"}
    tracker = turn("sessions à Fès ?", "ask_sessions", entities=CITY_FES, slots=slots)
    _, [message] = await run(ActionListSessions(), tracker)
    assert message["response"] == "utter_sessions_alternatives"
    fes = next(c for c in api(registry_env, "cities", limit=200)["data"] if c["name"] == "Fès")
    nearest = api(
        registry_env, "centres", programme="jobintech-data-science", near=f"{fes['latitude']},{fes['longitude']}"
    )
    assert nearest["data"][0]["name"] in session_starts(message["session_lines"])[0]


async def test_when_nothing_is_open_say_so_and_offer_an_adviser(own_registry_env: RegistryProcess) -> None:
    for session in api(own_registry_env, "sessions", programme="jobintech-ia", limit=200)["data"]:
        response = requests.patch(
            f"{own_registry_env.url}/api/v1/sessions/{session['id']}",
            json={"status": "closed"},
            headers=own_registry_env.staff_headers(),
            timeout=5,
        )
        assert response.status_code == 200
    _, [message] = await run(
        ActionListSessions(), turn("sessions ?", "ask_sessions", slots={"programme": "jobintech-ia"})
    )
    assert message["response"] == "utter_sessions_none"
    assert "JobInTech — Intelligence artificielle" in message["scope"]


async def test_apply_cost_and_careers_come_from_the_programme_record(registry_env: RegistryProcess) -> None:
    programme = api(registry_env, "programmes/digital-offshoring")
    tracker = turn("kifach nsjjel", "how_to_apply", "darija_latin", slots={"programme": "digital-offshoring"})
    _, [apply] = await run(ActionHowToApply(), tracker)
    assert apply["steps"].splitlines() == [f"{i}. {s}" for i, s in enumerate(programme["application_steps"], 1)]
    assert apply["documents"].splitlines() == [f"• {d}" for d in programme["required_documents"]]
    _, [cost] = await run(ActionCost(), tracker)
    assert cost["fees"] == ("fabor (blach)" if programme["cost_mad"] == 0 else f"{programme['cost_mad']} dh")
    _, [careers] = await run(ActionCareers(), tracker)
    assert careers["careers"].splitlines() == [f"• {c}" for c in programme["careers"]]


async def test_nothing_in_the_registry_means_saying_so_and_offering_an_adviser(
    own_registry_env: RegistryProcess,
) -> None:
    response = requests.patch(
        f"{own_registry_env.url}/api/v1/programmes/jobintech-ia",
        json={"careers": []},
        headers=own_registry_env.staff_headers(),
        timeout=5,
    )
    assert response.status_code == 200
    _, [message] = await run(ActionCareers(), turn("débouchés ?", "ask_careers", slots={"programme": "jobintech-ia"}))
    assert message["response"] == "utter_no_information"
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    for variation in domain["responses"]["utter_no_information"]:  # every register offers the adviser
        assert [b["payload"] for b in variation["buttons"]] == ["/request_human"]


async def test_a_fact_question_without_a_programme_asks_which_one(registry_env: RegistryProcess) -> None:
    events, [message] = await run(ActionCost(), turn("c'est gratuit ?", "ask_cost"))
    assert events == [SlotSet("programme", None)]
    assert message["response"] == "utter_ask_which_programme"
    assert message["buttons"][0]["payload"].startswith("/ask_cost{")


def fallback_events(count: int) -> List[Dict[str, Any]]:
    miss = {"event": "user", "text": "xx", "parse_data": {"intent": {"name": "nlu_fallback"}}}
    return [miss, {"event": "bot", "text": "?"}] * count


async def test_second_miss_in_a_row_offers_an_adviser() -> None:
    _, [first] = await run(ActionFallback(), turn("xx", "nlu_fallback"))
    assert first["response"] == "utter_default"
    events, [second] = await run(ActionFallback(), turn("yy", "nlu_fallback", events=fallback_events(1)))
    assert second["response"] == "utter_fallback_offer_adviser" and SlotSet("offer", "human") in events
    understood = [{"event": "user", "text": "salam", "parse_data": {"intent": {"name": "greet"}}}]
    _, [again] = await run(ActionFallback(), turn("zz", "nlu_fallback", events=fallback_events(1) + understood))
    assert again["response"] == "utter_default"


@pytest.mark.parametrize(
    ("register", "wording"),
    [
        ("french", ("connaître le prix de la formation", "connaître les métiers après et ce que gagne un junior")),
        ("darija_latin", ("t3ref taman dyal la formation", "t3ref lkhdma mn b3d w ch7al kaykhalsou")),
        ("darija_arabic", ("تعرف الثمن ديال التكوين", "تعرف الخدمة من بعد وشحال كيخلصو")),
    ],
)
async def test_unsure_between_two_questions_asks_which_one_with_a_button_each(
    register: str, wording: Tuple[str, str]
) -> None:
    tracker = turn("ch7al", "nlu_fallback", register, ranking=[("ask_cost", 0.41), ("ask_careers", 0.37)])
    events, [message] = await run(ActionFallback(), tracker)
    assert events == []
    assert message["response"] == "utter_clarify"
    assert (message["first"], message["second"]) == wording
    assert [b["payload"] for b in message["buttons"]] == ["/ask_cost", "/ask_careers"]
    assert all(len(b["title"]) <= 20 for b in message["buttons"])  # WhatsApp's limit for a reply button


@pytest.mark.parametrize(
    "ranking",
    [
        [("ask_cost", 0.35), ("out_of_scope", 0.33)],  # one reading is not a question Tawjih answers
        [("ask_cost", 0.25), ("ask_careers", 0.2), ("ask_sessions", 0.2)],  # unsure of more than two
        [("greet", 0.4), ("ask_programmes", 0.38)],
    ],
)
async def test_unsure_of_more_than_two_in_scope_readings_asks_to_rephrase(ranking: List[Tuple[str, float]]) -> None:
    _, [message] = await run(ActionFallback(), turn("bghit chi haja", "nlu_fallback", ranking=ranking))
    assert message["response"] == "utter_default"


async def test_yes_to_a_sessions_offer_lists_the_sessions(registry_env: RegistryProcess) -> None:
    slots = {"offer": "sessions", "programme": "digital-offshoring", "city": "Agadir"}
    events, [message] = await run(ActionAcceptOffer(), turn("oui", "affirm", slots=slots))
    assert message["response"] == "utter_sessions_list" and "Agadir" in message["session_lines"]
    assert SlotSet("offer", None) in events


async def test_the_welcome_states_the_retention_period(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TAWJIH_RETENTION_DAYS", "30")
    _, [message] = await run(ActionWelcome(), turn("salam", "greet", "darija_latin"))
    assert message["response"] == "utter_welcome" and message["days"] == 30


async def test_a_city_said_right_after_sessions_lists_the_sessions_there(registry_env: RegistryProcess) -> None:
    before = [
        {"event": "user", "text": "sessions jobintech ia à rabat", "parse_data": {"intent": {"name": "ask_sessions"}}},
        {"event": "action", "name": "action_list_sessions"},
        {"event": "bot", "text": "Voici les prochaines sessions"},
        {"event": "action", "name": "action_listen"},
    ]
    agadir = [{"entity": "city", "value": "Agadir"}]
    tracker = turn("et à agadir ?", "inform", entities=agadir, slots={"programme": "jobintech-ia"}, events=before)
    events, [message] = await run(ActionAcknowledgeInform(), tracker)
    assert message["response"] == "utter_sessions_list" and "Agadir" in message["scope"]
    assert SlotSet("city", "Agadir") in events
    _, [plain] = await run(ActionAcknowledgeInform(), turn("et à agadir ?", "inform", entities=agadir))
    assert plain["response"] == "utter_inform_noted"


@pytest.mark.parametrize(
    "action, intent, slots",
    [
        (ActionListCentres(), "ask_centres", {"city": "Fès"}),
        (ActionListSessions(), "ask_sessions", {"programme": "jobintech-ia"}),
        (ActionHowToApply(), "how_to_apply", {"programme": "jobintech-ia"}),
        (ActionCost(), "ask_cost", {"programme": "jobintech-ia"}),
        (ActionCareers(), "ask_careers", {"programme": "jobintech-ia"}),
        (ActionEligibilityVerdict(), "affirm", {"age": 20, "education_level": "bac", "home_region": "oriental"}),
    ],
    ids=lambda value: value.name() if hasattr(value, "name") else None,
)
async def test_registry_down_means_a_kind_answer_in_the_persons_register(
    action: Any, intent: str, slots: Dict[str, Any], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("REGISTRY_URL", f"http://127.0.0.1:{free_port()}")
    reset_registry_client()
    tracker = turn("wach kayn chi haja f wjda? 0612345678", intent, "darija_latin", slots=slots)
    with caplog.at_level(logging.DEBUG):
        _, messages = await run(action, tracker)
    reset_registry_client()
    assert [m["response"] for m in messages] == ["utter_registry_unavailable"]
    assert "0612345678" not in caplog.text and "Traceback" not in caplog.text


async def test_the_form_leaves_kindly_when_the_registry_is_down(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGISTRY_URL", f"http://127.0.0.1:{free_port()}")
    reset_registry_client()
    slots = {"requested_slot": "education_level", "programme": "jobintech-ia"}  # "x" is no id: the rules refuse it
    tracker = turn("3ndi lbac", "inform", "darija_latin", slots=slots)
    dispatcher = CollectingDispatcher()
    events = await ValidateEligibilityForm().run(dispatcher, tracker, {"slots": {}, "forms": {}})
    reset_registry_client()
    assert [m["response"] for m in dispatcher.messages] == ["utter_registry_unavailable"]
    assert events == [SlotSet("requested_slot", None)]


async def test_a_shared_location_gets_the_registrys_nearest_centres(registry_env: RegistryProcess) -> None:
    point = [{"entity": "latitude", "value": 30.42}, {"entity": "longitude", "value": -9.6}]
    _, [message] = await run(ActionCentresNearLocation(), turn("/share_location", "share_location", entities=point))
    nearest = api(registry_env, "centres", near="30.42,-9.6")["data"][:3]
    lines = [line for line in message["centre_lines"].splitlines() if line.startswith("•")]
    assert [line.split(" (")[0] for line in lines] == [f"• {c['name']}" for c in nearest]


@pytest.mark.parametrize("latitude, longitude", [("nan", "0"), (91, 0), (0, 181), ("x", "y"), (None, None)])
async def test_an_impossible_location_asks_for_the_city(
    registry_env: RegistryProcess, latitude: Any, longitude: Any
) -> None:
    point = [{"entity": "latitude", "value": latitude}, {"entity": "longitude", "value": longitude}]
    _, [message] = await run(ActionCentresNearLocation(), turn("/share_location", "share_location", entities=point))
    assert message["response"] == "utter_ask_city_for_centres"


async def test_a_place_the_nlu_was_unsure_about_still_follows_up_a_list(registry_env: RegistryProcess) -> None:
    before = [
        {"event": "user", "text": "centres à fès", "parse_data": {"intent": {"name": "ask_centres"}}},
        {"event": "action", "name": "action_list_centres"},
        {"event": "action", "name": "action_listen"},
    ]
    tracker = turn("w agadir?", "nlu_fallback", "darija_latin", [{"entity": "city", "value": "Agadir"}], events=before)
    _, [message] = await run(ActionFallback(), tracker)
    assert message["response"] == "utter_centres_in_place" and message["place"] == "Agadir"


@pytest.mark.parametrize(
    ("text", "register", "place"),
    [
        ("kenitra", "darija_latin", {"entity": "city", "value": "Kénitra", "start": 0, "end": 7}),
        ("f Agadir ?", "darija_latin", {"entity": "city", "value": "Agadir", "start": 2, "end": 8}),
        ("الرباط", "darija_arabic", {"entity": "city", "value": "Rabat", "start": 0, "end": 6}),
        ("Oriental", "french", {"entity": "region", "value": "oriental", "start": 0, "end": 8}),
    ],
)
async def test_a_place_said_alone_is_noted_even_when_the_classifier_was_unsure(
    text: str, register: str, place: Dict[str, Any]
) -> None:
    _, [message] = await run(ActionFallback(), turn(text, "nlu_fallback", register, [place]))
    assert message["response"] == "utter_inform_noted" and message["buttons"]
    said_place = {"text": text, "intent": {"name": "nlu_fallback"}, "entities": [place]}
    before = [{"event": "user", "text": text, "parse_data": said_place}, {"event": "bot", "text": "?"}]
    _, [after_place] = await run(ActionFallback(), turn("xx", "nlu_fallback", register, events=before))
    assert after_place["response"] == "utter_default"  # the place was not a miss: no adviser offer yet


async def test_a_place_inside_a_question_is_still_a_miss_to_rephrase() -> None:
    text = "kifach ljaw f rabat"
    place = {"entity": "city", "value": "Rabat", "start": text.index("rabat"), "end": len(text)}
    _, [message] = await run(ActionFallback(), turn(text, "nlu_fallback", "darija_latin", [place]))
    assert message["response"] == "utter_default"
