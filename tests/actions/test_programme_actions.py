"""Programme actions read the live registry and answer in the person's register; failures become kind replies."""

from __future__ import annotations

import json
import logging
from typing import Callable

import pytest
import requests
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.programme_facts import ActionProgrammeDetails
from actions.programmes import ActionListProgrammes
from actions.registry_client import reset_registry_client
from tests.support.processes import RegistryProcess, free_port


def registry_programmes(registry: RegistryProcess) -> list:
    return requests.get(f"{registry.url}/api/v1/programmes", timeout=5).json()["data"]


async def test_lists_the_registry_programmes_with_a_button_each(
    registry_env: RegistryProcess, make_tracker: Callable[..., Tracker]
) -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionListProgrammes().run(dispatcher, make_tracker("french"), {})
    assert events == []
    [message] = dispatcher.messages
    assert message["response"] == "utter_programme_list"
    programmes = registry_programmes(registry_env)
    for programme in programmes:
        assert f"• {programme['name_fr']}" in message["programme_lines"]
    payloads = [button["payload"] for button in message["buttons"]]
    assert payloads == ["/ask_programme_details" + json.dumps({"programme": p["id"]}) for p in programmes]


async def test_arabic_script_readers_see_the_arabic_names(
    registry_env: RegistryProcess, make_tracker: Callable[..., Tracker]
) -> None:
    dispatcher = CollectingDispatcher()
    await ActionListProgrammes().run(dispatcher, make_tracker("darija_arabic"), {})
    lines = dispatcher.messages[0]["programme_lines"]
    assert all(f"• {p['name_ar']}" in lines for p in registry_programmes(registry_env))


async def test_details_of_the_programme_in_focus(
    registry_env: RegistryProcess, make_tracker: Callable[..., Tracker]
) -> None:
    programme = requests.get(f"{registry_env.url}/api/v1/programmes/jobintech-data-science", timeout=5).json()
    dispatcher = CollectingDispatcher()
    await ActionProgrammeDetails().run(dispatcher, make_tracker("darija_latin", programme="jobintech-data-science"), {})
    [message] = dispatcher.messages
    assert message["response"] == "utter_programme_details"
    assert message["name"] == programme["name_fr"]
    assert message["duration"] == f"{programme['duration_months']} chhar"
    assert message["diploma"] == programme["diploma"]
    assert "t2akked" in message["sample_note"]  # sample values are flagged to the person


async def test_details_without_a_programme_asks_which_one(
    registry_env: RegistryProcess, make_tracker: Callable[..., Tracker]
) -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionProgrammeDetails().run(dispatcher, make_tracker("french", programme="no-such-programme"), {})
    assert dispatcher.messages[0]["response"] == "utter_ask_which_programme"
    assert len(dispatcher.messages[0]["buttons"]) == len(registry_programmes(registry_env))
    assert events == [SlotSet("programme", None)]


async def test_registry_down_means_a_kind_message_and_an_adviser_offer(
    monkeypatch: pytest.MonkeyPatch, make_tracker: Callable[..., Tracker], caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("REGISTRY_URL", f"http://127.0.0.1:{free_port()}")
    reset_registry_client()
    tracker = make_tracker("darija_latin")
    dispatcher = CollectingDispatcher()
    with caplog.at_level(logging.DEBUG):
        events = await ActionListProgrammes().run(dispatcher, tracker, {})
    reset_registry_client()
    assert events == []
    assert [m["response"] for m in dispatcher.messages] == ["utter_registry_unavailable"]
    assert tracker.latest_message["text"] not in caplog.text
    assert "Traceback" not in caplog.text


async def test_french_words_in_an_arabic_reply_are_direction_isolated(
    registry_env: RegistryProcess, make_tracker: Callable[..., Tracker]
) -> None:
    programme = requests.get(f"{registry_env.url}/api/v1/programmes/digital-offshoring", timeout=5).json()
    arabic, french = CollectingDispatcher(), CollectingDispatcher()
    await ActionProgrammeDetails().run(arabic, make_tracker("darija_arabic", programme="digital-offshoring"), {})
    await ActionProgrammeDetails().run(french, make_tracker("french", programme="digital-offshoring"), {})
    assert arabic.messages[0]["track"] == f"\u2068{programme['track']}\u2069"
    assert arabic.messages[0]["diploma"] == f"\u2068{programme['diploma']}\u2069"
    assert french.messages[0]["track"] == programme["track"]
