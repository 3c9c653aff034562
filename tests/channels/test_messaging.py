"""The pieces both WhatsApp channels share: ids without numbers, numbered choices, text splitting."""

from __future__ import annotations

import pytest

from channels.messaging import Choices, SeenMessages, conversation_id, numbered, split_text


def test_the_conversation_id_hides_the_number_and_is_stable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TAWJIH_CONVERSATION_ID_KEY", "k1")
    first = conversation_id("whatsapp", "212612345678")
    assert first == conversation_id("whatsapp", "+212 6 12 34 56 78")  # the same person however written
    assert "612345678" not in first and first.startswith("whatsapp-")
    monkeypatch.setenv("TAWJIH_CONVERSATION_ID_KEY", "k2")
    assert conversation_id("whatsapp", "212612345678") != first  # keyed: no table of hashed numbers works


def test_no_key_no_phone_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TAWJIH_CONVERSATION_ID_KEY", raising=False)
    with pytest.raises(RuntimeError):
        conversation_id("whatsapp", "212612345678")


def test_a_typed_number_picks_the_offered_option() -> None:
    choices = Choices()
    choices.offer("c1", ["/a", "/b", "/c"])
    assert choices.resolve("c1", " 2 ") == "/b"
    assert choices.resolve("c1", "2.") == "/b"
    assert choices.resolve("c1", "4") == "4"  # no such option: the text goes to the NLU as typed
    assert choices.resolve("c2", "2") == "2"  # another conversation was offered nothing
    assert choices.resolve("c1", "3ndi 19 3am") == "3ndi 19 3am"


def test_numbered_options_are_introduced_in_the_messages_register() -> None:
    text = numbered("Hahoma les formations li kaynin daba:", ["Digital-Offshoring", "JobInTech"])
    assert text.endswith("1. Digital-Offshoring\n2. JobInTech\nJaweb b r9m li bghiti.")
    assert numbered("هاهوما التكوينات", ["أ"]).endswith("جاوب بالرقم اللي بغيتي.")


def test_long_text_is_split_at_the_limit_on_a_boundary() -> None:
    text = "\n".join(f"• ligne numéro {i} de la liste des sessions" for i in range(200))
    pieces = split_text(text, 4096)
    assert all(len(p) <= 4096 for p in pieces) and len(pieces) > 1
    assert "\n".join(pieces) == text
    assert split_text("x" * 5000, 4096) == ["x" * 4096, "x" * 904]


def test_a_message_id_is_handled_once() -> None:
    seen = SeenMessages()
    assert seen.first_time("wamid.1") and not seen.first_time("wamid.1") and seen.first_time("wamid.2")
