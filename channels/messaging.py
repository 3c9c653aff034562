"""What both WhatsApp channels (Meta's Cloud API and Twilio) share.

- Phone numbers are personal data: Rasa, its tracker store and every log line see a keyed
  hash of the number (`conversation_id`), never the number itself.
- A shared location and a photo, voice note or video become messages Rasa understands
  (`/share_location{...}`, `/send_media{...}`), answered in the person's register.
- Buttons that do not fit the platform become numbered text; a typed number then picks
  the option (`Choices`).
- The platforms retry their webhooks: a message id seen before is dropped (`SeenMessages`).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import os
import re
import time
from collections import OrderedDict
from typing import Any, Dict, List, Optional

import aiohttp

from language.register import DARIJA_ARABIC, DARIJA_LATIN, FRENCH, detect_register

logger = logging.getLogger(__name__)

MEDIA_KINDS = ("audio", "voice", "image", "video", "sticker", "document")
_TYPED_NUMBER = re.compile(r"^\s*(\d{1,2})\s*[.)]?\s*$")
PICK_A_NUMBER = {
    FRENCH: "Réponds avec le numéro de ton choix.",
    DARIJA_LATIN: "Jaweb b r9m li bghiti.",
    DARIJA_ARABIC: "جاوب بالرقم اللي بغيتي.",
}
LIST_BUTTON = {FRENCH: "Choisir", DARIJA_LATIN: "Khtar", DARIJA_ARABIC: "ختار"}


def conversation_id(channel: str, phone_number: str) -> str:
    """A stable id for a person's conversation that does not reveal their number.

    Keyed with TAWJIH_CONVERSATION_ID_KEY (a secret): without the key, the id cannot be
    turned back into the number by hashing every Moroccan number."""
    key = os.environ.get("TAWJIH_CONVERSATION_ID_KEY", "")
    if not key:
        raise RuntimeError("TAWJIH_CONVERSATION_ID_KEY is not set: refusing to handle phone numbers")
    digits = re.sub(r"\D", "", phone_number)
    digest = hmac.new(key.encode(), f"{channel}:{digits}".encode(), hashlib.sha256).hexdigest()
    return f"{channel}-{digest[:32]}"


def location_message(latitude: float, longitude: float) -> str:
    return "/share_location" + json.dumps({"latitude": latitude, "longitude": longitude})


def media_message(kind: str) -> str:
    return "/send_media" + json.dumps({"media": "audio" if kind == "voice" else kind})


def register_of_text(text: str) -> str:
    """The register of a bot message, to word the platform's own labels the same way."""
    return detect_register(text) or FRENCH


def numbered(text: str, titles: List[str]) -> str:
    register = register_of_text(text)
    lines = [f"{i}. {title}" for i, title in enumerate(titles, start=1)]
    return "\n".join([text, "", *lines, PICK_A_NUMBER[register]])


def split_text(text: str, limit: int) -> List[str]:
    """Pieces of at most ``limit`` characters, cut at a paragraph, a line or a space when possible."""
    pieces = []
    rest = text.strip()
    while len(rest) > limit:
        window = rest[: limit + 1]
        cuts = (window.rfind(boundary) for boundary in ("\n\n", "\n", " "))
        cut = next((c for c in cuts if c >= limit // 2), limit)
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


class _Expiring:
    """A bounded map whose entries expire: memory stays flat whatever the traffic."""

    def __init__(self, ttl_seconds: float, max_entries: int) -> None:
        self.ttl = ttl_seconds
        self.max_entries = max_entries
        self._items: "OrderedDict[str, tuple]" = OrderedDict()

    def _purge(self, now: float) -> None:
        while self._items and (len(self._items) > self.max_entries or next(iter(self._items.values()))[0] < now):
            self._items.popitem(last=False)

    def put(self, key: str, value: object) -> None:
        now = time.monotonic()
        self._items.pop(key, None)
        self._items[key] = (now + self.ttl, value)
        self._purge(now)

    def get(self, key: str) -> Optional[object]:
        now = time.monotonic()
        self._purge(now)
        entry = self._items.get(key)
        return entry[1] if entry else None

    def pop(self, key: str) -> None:
        self._items.pop(key, None)


class SeenMessages:
    """Message ids already handled (the platforms retry a webhook until it is acknowledged)."""

    def __init__(self, ttl_seconds: float = 24 * 3600, max_entries: int = 100_000) -> None:
        self._seen = _Expiring(ttl_seconds, max_entries)

    def first_time(self, message_id: str) -> bool:
        if self._seen.get(message_id) is not None:
            return False
        self._seen.put(message_id, True)
        return True


class Choices:
    """The options last offered to each conversation, so that "2" picks the second one."""

    def __init__(self, ttl_seconds: float = 24 * 3600, max_entries: int = 100_000) -> None:
        self._offered = _Expiring(ttl_seconds, max_entries)

    def offer(self, conversation: str, payloads: List[str]) -> None:
        if payloads:
            self._offered.put(conversation, list(payloads))
        else:
            self._offered.pop(conversation)

    def resolve(self, conversation: str, text: str) -> str:
        """The payload of the option a typed number names, or the text unchanged."""
        match = _TYPED_NUMBER.match(text or "")
        payloads = self._offered.get(conversation)
        if match and isinstance(payloads, list) and 1 <= int(match.group(1)) <= len(payloads):
            return str(payloads[int(match.group(1)) - 1])
        return text


def button_payloads(buttons: List[Dict[str, str]]) -> List[str]:
    return [str(b.get("payload") or b.get("title") or "") for b in buttons]


async def post_with_retries(
    platform: str,
    url: str,
    timeout_seconds: float,
    attempts: int,
    auth: Optional[aiohttp.BasicAuth] = None,
    **request: Any,
) -> bool:
    """POST to a messaging platform: a timeout on every call, retries with backoff on 429, 5xx
    and network errors; other 4xx are not retried. Logs the status, never the message."""
    timeout = aiohttp.ClientTimeout(total=timeout_seconds)
    for attempt in range(1, attempts + 1):
        try:
            async with aiohttp.ClientSession(timeout=timeout, auth=auth) as session:
                async with session.post(url, **request) as reply:
                    if reply.status < 400:
                        return True
                    logger.warning("%s answered %s (attempt %s)", platform, reply.status, attempt)
                    if reply.status != 429 and reply.status < 500:
                        return False
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            logger.warning("%s unreachable: %s (attempt %s)", platform, type(error).__name__, attempt)
        await asyncio.sleep(0.2 * 2 ** (attempt - 1))
    return False
