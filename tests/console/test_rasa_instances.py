"""Which Rasa instances the console offers a message to (RASA_URL, RASA_URL_EVERY_ADDRESS)."""

from __future__ import annotations

import pytest

from console.handoff.rasa_api import RasaClient


def test_several_instances_are_tried_in_the_order_given() -> None:
    client = RasaClient(" http://rasa-1:5005/ , http://rasa-2:5005", "token", 5)
    assert client.instances() == ["http://rasa-1:5005", "http://rasa-2:5005"]


def test_every_address_of_a_host_is_an_instance_and_an_unresolvable_one_is_kept_as_given() -> None:
    assert RasaClient("http://127.0.0.1:5005", "token", 5, every_address=True).instances() == ["http://127.0.0.1:5005"]
    unknown = "http://no-such-rasa.invalid:5005"
    assert RasaClient(unknown, "token", 5, every_address=True).instances() == [unknown]


def test_a_list_naming_no_instance_is_refused() -> None:
    with pytest.raises(ValueError, match="RASA_URL"):
        RasaClient(" , ", "token", 5)
