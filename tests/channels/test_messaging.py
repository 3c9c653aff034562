"""The pieces both WhatsApp channels share: ids without numbers, numbered choices, text splitting."""

from __future__ import annotations

import pytest

from channels.messaging import (
    Choices,
    Identities,
    Person,
    SeenMessages,
    conversation_id,
    is_user_id,
    numbered,
    person_from,
    split_text,
    user_conversation_id,
)
from tests.channels.conftest import SetEnv

BSUID = "MA.13491208655302741918"


def test_the_conversation_id_hides_the_number_and_is_stable(settings_env: SetEnv) -> None:
    settings_env(TAWJIH_CONVERSATION_ID_KEY="k1")
    first = conversation_id("whatsapp", "212612345678")
    assert first == conversation_id("whatsapp", "+212 6 12 34 56 78")  # the same person however written
    assert "612345678" not in first and first.startswith("whatsapp-")
    settings_env(TAWJIH_CONVERSATION_ID_KEY="k2")
    assert conversation_id("whatsapp", "212612345678") != first  # keyed: no table of hashed numbers works


def test_a_bsuid_is_hashed_apart_from_numbers(settings_env: SetEnv) -> None:
    by_user = user_conversation_id("whatsapp", BSUID)
    assert "13491208655302741918" not in by_user and by_user.startswith("whatsapp-")
    # its digits, read as a number, are someone else
    assert by_user != conversation_id("whatsapp", "13491208655302741918")
    assert by_user == user_conversation_id("whatsapp", BSUID)


def test_no_key_no_phone_numbers(settings_env: SetEnv) -> None:
    settings_env(TAWJIH_CONVERSATION_ID_KEY="")
    with pytest.raises(RuntimeError):
        conversation_id("whatsapp", "212612345678")
    with pytest.raises(RuntimeError):
        user_conversation_id("whatsapp", BSUID)


def test_bsuids_are_told_from_numbers() -> None:
    assert is_user_id(BSUID) and is_user_id("US.ENT.11815799212886844830")
    assert not is_user_id("212612345678") and not is_user_id("+212612345678") and not is_user_id("MA.")
    assert person_from("212612345678") == Person(phone="212612345678")
    assert person_from(BSUID) == Person(user_id=BSUID)  # a BSUID where a number was expected
    assert person_from(None, user_id=BSUID, phone="212612345678") == Person("212612345678", BSUID)
    assert not person_from("", user_id="", phone="")
    assert "2126" not in repr(Person("212612345678", BSUID)) and "MA." not in repr(Person("1", BSUID))


async def test_one_person_keeps_one_conversation_when_the_number_comes_and_goes(settings_env: SetEnv) -> None:
    people = Identities("whatsapp")
    with_number = await people.conversation(Person("212612345678", BSUID))
    assert with_number == user_conversation_id("whatsapp", BSUID)  # keyed on the BSUID
    assert await people.conversation(Person(user_id=BSUID)) == with_number  # the number withheld
    assert await people.conversation(Person(phone="212612345678")) == with_number  # only the number (older payloads)
    assert await Identities("whatsapp").conversation(Person(user_id=BSUID)) == with_number  # after a restart too
    with pytest.raises(ValueError):
        await people.conversation(Person())


async def test_a_recycled_number_does_not_lead_into_someone_elses_conversation(settings_env: SetEnv) -> None:
    people = Identities("whatsapp")
    first = await people.conversation(Person("212612345678", BSUID))
    stranger = await people.conversation(Person("212612345678", "MA.99999999999999999999"))
    assert stranger != first
    assert await people.conversation(Person(phone="212612345678")) == stranger  # the number is theirs now


async def test_announced_changes_keep_the_conversation(settings_env: SetEnv) -> None:
    people = Identities("whatsapp")
    first = await people.conversation(Person("212612345678", BSUID))
    # user_changed_number: a new number, and with it a new BSUID
    assert await people.changed(Person("212612345678", BSUID), Person("212700000001", "MA.222")) == first
    assert await people.conversation(Person("212700000001", "MA.222")) == first
    # user_changed_user_id: a new BSUID alone
    assert await people.changed(Person(user_id="MA.222"), Person(user_id="MA.333")) == first
    assert await people.conversation(Person(user_id="MA.333")) == first
    assert await people.changed(Person(), Person(user_id="MA.444")) is None


async def test_a_typed_number_picks_the_offered_option() -> None:
    choices = Choices("whatsapp")
    await choices.offer("c1", ["/a", "/b", "/c"])
    assert await choices.resolve("c1", " 2 ") == "/b"
    assert await choices.resolve("c1", "2.") == "/b"
    assert await choices.resolve("c1", "4") == "4"  # no such option: the text goes to the NLU as typed
    assert await choices.resolve("c2", "2") == "2"  # another conversation was offered nothing
    assert await choices.resolve("c1", "3ndi 19 3am") == "3ndi 19 3am"
    await choices.offer("c1", [])  # a new turn: nothing offered any more
    assert await choices.resolve("c1", "2") == "2"


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


async def test_a_message_id_is_handled_once() -> None:
    seen = SeenMessages("whatsapp")
    assert await seen.first_time("wamid.1") and not await seen.first_time("wamid.1")
    assert await seen.first_time("wamid.2")
    assert not await seen.seen("wamid.3")  # looking does not mark
    await seen.accept("wamid.3")
    assert await seen.seen("wamid.3") and not await seen.first_time("wamid.3")
