"""What ends a handoff: a whole short message in any register, or the end button; not a longer message."""

from __future__ import annotations

import pytest

from channels.handoff import END_BUTTON_PAYLOAD, ends_handoff


@pytest.mark.parametrize(
    "text",
    ["safi", "Safi !", "SAFIII", "merci c'est bon", "Merci, c'est bon.", "c bon merci", "بلا", "صافي", "صافي شكرا",
     "safi chokran", "salina", END_BUTTON_PAYLOAD],
)  # fmt: skip
def test_a_person_ends_the_handoff_in_every_register(text: str) -> None:
    assert ends_handoff(text)


@pytest.mark.parametrize(
    "text",
    ["merci", "merci beaucoup pour votre aide", "safi fhemt, w ch7al kayn dyal lblayes?", "wach safi tsjjelt?",
     "c'est bon pour l'inscription ?", "بلا ما نخلص؟", "/restart", "/end_handoff", "", "ok", "c'est bon", "fin",
     "stop", "baraka"],
)  # fmt: skip
def test_a_message_to_the_adviser_does_not_end_it(text: str) -> None:
    assert not ends_handoff(text)
