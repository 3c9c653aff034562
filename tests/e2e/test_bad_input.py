"""Whatever a person types, they get a kind answer; nothing crashes, hangs or is lost."""

from __future__ import annotations

import uuid

import pytest
import requests

from tests.e2e.conftest import Stack
from tests.e2e.test_rest_conversation import response_variation, texts, welcome

pytestmark = pytest.mark.e2e


def sender() -> str:
    return f"bad-{uuid.uuid4().hex[:8]}"


@pytest.mark.parametrize(
    "message",
    ["", "   ", "👍", "🙏🙏🙏", "?!?!", "\x00\x07\x1b", "a" * 5000, "formation " * 600, "ثثثثثثثثثثثثثثثث xxxx"],
    ids=["empty", "spaces", "emoji", "emojis", "punctuation", "control", "5000-chars", "long-words", "noise"],
)
def test_odd_messages_get_an_answer(stack: Stack, message: str) -> None:
    replies = stack.rasa.say(sender(), message)
    assert texts(replies).strip(), f"no answer to {message[:20]!r}"


def test_direction_marks_and_control_characters_do_not_hide_the_meaning(stack: Stack) -> None:
    replies = stack.rasa.say(sender(), "\u200fالسلام عليكم\u200f\x00")
    assert texts(replies) == welcome("darija_arabic")


def test_a_typed_slash_command_acts_like_its_button_and_unknown_entities_are_ignored(stack: Stack) -> None:
    replies = stack.rasa.say(sender(), '/request_human{"x":1}')
    # This stack has no console: the request cannot be queued, and that is what the person is told.
    unavailable = response_variation("utter_handoff_unavailable", "french")["text"]
    assert texts(replies) == welcome("french") + "\n" + unavailable


def test_a_slash_command_with_an_invented_programme_is_checked_against_the_registry(stack: Stack) -> None:
    replies = stack.rasa.say(sender(), '/ask_programme_details{"programme": "../../etc/passwd"}')
    which = response_variation("utter_ask_which_programme", "french")["text"]
    assert texts(replies) == welcome("french") + "\n" + which
    assert replies[-1]["buttons"]


def test_the_conversation_goes_on_after_bad_input(stack: Stack) -> None:
    person = sender()
    stack.rasa.say(person, "\x00")
    stack.rasa.say(person, "🙂" * 300)
    assert texts(stack.rasa.say(person, "salam")) == response_variation("utter_greet", "darija_latin")["text"]


def test_malformed_requests_to_the_channel_are_refused_cleanly(stack: Stack) -> None:
    url = f"{stack.rasa.url}/webhooks/rest/webhook"
    assert (
        requests.post(
            url, data="not json", headers={**stack.rasa.rest_headers(), "Content-Type": "application/json"}, timeout=10
        ).status_code
        == 400
    )
    assert requests.get(f"{stack.rasa.url}/status", params={"token": stack.rasa.token}, timeout=10).status_code == 200
