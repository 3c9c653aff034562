"""The event stream (RabbitMQ) carries what a consumer needs to count and order turns, and nothing a person
wrote, was told or said about themselves; its queue keeps an event no longer than the retention period,
and an erasure is announced on it. The broker is Rasa's, run here against the machine's RabbitMQ."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any, AsyncIterator, Dict, List

import aio_pika
import aiormq.exceptions
import pytest
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered

from scaling.event_broker import ERASED_EVENT, PrivatePikaEventBroker, QueueSettingsMismatch, stream_view
from tests.support.services import RABBITMQ, RABBITMQ_URL, require

PERSON = "+212612345678"
MESSAGE = "ana smiti Salma, 3ndi 17 3am w ana mn Agadir, numero dyali 0612345678"
REPLY = "Merci Salma ! Voici les centres à Agadir."


def stored_turn() -> List[Dict[str, Any]]:
    """A turn as Rasa's tracker store streams it: each event's dict, with the conversation id."""
    parse_data = {
        "text": MESSAGE,
        "intent": {"name": "inform", "confidence": 0.93},
        "entities": [{"entity": "city", "value": "agadir", "start": 30, "end": 36}, {"entity": "age", "value": 17}],
        "intent_ranking": [{"name": "inform", "confidence": 0.93}],
    }
    events = [
        UserUttered(MESSAGE, parse_data["intent"], parse_data["entities"], parse_data, input_channel="whatsapp",
                    metadata={"phone": PERSON}),
        SlotSet("age", 17),
        SlotSet("city", "agadir"),
        ActionExecuted("action_centres"),
        BotUttered(REPLY, {"buttons": [{"title": "Salma", "payload": "/x"}]}, {"utter_action": "utter_centres"}),
        ActionExecuted("action_listen"),
    ]  # fmt: skip
    return [{"sender_id": "conv-1", **event.as_dict()} for event in events]


def test_the_stream_carries_names_and_times_but_no_text_nor_personal_value() -> None:
    views = [stream_view(event) for event in stored_turn()]
    text = json.dumps(views, ensure_ascii=False)
    for personal in ("Salma", "0612345678", PERSON, "smiti", "Voici"):
        assert personal not in text
    user, age, city, action, bot, _ = views
    assert user == {
        "event": "user", "timestamp": user["timestamp"], "sender_id": "conv-1", "input_channel": "whatsapp",
        "intent": "inform", "intent_confidence": 0.93, "entities": ["city", "age"],
    }  # fmt: skip
    assert age["value_set"] is True and "value" not in age  # said, not what
    assert city["value"] == "agadir"  # where the question is about: no one's data
    assert action["name"] == "action_centres" and bot["utter_action"] == "utter_centres"
    assert all(view["sender_id"] == "conv-1" and view["timestamp"] for view in views)


@pytest.fixture
async def queue() -> AsyncIterator[str]:
    require("RabbitMQ", RABBITMQ)
    name = f"tawjih_test_stream_{uuid.uuid4().hex[:8]}"
    yield name
    connection = await aio_pika.connect(RABBITMQ_URL, timeout=5)
    async with connection:
        await (await connection.channel()).queue_delete(name)


def broker(queue: str, days: int = 90) -> PrivatePikaEventBroker:
    return PrivatePikaEventBroker(
        RABBITMQ[0], "guest", "guest", port=RABBITMQ[1], queues=[queue], message_ttl_days=days,
        connection_attempts=1, event_loop=asyncio.get_running_loop(), exchange_name=f"{queue}_exchange",
    )  # fmt: skip


async def taken_off(queue: str, count: int) -> List[Dict[str, Any]]:
    """What a consumer of the queue gets, waiting for ``count`` messages at most 10 s."""
    connection = await aio_pika.connect(RABBITMQ_URL, timeout=5)
    found: List[Dict[str, Any]] = []
    async with connection:
        source = await (await connection.channel()).get_queue(queue, ensure=True)
        async with source.iterator(timeout=10) as messages:
            async for message in messages:
                await message.ack()
                found.append(json.loads(message.body))
                if len(found) == count:
                    break
    return found


async def test_what_a_consumer_receives_and_the_erasure_announced_after(queue: str) -> None:
    stream = broker(queue)
    await stream.connect()
    try:
        for event in stored_turn():
            stream.publish(event)
        stream.publish_erasure("conv-1")
        received = await taken_off(queue, 7)
    finally:
        await stream.close()
    assert [event["event"] for event in received] == ["user", "slot", "slot", "action", "bot", "action", ERASED_EVENT]
    assert all(event["sender_id"] == "conv-1" for event in received)
    body = json.dumps(received, ensure_ascii=False)
    assert "Salma" not in body and "0612345678" not in body and "Agadir" not in body


async def test_the_queue_keeps_an_event_no_longer_than_the_retention_period(queue: str) -> None:
    stream = broker(queue, days=30)
    await stream.connect()
    await stream.close()
    connection = await aio_pika.connect(RABBITMQ_URL, timeout=5)
    async with connection:
        # The same declaration is accepted: the queue's message TTL is 30 days.
        await (await connection.channel()).declare_queue(
            queue, durable=True, passive=False, arguments={"x-message-ttl": 30 * 24 * 3600 * 1000}
        )
        with pytest.raises(aiormq.exceptions.ChannelPreconditionFailed):
            await (await connection.channel()).declare_queue(queue, durable=True)


async def test_a_queue_made_without_the_retention_period_stops_the_start_naming_it(queue: str) -> None:
    connection = await aio_pika.connect(RABBITMQ_URL, timeout=5)
    async with connection:
        await (await connection.channel()).declare_queue(queue, durable=True)  # as Rasa's own broker makes it
    stream = broker(queue)
    try:
        with pytest.raises(QueueSettingsMismatch, match=queue) as refused:
            await stream.connect()
        assert "TAWJIH_EVENT_QUEUE" in str(refused.value)
    finally:
        await stream.close()
