"""What the Rasa process does while a person is handed off to an adviser (``console/handoff`` has the rest).

- **The bot stays silent.** The handoff actions pause the conversation with Rasa's own
  ``ConversationPaused``. Rasa 3.6 still runs ``action_extract_slots`` on a paused conversation and lets
  the ``restart`` intent through; here a paused conversation runs nothing at all. Its messages are
  stored (the adviser reads them from the tracker store), nothing answers them, except:
    * the person ending the handoff (a whole message such as "safi", "merci c'est bon", "بلا", or the
      end button): ``action_end_handoff`` runs and the bot is back;
    * the one message a person was asked to leave for an adviser outside opening hours:
      ``action_handoff_question_left`` thanks them and the bot is back.
- **The pause outlives a session.** A session that expires during a handoff starts a new one (Rasa resets
  the pause and the slots); the handoff's slots and its pause are carried into it.
- **Where to reach the person.** A bot message carrying ``metadata.tawjih_handoff`` tells the channel what
  happened: "opened" (keep the person's sealed address: ``privacy.addresses``), "ended" / "closed" (forget
  it). Channels that cannot push (REST) ignore it.

Importing this module adjusts Rasa's ``MessageProcessor`` (once); ``channels.turns`` imports it.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any, Dict, FrozenSet, List, Optional

import sqlalchemy as sa
from rasa.core.channels.channel import CollectingOutputChannel, OutputChannel, UserMessage
from rasa.core.policies.policy import PolicyPrediction
from rasa.core.processor import MessageProcessor
from rasa.shared.core.events import ConversationPaused, SessionStarted, SlotSet
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.data import TrainingType

from channels.messaging import DeliveryFailed
from language.normaliser import normalise
from privacy.addresses import AddressBook
from privacy.tracker_store import current_store

logger = logging.getLogger(__name__)

MARKER = "tawjih_handoff"
OPENED, ENDED, CLOSED = "opened", "ended", "closed"
HANDOFF_SLOTS = ("handoff", "handoff_id", "handoff_channel", "handoff_opens_at", "register")
# The handoff slot's values under which the bot is paused.
PAUSED_STATES = frozenset({"waiting", "adviser", "leaving_question"})
END_ACTION = "action_end_handoff"
QUESTION_LEFT_ACTION = "action_handoff_question_left"
# What the end button sends: a word no one types, so the gate recognises it whatever the NLU says.
END_BUTTON_PAYLOAD = "tawjih:end_handoff"
# Whole messages that end a handoff, in the four registers (compared once normalised, punctuation gone).
# Not the ones that also answer an adviser's question ("c'est bon", "fin", "stop", "baraka" alone).
END_PHRASES = (
    "safi", "safi merci", "safi chokran", "safi shukran", "safi baraka", "baraka safi", "safi salina", "salina",
    "merci c'est bon", "c'est bon merci", "c bon merci", "cest bon merci", "merci c bon", "merci cest bon",
    "c'est fini merci", "j'ai fini merci", "retour au bot", "revenir au bot", "mersi safi", "chokran safi",
    "chokran bzaf safi", "بلا", "صافي", "صافي شكرا", "شكرا صافي", "سالينا", "صافي سالينا", "صافي بركة",
)  # fmt: skip
_PUNCTUATION = re.compile(r"[!?.,;:…¿؟،؛\"()\-]+")


def _folded(text: str) -> str:
    return " ".join(_PUNCTUATION.sub(" ", normalise(text)).split())


_END_FOLDED: FrozenSet[str] = frozenset(_folded(phrase) for phrase in END_PHRASES)


def ends_handoff(text: Optional[str]) -> bool:
    """Whether a whole message asks to end the handoff (not a phrase inside a longer message)."""
    if not text:
        return False
    if text.strip() == END_BUTTON_PAYLOAD:
        return True
    return _folded(text) in _END_FOLDED


def _handoff_state(tracker: DialogueStateTracker) -> Optional[str]:
    value = tracker.get_slot("handoff")
    return str(value) if value else None


async def _run_named(processor: MessageProcessor, name: str, tracker: DialogueStateTracker, output: Any) -> None:
    action = processor._get_action(name)
    prediction = PolicyPrediction.for_action_name(processor.domain, name)
    await processor._run_action(action, tracker, output, processor.nlg, prediction)


async def _handle_message(self: MessageProcessor, message: UserMessage) -> Optional[List[Dict[str, Any]]]:
    """Rasa 3.6's ``handle_message`` with a paused conversation kept silent (see the module's docstring)."""
    tracker = await self.log_message(message, should_save_tracker=False)
    if tracker.is_paused():
        if ends_handoff(message.text):
            await _run_named(self, END_ACTION, tracker, message.output_channel)
        elif _handoff_state(tracker) == "leaving_question":
            await _run_named(self, QUESTION_LEFT_ACTION, tracker, message.output_channel)
        await self.save_tracker(tracker)
    elif message.text and message.text.strip() == END_BUTTON_PAYLOAD:
        # The end button of a handoff already over: said so, nothing else runs.
        await _run_named(self, END_ACTION, tracker, message.output_channel)
        await self.save_tracker(tracker)
    else:
        return await _rasa_after_logging(self, message, tracker)
    if isinstance(message.output_channel, CollectingOutputChannel):
        return message.output_channel.messages
    return None


async def _rasa_after_logging(
    self: MessageProcessor, message: UserMessage, tracker: DialogueStateTracker
) -> Optional[List[Dict[str, Any]]]:
    """The rest of Rasa 3.6's ``MessageProcessor.handle_message``, once the message is logged."""
    if self.model_metadata.training_type == TrainingType.NLU:
        await self.save_tracker(tracker)
        return None
    tracker = await self.run_action_extract_slots(message.output_channel, tracker)
    await self._run_prediction_loop(message.output_channel, tracker)
    await self.run_anonymization_pipeline(tracker)
    await self.save_tracker(tracker)
    if isinstance(message.output_channel, CollectingOutputChannel):
        return message.output_channel.messages
    return None


async def _update_tracker_session(
    self: MessageProcessor, tracker: DialogueStateTracker, output_channel: Any, metadata: Optional[Dict] = None
) -> None:
    """Rasa's session update, with an open handoff carried into the new session."""
    carried = {name: tracker.get_slot(name) for name in HANDOFF_SLOTS} if _handoff_state(tracker) else {}
    was_paused = tracker.is_paused()
    sessions_before = sum(1 for event in tracker.events if isinstance(event, SessionStarted))
    await _rasa_update_tracker_session(self, tracker, output_channel, metadata)
    if not carried:
        return
    if sum(1 for event in tracker.events if isinstance(event, SessionStarted)) == sessions_before:
        return
    for name, value in carried.items():
        if value is not None and tracker.get_slot(name) != value:
            tracker.update(SlotSet(name, value), self.domain)
    if was_paused and str(carried.get("handoff")) in PAUSED_STATES:
        tracker.update(ConversationPaused(), self.domain)


_rasa_update_tracker_session = MessageProcessor._update_tracker_session
if not getattr(MessageProcessor, "_tawjih_handoff_gate", False):
    MessageProcessor.handle_message = _handle_message  # type: ignore[method-assign]
    MessageProcessor._update_tracker_session = _update_tracker_session  # type: ignore[method-assign]
    MessageProcessor._tawjih_handoff_gate = True  # type: ignore[attr-defined]


class AddressStoreFailed(Exception):
    """The sealed address book could not be read or written (said without any detail of the person)."""

    def __str__(self) -> str:
        return "delivery_failed:address_store:"


class Addresses:
    """The sealed address book of this Rasa process (``privacy.addresses``), called off the event loop.

    Built on first use, from the tracker store's database; without a SQL tracker store (``rasa shell``
    on an in-memory store) there is nowhere to keep an address, and pushing is refused."""

    def __init__(self, secret: str) -> None:
        self._secret = secret
        self._book: Optional[AddressBook] = None

    def _get(self) -> Optional[AddressBook]:
        if self._book is None:
            store = current_store()
            if store is None or not self._secret:
                return None
            self._book = AddressBook(store.engine, self._secret)
        return self._book

    async def _call(self, method: str, *args: Any) -> Any:
        try:
            book = self._get()
            if book is None:
                return None
            return await asyncio.get_running_loop().run_in_executor(None, getattr(book, method), *args)
        except sa.exc.SQLAlchemyError as error:
            # By kind only: the database's message quotes the statement's parameters (a conversation id).
            logger.error("The address book could not be used (%s).", type(error).__name__)
            raise AddressStoreFailed() from None

    async def keep(self, conversation_id: str, channel: str, address: Dict[str, Any]) -> None:
        await self._call("keep", conversation_id, channel, address)

    async def refresh(self, conversation_id: str, channel: str, address: Dict[str, Any]) -> None:
        await self._call("refresh", conversation_id, channel, address)

    async def find(self, conversation_id: str) -> Optional[Dict[str, Any]]:
        found = await self._call("find", conversation_id)
        return found if isinstance(found, dict) else None

    async def forget(self, conversation_id: str) -> None:
        await self._call("forget", conversation_id)


def handoff_change(message: Dict[str, Any]) -> Optional[str]:
    """The handoff change a bot message announces ("opened", "ended", "closed"...), if any."""
    value = message.get(MARKER)
    return str(value) if isinstance(value, str) else None


class AddressKeepingOutput(OutputChannel):
    """The replies to one person on a channel that can push (WhatsApp, Twilio): the person's address is kept
    (sealed) once they asked for an adviser, and forgotten when that ends. Subclasses set ``conversation``
    and ``addresses`` and say what the address is."""

    conversation: str
    addresses: Optional[Addresses]

    def address(self) -> Dict[str, Any]:
        raise NotImplementedError

    async def handoff_changed(self, recipient_id: str, change: str) -> None:
        if self.addresses is None:
            return
        if change == OPENED:
            await self.addresses.keep(self.conversation, self.name(), self.address())
        elif change in (ENDED, CLOSED):
            await self.addresses.forget(self.conversation)


class HandoffPush(OutputChannel):
    """Rasa's output for messages pushed outside a turn (an adviser's reply, a handoff notice through Rasa's
    HTTP API): the person is found in the sealed address book, and a send the platform refuses raises
    ``DeliveryFailed``, so that Rasa answers the console with an error and stores nothing. ``channel`` is
    the input channel (``configured``, ``addresses``, ``choices``); subclasses build the strict output."""

    def __init__(self, channel: Any) -> None:
        self.channel = channel

    def output_to(self, recipient_id: str, address: Dict[str, Any]) -> Optional[AddressKeepingOutput]:
        """A strict output to the address kept for ``recipient_id``; None when it holds no usable address."""
        raise NotImplementedError

    async def send_response(self, recipient_id: str, message: Dict[str, Any]) -> None:
        if not self.channel.configured:
            raise DeliveryFailed("not_configured")
        address = await self.channel.addresses.find(recipient_id)
        output = self.output_to(recipient_id, address) if address else None
        if output is None:
            raise DeliveryFailed("no_address")
        change = handoff_change(message)
        if message.get("adviser_id") is not None:
            await self.channel.choices.offer(recipient_id, [])  # a typed "1" now answers the adviser, not an old button
        try:
            await output.send_response(recipient_id, message)
        finally:
            # Over is over, told or not: the address is not kept for a handoff that ended.
            if change:
                await output.handoff_changed(recipient_id, change)
