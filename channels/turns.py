"""One turn of a person's conversation, whatever channel carried it: kept whole or answered kindly.

Every channel hands Rasa a message through ``deliver``:
- a message over the length limit is answered kindly, in the person's register, and never reaches
  Rasa (nothing of it is stored);
- typed payloads are cleaned (``channels.payloads``): no slot takes a value the rules refuse, and a
  person cannot type Rasa's own commands (/restart, /session_start);
- Rasa's replies are held until the turn is stored, then sent: when the tracker store or the action
  server fails, the turn is not stored (``privacy.tracker_store.TurnNotSaved``) and the person gets,
  instead of half an answer, a kind "technical problem, try again in a few minutes".
"""

from __future__ import annotations

import enum
import logging
from typing import Any, Awaitable, Callable, Dict, List, Optional, Tuple

from rasa.core.channels.channel import OutputChannel, UserMessage

from channels.handoff import handoff_change
from channels.payloads import clean_payload
from channels.settings import rasa_settings
from language.register import DARIJA_ARABIC, DARIJA_LATIN, FRENCH, detect_register
from privacy.tracker_store import TurnNotSaved, new_turn

logger = logging.getLogger(__name__)

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]

TECHNICAL_PROBLEM = {
    FRENCH: (
        "Désolé, j'ai un problème technique en ce moment : ton message n'a pas pu être traité. "
        "Réessaie dans quelques minutes."
    ),
    DARIJA_LATIN: (
        "Sm7li, 3ndna mochkil technique daba: ma9dertch nt3amel m3a lmessage dyalk. 3awed jerreb mn ba3d chi d9i9at."
    ),
    DARIJA_ARABIC: "سمح ليا، عندنا مشكل تقني دابا: ما قدرتش نتعامل مع الميساج ديالك. عاود جرب من بعد شي دقايق.",
}
TOO_LONG = {
    FRENCH: "Ton message est trop long pour moi (plus de {limit} caractères). Peux-tu l'écrire en plus court ?",
    DARIJA_LATIN: "Lmessage dyalk twil bzaf 3liya (kter mn {limit} 7arf). Kteb lia chi haja 9siera 3afak.",
    DARIJA_ARABIC: "الميساج ديالك طويل بزاف عليا (كثر من {limit} حرف). كتب ليا شي حاجة قصيرة عافاك.",
}
# Enough of a message to tell its register; the rest of an overlong one is never read.
REGISTER_SAMPLE = 400


class Outcome(str, enum.Enum):
    answered = "answered"
    too_long = "too_long"
    not_saved = "not_saved"
    failed = "failed"


def register_of(text: str) -> str:
    return detect_register(text[:REGISTER_SAMPLE]) or FRENCH


def too_long_reply(text: str, limit: int) -> str:
    return TOO_LONG[register_of(text)].format(limit=limit)


def technical_problem_reply(text: str) -> str:
    return TECHNICAL_PROBLEM[register_of(text)]


class HeldOutput(OutputChannel):
    """Holds a turn's replies until the turn is stored; ``release`` sends them on the real channel, then
    tells it of a handoff the turn opened or ended (``channels.handoff``: where to reach the person)."""

    def __init__(self, channel: OutputChannel) -> None:
        self.channel = channel
        self.held: List[Tuple[str, Dict[str, Any]]] = []
        self.handoff_changes: List[str] = []

    def name(self) -> str:  # type: ignore[override]
        # Rasa picks channel-specific response variations by this name.
        return self.channel.name()

    async def send_response(self, recipient_id: str, message: Dict[str, Any]) -> None:
        change = handoff_change(message)
        if change:
            self.handoff_changes.append(change)
        self.held.append((recipient_id, message))

    async def release(self) -> None:
        # The address is kept before "an adviser will answer you here" is said, never after.
        recipient = self.held[0][0] if self.held else ""
        announce = getattr(self.channel, "handoff_changed", None)
        for change in self.handoff_changes:
            if announce is not None and recipient:
                await announce(recipient, change)
        self.handoff_changes.clear()
        for recipient_id, message in self.held:
            await self.channel.send_response(recipient_id, message)
        self.held.clear()


async def deliver(
    on_new_message: OnNewMessage,
    output: OutputChannel,
    text: str,
    sender_id: str,
    input_channel: str,
    metadata: Optional[Dict[str, Any]] = None,
) -> Outcome:
    """Hand one message to Rasa and send what it answers, or a kind word if that cannot be done."""
    limit = rasa_settings().max_message_chars
    if len(text) > limit:
        await output.send_text_message(sender_id, too_long_reply(text, limit))
        return Outcome.too_long
    held = HeldOutput(output)
    new_turn()
    try:
        await on_new_message(
            UserMessage(clean_payload(text), held, sender_id, input_channel=input_channel, metadata=metadata)
        )
        await held.release()
    except TurnNotSaved as error:
        logger.warning("A turn was not stored (%s failed); the person was asked to try again.", error.part)
        await output.send_text_message(sender_id, technical_problem_reply(text))
        return Outcome.not_saved
    except Exception as error:  # noqa: BLE001 - the person must hear something whatever broke
        frame = error.__traceback__
        while frame is not None and frame.tb_next is not None:
            frame = frame.tb_next
        where = frame.tb_frame.f_code.co_name if frame is not None else "?"
        logger.error("A turn failed with %s in %s; the person was asked to try again.", type(error).__name__, where)
        await output.send_text_message(sender_id, technical_problem_reply(text))
        return Outcome.failed
    return Outcome.answered
