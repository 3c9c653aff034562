"""WhatsApp Cloud API channel (`whatsapp`): webhook `/webhooks/whatsapp/webhook`.

GET answers Meta's verification challenge. POST refuses a body over TAWJIH_MAX_BODY_BYTES (413)
before reading it, checks `X-Hub-Signature-256` (HMAC-SHA256 of the raw body with the app
secret), acknowledges at once and handles the messages off the request path; a retried delivery
is dropped by message id (answered 503 while the store of seen ids, `channels.state`, is
unreachable: Meta retries), status callbacks are ignored. Every message goes to Rasa through
`channels.turns.deliver` (length limit, a kind word when a part is down).

People are named by their phone number, their business-scoped user id (BSUID, since WhatsApp
usernames), or both: the conversation is keyed on the BSUID when there is one, replies go to the
number when Meta gives one and to the BSUID (`recipient`) otherwise, and the system messages that
announce a new number or BSUID keep the person in their conversation (README, "Phone numbers").

Settings (`channels.settings`): WHATSAPP_VERIFY_TOKEN, WHATSAPP_APP_SECRET, WHATSAPP_ACCESS_TOKEN,
WHATSAPP_PHONE_NUMBER_ID, WHATSAPP_API_BASE, TAWJIH_CONVERSATION_ID_KEY. Until every one it needs
is set, the channel says which are missing when it starts and answers 503: Meta retries later.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Dict, List, Optional, Tuple

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.handoff import Addresses, AddressKeepingOutput, HandoffPush
from channels.messaging import (
    LIST_BUTTON,
    MEDIA_KINDS,
    Choices,
    DeliveryFailed,
    Identities,
    Person,
    PlatformClient,
    SeenMessages,
    SendResult,
    button_payloads,
    location_message,
    media_message,
    numbered,
    person_from,
    platform_client,
    read_body,
    register_of_text,
    split_text,
)
from channels.settings import RasaSettings, rasa_settings, report_missing
from channels.state import StateUnavailable, close_state_stores, state_store
from channels.turns import deliver

logger = logging.getLogger(__name__)

TEXT_LIMIT = 4096
INTERACTIVE_BODY_LIMIT = 1024
MAX_REPLY_BUTTONS, REPLY_BUTTON_TITLE = 3, 20
MAX_LIST_ROWS, LIST_ROW_TITLE = 10, 24
REQUIRED = ("whatsapp_app_secret", "whatsapp_access_token", "whatsapp_phone_number_id", "conversation_id_key")
# The system messages that announce a person's new number or new BSUID ("customer_changed_number":
# the name before Graph API v12).
IDENTITY_CHANGES = ("user_changed_number", "user_changed_user_id", "customer_changed_number")


def signature_is_valid(app_secret: str, body: bytes, header: Optional[str]) -> bool:
    if not app_secret or not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header[len("sha256=") :])


class GraphApi:
    """Sends messages through the Graph API, through one pooled client (`PlatformClient`)."""

    def __init__(self, settings: RasaSettings) -> None:
        self.url = f"{settings.whatsapp_api_base}/{settings.whatsapp_phone_number_id}/messages"
        self.client: PlatformClient = platform_client(
            "Graph API", headers={"Authorization": f"Bearer {settings.whatsapp_access_token}"}
        )

    async def send(self, payload: Dict[str, Any]) -> SendResult:
        return await self.client.send(self.url, json=payload)


def template_message(setting: str) -> Optional[Dict[str, Any]]:
    """The Graph API ``template`` body for WHATSAPP_HANDOFF_TEMPLATE ("name" or "name:language")."""
    name, _, language = setting.strip().partition(":")
    if not name.strip():
        return None
    return {"name": name.strip(), "language": {"code": language.strip() or "fr"}}


def addressed_to(person: Person) -> Dict[str, str]:
    """Where a reply goes: to the number when Meta gave one (Meta's advice, so that webhooks keep
    carrying it), otherwise to the BSUID in ``recipient``. Never both: ``to`` would win."""
    return {"to": person.phone} if person.phone else {"recipient": person.user_id}


def address_of(person: Person) -> Dict[str, str]:
    """What is sealed in the address book for a person (``privacy.addresses``)."""
    return {"phone": person.phone, "user_id": person.user_id}


def person_of(address: Dict[str, Any]) -> Person:
    return Person(phone=str(address.get("phone") or ""), user_id=str(address.get("user_id") or ""))


class WhatsAppPush(HandoffPush):
    """Messages pushed outside a turn (``channels.handoff.HandoffPush``), to the person's number or BSUID."""

    @classmethod
    def name(cls) -> str:
        return "whatsapp"

    def output_to(self, recipient_id: str, address: Dict[str, Any]) -> Optional[AddressKeepingOutput]:
        return WhatsAppOutput(
            self.channel.api,
            person_of(address),
            recipient_id,
            self.channel.choices,
            addresses=self.channel.addresses,
            strict=True,
            template=self.channel.settings.whatsapp_handoff_template,
        )


class WhatsAppOutput(AddressKeepingOutput):
    """Replies to one person; holds their number or BSUID so that Rasa never has to."""

    @classmethod
    def name(cls) -> str:
        return "whatsapp"

    def __init__(
        self,
        api: GraphApi,
        person: Person,
        conversation: str,
        choices: Choices,
        addresses: Optional[Addresses] = None,
        strict: bool = False,
        template: str = "",
    ) -> None:
        self.api = api
        self.person = person
        self.conversation = conversation
        self.choices = choices
        self.addresses = addresses
        # Pushed outside a turn (an adviser's reply): a refused send raises DeliveryFailed for the console.
        self.strict = strict
        self.template = template

    async def _send(self, kind: str, body: Dict[str, Any]) -> None:
        result = await self.api.send(self._message(kind, body))
        if self.strict:
            result.raise_if_failed()

    def address(self) -> Dict[str, Any]:
        return address_of(self.person)

    async def send_custom_json(self, recipient_id: str, json_message: Dict[str, Any], **kwargs: Any) -> None:
        """Only the handoff template is sent; other custom payloads are not for WhatsApp (never dumped as text)."""
        if not json_message.get("tawjih_template"):
            return
        template = template_message(self.template)
        if template is None:
            raise DeliveryFailed("no_template")
        await self._send("template", template)

    def _message(self, kind: str, body: Dict[str, Any]) -> Dict[str, Any]:
        return {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            **addressed_to(self.person),
            "type": kind,
            kind: body,
        }

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        for piece in split_text(text, TEXT_LIMIT):
            await self._send("text", {"body": piece, "preview_url": False})

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: List[Dict[str, Any]], **kwargs: Any
    ) -> None:
        titles = [str(b.get("title") or "") for b in buttons]
        payloads = button_payloads(buttons)
        await self.choices.offer(self.conversation, payloads)
        if len(text) > INTERACTIVE_BODY_LIMIT or not text.strip():
            await self.send_text_message(recipient_id, numbered(text, titles))
        elif len(buttons) <= MAX_REPLY_BUTTONS and all(len(t) <= REPLY_BUTTON_TITLE for t in titles):
            await self._send(
                "interactive",
                {
                    "type": "button",
                    "body": {"text": text},
                    "action": {
                        "buttons": [
                            {"type": "reply", "reply": {"id": p, "title": t}}
                            for p, t in zip(payloads, titles, strict=True)
                        ]
                    },
                },
            )
        elif len(buttons) <= MAX_LIST_ROWS and all(len(t) <= LIST_ROW_TITLE for t in titles):
            await self._send(
                "interactive",
                {
                    "type": "list",
                    "body": {"text": text},
                    "action": {
                        "button": LIST_BUTTON[register_of_text(text)],
                        "sections": [{"rows": [{"id": p, "title": t} for p, t in zip(payloads, titles, strict=True)]}],
                    },
                },
            )
        else:
            await self.send_text_message(recipient_id, numbered(text, titles))


@dataclass(frozen=True)
class Incoming:
    message_id: str
    person: Person
    text: str


@dataclass(frozen=True)
class IdentityChange:
    message_id: str
    previous: Person
    new: Person


@dataclass(frozen=True)
class Delivery:
    """What a webhook delivery holds for Tawjih: people's messages and announced identity changes."""

    messages: List[Incoming]
    changes: List[IdentityChange]
    # Messages that name nobody (no number, no BSUID anywhere): counted, and said in the log.
    anonymous: int = 0


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _sender(message: Dict[str, Any], contacts: List[Dict[str, Any]]) -> Person:
    """The sender of a message, wherever Meta put them: ``from`` (a number, absent for a person
    whose number Meta does not share), ``from_user_id`` (the BSUID), or the delivery's ``contacts``
    (``wa_id``, ``user_id``), matched on either identifier, or the only contact there is."""
    sender, user_id = _text(message.get("from")), _text(message.get("from_user_id"))
    contact: Dict[str, Any] = {}
    for candidate in contacts:
        if (sender and sender in (candidate.get("wa_id"), candidate.get("user_id"))) or (
            user_id and user_id == candidate.get("user_id")
        ):
            contact = candidate
            break
    else:
        if len(contacts) == 1:
            contact = contacts[0]
    return person_from(sender, user_id=user_id or _text(contact.get("user_id")), phone=_text(contact.get("wa_id")))


def _identity_change(message: Dict[str, Any]) -> Optional[Tuple[Person, Person]]:
    """The previous and new identifiers a system message announces (Meta's "System messages webhook
    reference": ``from`` the previous number, ``system.wa_id`` the new one, ``system.user_id`` the
    new BSUID, ``system.previous_user_id`` the previous one)."""
    found = message.get("system")
    system: Dict[str, Any] = found if isinstance(found, dict) else {}
    if _text(system.get("type")) not in IDENTITY_CHANGES:
        return None
    new_user = _text(system.get("user_id"))
    old_user = _text(system.get("previous_user_id"))
    from_user = _text(message.get("from_user_id"))
    if not old_user and from_user and from_user != new_user:
        old_user = from_user
    previous = person_from(_text(message.get("from")), user_id=old_user)
    new = person_from(None, user_id=new_user, phone=_text(system.get("wa_id")) or _text(system.get("new_wa_id")))
    if previous == new:
        return None
    return previous, new


def read_delivery(body: Dict[str, Any]) -> Delivery:
    """The people's messages in a webhook delivery, as text Rasa understands, and the identity
    changes it announces; statuses and messages with nothing to answer (reactions...) are skipped."""
    messages: List[Incoming] = []
    changes: List[IdentityChange] = []
    anonymous = 0
    for entry in body.get("entry") or []:
        for change in entry.get("changes") or []:
            value = change.get("value") or {}
            contacts = [c for c in value.get("contacts") or [] if isinstance(c, dict)]
            for message in value.get("messages") or []:
                if not isinstance(message, dict) or not _text(message.get("id")):
                    continue
                message_id = str(message["id"])
                if message.get("type") == "system":
                    found = _identity_change(message)
                    if found:
                        changes.append(IdentityChange(message_id, *found))
                    continue
                text = _as_text(message)
                if text is None:
                    continue
                person = _sender(message, contacts)
                if not person:
                    anonymous += 1
                    continue
                messages.append(Incoming(message_id, person, text))
    return Delivery(messages, changes, anonymous)


def _as_text(message: Dict[str, Any]) -> Optional[str]:
    kind = message.get("type")
    if kind == "text":
        return str((message.get("text") or {}).get("body") or "")
    if kind == "interactive":
        interactive = message.get("interactive") or {}
        reply = interactive.get("button_reply") or interactive.get("list_reply") or {}
        return str(reply.get("id") or reply.get("title") or "")
    if kind == "button":  # a template's quick-reply button
        return str((message.get("button") or {}).get("payload") or "")
    if kind == "location":
        location = message.get("location") or {}
        try:
            return location_message(float(location["latitude"]), float(location["longitude"]))
        except (KeyError, TypeError, ValueError):
            return None
    if kind in MEDIA_KINDS:
        return media_message(str(kind))
    return None  # reactions, contacts, unsupported: nothing to answer


class WhatsAppInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return "whatsapp"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> "InputChannel":
        return cls(rasa_settings())

    def __init__(self, settings: RasaSettings) -> None:
        self.settings = settings
        self.missing = settings.missing(*REQUIRED)
        self.api = GraphApi(settings)
        # In memory: one bounded store each; in Redis: the process's one pool for all three.
        self.seen = SeenMessages(self.name(), state_store(settings.channel_state_url))
        self.choices = Choices(self.name(), state_store(settings.channel_state_url))
        self.identities = Identities(self.name(), state_store(settings.channel_state_url))
        self.addresses = Addresses(settings.conversation_id_key)

    @property
    def configured(self) -> bool:
        return not self.missing

    def get_output_channel(self) -> OutputChannel:
        return WhatsAppPush(self)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        report_missing(self.name(), self.missing, "its webhook answers 503 and Meta retries later")
        report_missing(self.name(), self.settings.missing("whatsapp_verify_token"), "Meta cannot verify the webhook")
        webhook = Blueprint("whatsapp_webhook", __name__)

        @webhook.listener("after_server_stop")
        async def close_client(*_: Any) -> None:
            await self.api.client.close()
            await close_state_stores()

        @webhook.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            token = request.args.get("hub.verify_token") or ""
            if (
                self.settings.whatsapp_verify_token
                and request.args.get("hub.mode") == "subscribe"
                and hmac.compare_digest(token.encode(), self.settings.whatsapp_verify_token.encode())
            ):
                return response.text(request.args.get("hub.challenge") or "")
            return response.text("forbidden", status=403)

        @webhook.route("/webhook", methods=["POST"], stream=True)
        async def receive(request: Request) -> HTTPResponse:
            if not self.configured:
                return response.text("WhatsApp is not configured", status=503)
            body = await read_body(request, self.settings.max_body_bytes)
            if body is None:
                return response.text("payload too large", status=413)
            if not signature_is_valid(
                self.settings.whatsapp_app_secret, body, request.headers.get("X-Hub-Signature-256")
            ):
                return response.text("forbidden", status=403)
            try:
                parsed = json.loads(body)
                delivery = read_delivery(parsed if isinstance(parsed, dict) else {})
            except Exception:  # noqa: BLE001 - a malformed body from a signed sender: nothing to do
                return response.text("bad request", status=400)
            if delivery.anonymous:
                logger.warning("WhatsApp: %s message(s) named no sender and cannot be answered.", delivery.anonymous)
            # Conversation ids are worked out here, inside the request: whatever fails, fails before
            # the 200, and Meta delivers the message again.
            accepted: List[Tuple[Incoming, str]] = []
            try:
                await self._accept(delivery, accepted)
            except StateUnavailable as error:
                logger.warning("WhatsApp: the channel state store is unreachable (%s); answered 503.", error.kind)
                return response.text("try again later", status=503)
            finally:
                # What was claimed is handled, even when the rest fails: Meta's retry skips it as seen.
                if accepted:
                    request.app.add_task(self._handle(accepted, on_new_message))
            return response.text("ok")

        return webhook

    async def _accept(self, delivery: Delivery, accepted: List[Tuple[Incoming, str]]) -> None:
        """Follow the announced identity changes, then claim the new messages (appended to ``accepted``).

        A message id is claimed atomically, once its conversation is known: of two instances that
        receive the same delivery, one handles it."""
        for change in delivery.changes:
            if not await self.seen.seen(change.message_id):
                await self.identities.changed(change.previous, change.new)
                await self.seen.accept(change.message_id)
        fresh: List[Tuple[Incoming, str]] = []
        for message in delivery.messages:
            if any(m.message_id == message.message_id for m, _ in fresh) or await self.seen.seen(message.message_id):
                continue
            fresh.append((message, await self.identities.conversation(message.person)))
        for message, conversation in fresh:
            if await self.seen.first_time(message.message_id):
                accepted.append((message, conversation))

    async def _handle(
        self, messages: List[Tuple[Incoming, str]], on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> None:
        for message, conversation in messages:
            try:
                text = await self.choices.resolve(conversation, message.text)
                await self.choices.offer(conversation, [])
                # A person in a handoff who writes from a new number is still reached (nothing if none is kept).
                await self.addresses.refresh(conversation, self.name(), address_of(message.person))
                output = WhatsAppOutput(
                    self.api,
                    message.person,
                    conversation,
                    self.choices,
                    addresses=self.addresses,
                    template=self.settings.whatsapp_handoff_template,
                )
                await deliver(on_new_message, output, text, conversation, self.name())
            except Exception as error:  # noqa: BLE001 - one failed message must not stop the others
                logger.error("WhatsApp message in %s failed: %s", conversation, type(error).__name__)
