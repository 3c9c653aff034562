"""Erasure only after a clear yes to the confirmation question; a question about data is answered."""

from __future__ import annotations

from typing import Any, Dict, List

import pytest
import yaml
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import ActionAcceptOffer, ActionDeclineOffer
from actions.data_rights import (
    ActionAboutData,
    ActionAskErasureConfirmation,
    ActionEraseConversation,
    erasure_just_offered,
)
from tests.actions.turns import turn
from tests.support.processes import ROOT

ERASED = SlotSet("erasure_confirmed", True)
REGISTERS = ("darija_latin", "darija_arabic", None)  # None: the French variation, without a condition


async def run(action: Any, tracker: Any) -> tuple:
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker, {})
    return events, dispatcher.messages


def said(text: str, intent: str) -> Dict[str, Any]:
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}}


def action(name: str) -> Dict[str, Any]:
    return {"event": "action", "name": name}


ASKED: List[Dict[str, Any]] = [
    action("action_listen"),
    said("supprime mes données", "request_data_deletion"),
    action("action_ask_erasure_confirmation"),
    action("action_listen"),
]
# The same question asked in the middle of the pre-check, which pauses there.
ASKED_IN_PRECHECK: List[Dict[str, Any]] = [
    said("mse7 les données dyali", "request_data_deletion"),
    action("action_ask_erasure_confirmation"),
    action("action_deactivate_loop"),
    action("action_listen"),
]
THEN_SOMETHING_ELSE: List[Dict[str, Any]] = [
    *ASKED,
    said("quelles formations ?", "ask_programmes"),
    action("action_list_programmes"),
    action("action_listen"),
]


def variation(response: str, register: Any) -> Dict[str, Any]:
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    for candidate in domain["responses"][response]:
        condition = candidate.get("condition") or []
        if (condition[0]["value"] if condition else None) == register:
            return candidate
    raise AssertionError(f"{response} has no variation for {register}")


def test_a_yes_confirms_only_right_after_the_question() -> None:
    assert erasure_just_offered([*ASKED, said("oui", "affirm")])
    assert erasure_just_offered([*ASKED_IN_PRECHECK, said("ah", "affirm")])
    assert not erasure_just_offered([*THEN_SOMETHING_ELSE, said("oui", "affirm")])
    assert not erasure_just_offered([said("oui", "affirm")])
    assert not erasure_just_offered([])


@pytest.mark.parametrize("register", REGISTERS)
def test_the_confirmation_says_what_is_erased_with_yes_and_no_buttons(register: Any) -> None:
    confirm = variation("utter_confirm_data_deletion", register)
    assert [b["payload"] for b in confirm["buttons"]] == ["/confirm_data_deletion", "/deny"]
    assert all(len(b["title"]) <= 20 for b in confirm["buttons"])  # WhatsApp's reply-button limit
    for response in ("utter_about_data", "utter_data_erased", "utter_erasure_declined"):
        variation(response, register)
    assert "{days}" in variation("utter_about_data", register)["text"]


async def test_a_request_only_asks_for_confirmation() -> None:
    events, [message] = await run(ActionAskErasureConfirmation(), turn("supprime mes données", "request_data_deletion"))
    assert message["response"] == "utter_confirm_data_deletion"
    assert events == [SlotSet("offer", "erase")] and ERASED not in events


async def test_the_yes_button_erases() -> None:
    events, [message] = await run(ActionEraseConversation(), turn("/confirm_data_deletion", "confirm_data_deletion"))
    assert message["response"] == "utter_data_erased" and ERASED in events


@pytest.mark.parametrize("yes", ["oui", "ah", "iyeh", "واخا", "اه"])
async def test_a_typed_yes_to_the_question_erases(yes: str) -> None:
    tracker = turn(yes, "affirm", slots={"offer": "erase"}, events=ASKED)
    events, [message] = await run(ActionAcceptOffer(), tracker)
    assert message["response"] == "utter_data_erased" and ERASED in events


async def test_a_typed_yes_in_the_precheck_erases() -> None:
    tracker = turn("ah", "affirm", "darija_latin", slots={"offer": "erase"}, events=ASKED_IN_PRECHECK)
    events, [message] = await run(ActionAcceptOffer(), tracker)
    assert message["response"] == "utter_data_erased" and ERASED in events


async def test_a_yes_after_talking_about_something_else_erases_nothing() -> None:
    tracker = turn("oui", "affirm", slots={"offer": "erase"}, events=THEN_SOMETHING_ELSE)
    events, [message] = await run(ActionAcceptOffer(), tracker)
    assert message["response"] == "utter_what_else"
    assert ERASED not in events and SlotSet("offer", None) in events


async def test_a_no_erases_nothing_and_says_so() -> None:
    tracker = turn("la", "deny", "darija_latin", slots={"offer": "erase"}, events=ASKED)
    events, [message] = await run(ActionDeclineOffer(), tracker)
    assert message["response"] == "utter_erasure_declined" and not message["buttons"]
    assert ERASED not in events and SlotSet("offer", None) in events
    _, [other] = await run(ActionDeclineOffer(), turn("non", "deny", slots={"offer": "human"}))
    assert other["response"] == "utter_offer_declined"


async def test_a_question_about_data_is_answered_with_the_retention_period(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TAWJIH_RETENTION_DAYS", "30")
    events, [message] = await run(ActionAboutData(), turn("tu gardes quoi ?", "ask_about_data"))
    assert message["response"] == "utter_about_data" and message["days"] == 30 and events == []


@pytest.mark.parametrize("register", ["french", "darija_latin", "darija_arabic"])
async def test_a_no_in_the_precheck_offers_to_go_on_with_its_questions(register: str) -> None:
    tracker = turn("non", "deny", register, slots={"offer": "erase", "age": 19}, events=ASKED_IN_PRECHECK)
    events, [message] = await run(ActionDeclineOffer(), tracker)
    assert message["response"] == "utter_erasure_declined" and ERASED not in events
    [button] = message["buttons"]
    assert button["payload"] == "/ask_eligibility" and len(button["title"]) <= 20
