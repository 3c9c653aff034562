"""What both WhatsApp channels (Meta's Cloud API and Twilio) share.

- Phone numbers and WhatsApp's business-scoped user ids (BSUIDs) are personal data: Rasa, its
  tracker store and every log line see a keyed hash of them (`conversation_id`), never the
  identifier itself. A person is keyed on their BSUID when the platform gives one, on their
  number otherwise; `Identities` keeps one conversation per person when a number appears or
  disappears, or when WhatsApp announces a new number or a new BSUID.
- A shared location and a photo, voice note or video become messages Rasa understands
  (`/share_location{...}`, `/send_media{...}`), answered in the person's register.
- Buttons that do not fit the platform become numbered text; a typed number then picks
  the option (`Choices`).
- The platforms retry their webhooks: a message id seen before is dropped (`SeenMessages`);
  an id is marked as seen only once its message has been accepted for handling.
- What the channels remember between webhooks (seen ids, offered options, identity links) lives
  in `channels.state`: this process's memory, or Redis shared by every Rasa instance.
- A request body is read only up to TAWJIH_MAX_BODY_BYTES (`read_body`).
- Replies go out through one pooled HTTP client per channel (`PlatformClient`), with a timeout
  on every try and the shared retry-with-deadline policy (`outbound.retry`).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import re
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

import aiohttp
from sanic.request import Request

from channels.payloads import intent_payload
from channels.settings import rasa_settings
from channels.state import MemoryStore, StateStore, StateUnavailable, state_key
from language.register import DARIJA_ARABIC, DARIJA_LATIN, FRENCH, detect_register
from outbound.retry import DeadlineExceeded, RetryableError, RetryPolicy, retryable_status

logger = logging.getLogger(__name__)

MEDIA_KINDS = ("audio", "voice", "image", "video", "sticker", "document")
_TYPED_NUMBER = re.compile(r"^\s*(\d{1,2})\s*[.)]?\s*$")
# A business-scoped user id: an ISO 3166 alpha-2 country code, a period, then letters and digits,
# with "ENT." in between for a parent BSUID (US.13491208655302741918, US.ENT.11815799212886844830).
_USER_ID = re.compile(r"[A-Z]{2}\.(?:ENT\.)?[A-Za-z0-9]{1,128}")
PICK_A_NUMBER = {
    FRENCH: "Réponds avec le numéro de ton choix.",
    DARIJA_LATIN: "Jaweb b r9m li bghiti.",
    DARIJA_ARABIC: "جاوب بالرقم اللي بغيتي.",
}
LIST_BUTTON = {FRENCH: "Choisir", DARIJA_LATIN: "Khtar", DARIJA_ARABIC: "ختار"}
# How long a link between identifiers (a number that went with a BSUID, an announced change) is kept.
LINK_TTL_SECONDS = 90 * 24 * 3600
# How long a message id is remembered (the platforms' retries stop well before), and the options offered.
SEEN_TTL_SECONDS = 24 * 3600
CHOICES_TTL_SECONDS = 24 * 3600


def _keyed(channel: str, what: str) -> str:
    """HMAC of ``what`` keyed with TAWJIH_CONVERSATION_ID_KEY (a secret): without the key, the id
    cannot be turned back into a number by hashing every Moroccan number."""
    key = rasa_settings().conversation_id_key
    if not key:
        # The channels refuse every request (503) while the key is unset; this is a last guard.
        raise RuntimeError("TAWJIH_CONVERSATION_ID_KEY is not set: refusing to handle phone numbers")
    digest = hmac.new(key.encode(), f"{channel}:{what}".encode(), hashlib.sha256).hexdigest()
    return f"{channel}-{digest[:32]}"


def conversation_id(channel: str, phone_number: str) -> str:
    """A stable id for a person's conversation that does not reveal their number (however written)."""
    return _keyed(channel, re.sub(r"\D", "", phone_number))


def user_conversation_id(channel: str, user_id: str) -> str:
    """The same for a business-scoped user id (kept apart from numbers: no id can be taken for another)."""
    return _keyed(channel, f"user:{user_id}")


def is_user_id(value: str) -> bool:
    return bool(_USER_ID.fullmatch(value))


@dataclass(frozen=True)
class Person:
    """Who wrote, as the platform names them: a phone number, a business-scoped user id, or both.

    Held only in memory, for the time it takes to answer; never logged (``__repr__`` hides both)."""

    phone: str = ""
    user_id: str = ""

    def __bool__(self) -> bool:
        return bool(self.phone or self.user_id)

    def __repr__(self) -> str:
        return f"Person(phone={'yes' if self.phone else 'no'}, user_id={'yes' if self.user_id else 'no'})"


def person_from(identifier: Optional[str], user_id: Optional[str] = None, phone: Optional[str] = None) -> Person:
    """A Person from the fields a webhook gave; an identifier in a phone field that is shaped like a
    BSUID is read as one (never hashed as a number, where its digits could stand for someone else's)."""
    found_phone, found_user = (phone or "").strip(), (user_id or "").strip()
    candidate = (identifier or "").strip()
    if candidate:
        if is_user_id(candidate):
            found_user = found_user or candidate
        elif re.sub(r"\D", "", candidate):
            found_phone = found_phone or candidate
    if found_phone and is_user_id(found_phone):
        found_user, found_phone = found_user or found_phone, ""
    return Person(phone=found_phone, user_id=found_user)


def location_message(latitude: float, longitude: float) -> str:
    return intent_payload("share_location", {"latitude": latitude, "longitude": longitude})


def media_message(kind: str) -> str:
    return intent_payload("send_media", {"media": "audio" if kind == "voice" else kind})


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


class SeenMessages:
    """Message ids already accepted (the platforms retry a webhook until it is acknowledged).

    Raises ``StateUnavailable`` when the store cannot be reached: the caller then refuses the
    delivery (503) rather than acknowledge a message it cannot tell from a retry."""

    def __init__(self, channel: str, store: Optional[StateStore] = None, ttl_seconds: float = SEEN_TTL_SECONDS) -> None:
        self.channel = channel
        self.store = store or MemoryStore()
        self.ttl = ttl_seconds

    def _key(self, message_id: str) -> str:
        return state_key(self.channel, "seen", message_id)

    async def seen(self, message_id: str) -> bool:
        return await self.store.get(self._key(message_id)) is not None

    async def accept(self, message_id: str) -> None:
        """Called once the message is on its way to being handled, never before."""
        await self.store.put(self._key(message_id), True, self.ttl)

    async def first_time(self, message_id: str) -> bool:
        """Marks the id as accepted and says whether this call was the first to: of two instances
        receiving the same delivery at once, exactly one gets True (atomic in the store)."""
        return await self.store.put_if_absent(self._key(message_id), True, self.ttl)


class Identities:
    """Which conversation a person's message belongs to.

    A person is keyed on their BSUID when the platform gives one (it stays when a phone number
    appears in or disappears from the webhooks), on their number otherwise. Links, kept as hashes
    only (in the channel state store), tie further identifiers to a conversation: the number that
    came with a BSUID (so a later message with the number alone finds the same conversation), and the
    new number or BSUID WhatsApp announces when a person changes either. A message with a BSUID never
    follows a link of its number: a recycled number must not lead a stranger into someone else's
    conversation. Raises ``StateUnavailable`` when the store cannot be reached."""

    def __init__(self, channel: str, store: Optional[StateStore] = None, ttl_seconds: float = LINK_TTL_SECONDS) -> None:
        self.channel = channel
        self.store = store or MemoryStore()
        self.ttl = ttl_seconds

    def _key(self, conversation: str) -> str:
        return state_key(self.channel, "link", conversation)

    async def _link(self, own: str, found: str) -> None:
        await self.store.put(self._key(own), found, self.ttl)

    def _own(self, person: Person) -> str:
        if person.user_id:
            return user_conversation_id(self.channel, person.user_id)
        return conversation_id(self.channel, person.phone)

    async def _resolve(self, person: Person) -> str:
        own = self._own(person)
        linked = await self.store.get(self._key(own))
        return linked if isinstance(linked, str) else own

    async def conversation(self, person: Person) -> str:
        """The conversation of a person's message (ValueError for a message naming nobody)."""
        if not person:
            raise ValueError("a message without a sender")
        found = await self._resolve(person)
        if person.user_id and person.phone:
            await self._link(conversation_id(self.channel, person.phone), found)
        if found != self._own(person):
            await self._link(self._own(person), found)  # a link in use is kept
        return found

    async def changed(self, previous: Person, new: Person) -> Optional[str]:
        """WhatsApp announced that ``previous`` is now ``new``: their messages go on in the same conversation."""
        if not previous or not new:
            return None
        found = await self._resolve(previous)
        if new.user_id:
            await self._link(user_conversation_id(self.channel, new.user_id), found)
        if new.phone:
            await self._link(conversation_id(self.channel, new.phone), found)
        return found


class Choices:
    """The options last offered to each conversation, so that "2" picks the second one.

    A convenience, never a reason to fail a turn: with the store unreachable, nothing is offered and
    a typed number goes to Rasa as typed (said once per failure in the log, with the error's kind)."""

    def __init__(
        self, channel: str, store: Optional[StateStore] = None, ttl_seconds: float = CHOICES_TTL_SECONDS
    ) -> None:
        self.channel = channel
        self.store = store or MemoryStore()
        self.ttl = ttl_seconds

    def _key(self, conversation: str) -> str:
        return state_key(self.channel, "choices", conversation)

    async def offer(self, conversation: str, payloads: List[str]) -> None:
        try:
            if payloads:
                await self.store.put(self._key(conversation), list(payloads), self.ttl)
            else:
                await self.store.pop(self._key(conversation))
        except StateUnavailable as error:
            logger.warning("%s: the options offered could not be kept (%s).", self.channel, error.kind)

    async def resolve(self, conversation: str, text: str) -> str:
        """The payload of the option a typed number names, or the text unchanged."""
        match = _TYPED_NUMBER.match(text or "")
        if not match:
            return text
        try:
            payloads = await self.store.get(self._key(conversation))
        except StateUnavailable as error:
            logger.warning(
                "%s: the options offered could not be read (%s); the text goes as typed.", self.channel, error.kind
            )
            return text
        if isinstance(payloads, list) and 1 <= int(match.group(1)) <= len(payloads):
            return str(payloads[int(match.group(1)) - 1])
        return text


def button_payloads(buttons: List[Dict[str, str]]) -> List[str]:
    return [str(b.get("payload") or b.get("title") or "") for b in buttons]


async def read_body(request: Request, limit: int) -> Optional[bytes]:
    """The request's body, or None when it is over ``limit`` bytes: a declared Content-Length over
    the limit is refused before anything is read, and a chunked body is read only up to the limit.
    The route must be a streaming one (``stream=True``) for the body not to be read beforehand."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > limit:
                return None
        except ValueError:
            return None
    if request.body:  # a non-streaming route: Sanic has read it already
        return request.body if len(request.body) <= limit else None
    stream: Any = request.stream
    if stream is None:
        return b""
    chunks: List[bytes] = []
    size = 0
    async for chunk in stream:
        size += len(chunk)
        if size > limit:
            return None  # the rest is discarded by Sanic, never kept
        chunks.append(chunk)
    request.body = b"".join(chunks)
    return request.body


class DeliveryFailed(Exception):
    """A message pushed outside a turn (an adviser's reply, a handoff notice) did not reach the person.

    Rasa's HTTP API answers 500 with this text in its message, which the console reads back as the
    message's delivery state: ``delivery_failed:<reason>:<code>`` (reasons: no_address, not_connected,
    no_template, platform_refused, platform_unreachable; code: the platform's error code, if any).
    It names no person and carries no text."""

    def __init__(self, reason: str, code: str = "") -> None:
        super().__init__(f"delivery_failed:{reason}:{code}")
        self.reason = reason
        self.code = code


@dataclass(frozen=True)
class SendResult:
    """What the platform said to one send: accepted, or refused with its status and error code."""

    ok: bool
    status: int = 0
    code: str = ""

    def raise_if_failed(self) -> None:
        if not self.ok:
            raise DeliveryFailed("platform_refused" if self.status else "platform_unreachable", self.code)


def error_code(body: bytes) -> str:
    """The platform's error code in an error answer: Meta's ``{"error": {"code": 131047}}``, Twilio's
    ``{"code": 63016}``; empty when there is none."""
    try:
        found = json.loads(body or b"{}")
    except ValueError:
        return ""
    if not isinstance(found, dict):
        return ""
    nested = found.get("error")
    code = nested.get("code") if isinstance(nested, dict) else found.get("code")
    return str(code)[:32] if isinstance(code, (int, str)) and str(code).isalnum() else ""


class PlatformClient:
    """POSTs to one messaging platform through one pooled aiohttp session, created lazily in the
    running loop and reused by every send; each try has a timeout, 429, 5xx and network errors are
    tried again within the deadline (``outbound.retry``), other answers are final. A failed send is
    logged once, with the platform's status or the error's type: never the message or the recipient."""

    def __init__(
        self,
        platform: str,
        timeout_seconds: float,
        policy: RetryPolicy,
        auth: Optional[aiohttp.BasicAuth] = None,
        headers: Optional[Dict[str, str]] = None,
    ) -> None:
        self.platform = platform
        self.timeout_seconds = timeout_seconds
        self.policy = policy
        self._auth = auth
        self._headers = dict(headers or {})
        self._session: Optional[aiohttp.ClientSession] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None

    def session(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._loop is not loop:
            self._session = aiohttp.ClientSession(
                auth=self._auth,
                headers=self._headers,
                timeout=aiohttp.ClientTimeout(total=self.timeout_seconds),
                connector=aiohttp.TCPConnector(limit=32, keepalive_timeout=30),
            )
            self._loop = loop
        return self._session

    async def close(self) -> None:
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()

    async def post(self, url: str, **request: Any) -> bool:
        """True once the platform accepted the message; False (logged once) when it could not be sent."""
        return (await self.send(url, **request)).ok

    async def send(self, url: str, **request: Any) -> SendResult:
        """What the platform answered, after retries: accepted, refused (status and error code), or
        unreachable (status 0). A failure is logged once, with the status and code only."""
        session = self.session()

        async def attempt(seconds_left: float) -> Tuple[int, bytes]:
            timeout = aiohttp.ClientTimeout(total=min(self.timeout_seconds, seconds_left))
            try:
                async with session.post(url, timeout=timeout, **request) as reply:
                    body = await reply.read()
                    if retryable_status(reply.status):
                        raise RetryableError(f"status {reply.status}")
                    return reply.status, body
            except (aiohttp.ClientError, asyncio.TimeoutError) as error:
                raise RetryableError(type(error).__name__) from error

        try:
            status, body = await self.policy.acall(attempt)
        except DeadlineExceeded as error:
            last = error.last
            reason = str(last) if isinstance(last, RetryableError) else type(last).__name__ if last else "deadline"
            logger.warning("%s: a reply could not be sent (%s, after retries).", self.platform, reason)
            status_text = reason.split()[-1] if reason.startswith("status ") else ""
            return SendResult(False, int(status_text) if status_text.isdigit() else 0)
        if status >= 400:
            code = error_code(body)
            logger.warning("%s refused a reply with status %s (error %s).", self.platform, status, code or "-")
            return SendResult(False, status, code)
        return SendResult(True, status)


def platform_client(
    platform: str, auth: Optional[aiohttp.BasicAuth] = None, headers: Optional[Dict[str, str]] = None
) -> PlatformClient:
    """A platform client with the process's settings: each try's timeout, tries, the send's deadline."""
    settings = rasa_settings()
    policy = RetryPolicy(attempts=settings.platform_attempts, backoff=0.2, deadline=settings.platform_deadline_seconds)
    return PlatformClient(platform, settings.platform_timeout_seconds, policy, auth=auth, headers=headers)
