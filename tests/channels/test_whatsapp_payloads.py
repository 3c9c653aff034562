"""Reading Meta's webhook deliveries: the sender wherever Meta puts them, with or without a phone
number, the system messages that announce a new number or BSUID, and where replies go."""

from __future__ import annotations

from channels.messaging import Person
from channels.whatsapp import addressed_to, read_delivery
from tests.support.standins import (
    meta_delivery,
    meta_message,
    meta_number_changed,
    meta_user_id_changed,
    new_bsuid,
)

TEXT = {"type": "text", "text": {"body": "salam"}}


def test_a_message_with_a_number_and_a_bsuid() -> None:
    user_id = new_bsuid()
    [message] = read_delivery(meta_message(TEXT, phone="212612345678", user_id=user_id)).messages
    assert message.person == Person("212612345678", user_id) and message.text == "salam"


def test_a_message_without_a_number_is_not_dropped() -> None:
    user_id = new_bsuid()
    delivery = read_delivery(meta_message(TEXT, user_id=user_id))
    assert [m.person for m in delivery.messages] == [Person(user_id=user_id)] and not delivery.anonymous


def test_the_sender_is_found_wherever_meta_puts_them() -> None:
    user_id = new_bsuid()
    # only in contacts (no from, no from_user_id on the message)
    only_contacts = meta_delivery(
        [{"id": "wamid.1", "timestamp": "1", **TEXT}], [{"profile": {"name": "x"}, "user_id": user_id}]
    )
    assert read_delivery(only_contacts).messages[0].person == Person(user_id=user_id)
    # a BSUID in `from`: read as a BSUID, never hashed as a number
    in_from = meta_delivery([{"id": "wamid.2", "timestamp": "1", "from": user_id, **TEXT}])
    assert read_delivery(in_from).messages[0].person == Person(user_id=user_id)
    # the old shape: a number in `from` and `wa_id` only
    old = meta_delivery(
        [{"id": "wamid.3", "timestamp": "1", "from": "212612345678", **TEXT}],
        [{"profile": {"name": "x"}, "wa_id": "212612345678"}],
    )
    assert read_delivery(old).messages[0].person == Person(phone="212612345678")
    # nobody at all: counted, so that it is said in the log, never silently skipped
    nobody = read_delivery(meta_delivery([{"id": "wamid.4", "timestamp": "1", **TEXT}]))
    assert not nobody.messages and nobody.anonymous == 1


def test_two_contacts_are_matched_to_their_messages() -> None:
    first, second = new_bsuid(), new_bsuid()
    body = meta_delivery(
        [
            {"id": "wamid.a", "timestamp": "1", "from_user_id": second, **TEXT},
            {"id": "wamid.b", "timestamp": "1", "from": "212600000001", **TEXT},
        ],
        [
            {"profile": {"name": "a"}, "user_id": first, "wa_id": "212600000001"},
            {"profile": {"name": "b"}, "user_id": second},
        ],
    )
    assert [m.person for m in read_delivery(body).messages] == [
        Person(user_id=second),
        Person("212600000001", first),
    ]


def test_announced_changes_are_read() -> None:
    old_user, new_user = new_bsuid(), new_bsuid()
    [number] = read_delivery(meta_number_changed("212600000001", "212600000002", old_user, new_user)).changes
    assert (number.previous, number.new) == (Person("212600000001", old_user), Person("212600000002", new_user))
    delivery = read_delivery(meta_user_id_changed(old_user, new_user))
    assert not delivery.messages and not delivery.anonymous
    assert (delivery.changes[0].previous, delivery.changes[0].new) == (
        Person(user_id=old_user),
        Person(user_id=new_user),
    )


def test_replies_go_to_the_number_when_there_is_one_and_to_the_bsuid_otherwise() -> None:
    assert addressed_to(Person("212612345678", "MA.1")) == {"to": "212612345678"}
    assert addressed_to(Person(user_id="MA.1")) == {"recipient": "MA.1"}


def test_statuses_reactions_and_odd_shapes_are_skipped() -> None:
    status = {"id": "wamid.x", "status": "delivered", "timestamp": "1", "recipient_id": "212600000001"}
    body = {"object": "whatsapp_business_account", "entry": [{"changes": [{"value": {"statuses": [status]}}]}]}
    assert read_delivery(body).messages == []
    reaction = meta_message({"type": "reaction", "reaction": {"message_id": "wamid.y", "emoji": "👍"}}, phone="2126")
    assert read_delivery(reaction).messages == []
    assert read_delivery({"entry": [{"changes": [{"value": {"messages": ["odd", {"type": "text"}]}}]}]}).messages == []
