"""WhatsApp through Twilio (`twilio_whatsapp`): webhook `/webhooks/twilio_whatsapp/webhook`.

Rasa's own Twilio channel accepts any POST, handles the message on the request path and
sends with Twilio's blocking client. This one wraps it: a body over TAWJIH_MAX_BODY_BYTES is
refused (413) before it is read, every request must carry a valid `X-Twilio-Signature` (checked
with the twilio package's RequestValidator), the reply to Twilio is immediate, the message is
handled off the request path through `channels.turns.deliver` (length limit, a kind word when a
part is down), media and locations are answered like on the Cloud API, buttons become numbered
text, and replies go through Twilio's REST API through one pooled client, with timeouts and retries.

Settings (`channels.settings`): TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_WHATSAPP_NUMBER
("whatsapp:+1..."), TWILIO_WEBHOOK_URL (the public URL Twilio calls, which the signature covers;
unset, the URL the request came to), TWILIO_API_BASE, TAWJIH_CONVERSATION_ID_KEY. Until every one
it needs is set, the channel says which are missing when it starts and answers 503.
"""

from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable, Dict, List, Optional
from urllib.parse import parse_qsl

import aiohttp
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.twilio import TwilioInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from twilio.request_validator import RequestValidator

from channels.handoff import Addresses, AddressKeepingOutput, HandoffPush
from channels.messaging import (
    MEDIA_KINDS,
    Choices,
    DeliveryFailed,
    Identities,
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
    split_text,
)
from channels.settings import RasaSettings, rasa_settings, report_missing
from channels.state import StateUnavailable, close_state_stores, state_store
from channels.turns import deliver

logger = logging.getLogger(__name__)

TEXT_LIMIT = 1600
REQUIRED = ("twilio_account_sid", "twilio_auth_token", "twilio_whatsapp_number", "conversation_id_key")
ADDRESS_PREFIX = "whatsapp:"


class TwilioApi:
    def __init__(self, settings: RasaSettings) -> None:
        self.url = f"{settings.twilio_api_base}/2010-04-01/Accounts/{settings.twilio_account_sid}/Messages.json"
        self.sender = settings.twilio_whatsapp_number
        self.client: PlatformClient = platform_client(
            "Twilio", auth=aiohttp.BasicAuth(settings.twilio_account_sid, settings.twilio_auth_token)
        )

    async def send(self, to: str, body: str) -> SendResult:
        return await self.client.send(self.url, data={"From": self.sender, "To": to, "Body": body})

    async def send_template(self, to: str, content_sid: str) -> SendResult:
        return await self.client.send(self.url, data={"From": self.sender, "To": to, "ContentSid": content_sid})


class TwilioWhatsAppOutput(AddressKeepingOutput):
    @classmethod
    def name(cls) -> str:
        return "twilio_whatsapp"

    def __init__(
        self,
        api: TwilioApi,
        address: str,
        conversation: str,
        choices: Choices,
        addresses: Optional[Addresses] = None,
        strict: bool = False,
        content_sid: str = "",
    ) -> None:
        self.api = api
        self.to = address  # "whatsapp:+212...", kept here (and, sealed, during a handoff: privacy.addresses)
        self.conversation = conversation
        self.choices = choices
        self.addresses = addresses
        # Pushed outside a turn (an adviser's reply): a refused send raises DeliveryFailed for the console.
        self.strict = strict
        self.content_sid = content_sid

    def _check(self, result: SendResult) -> None:
        if self.strict:
            result.raise_if_failed()

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        for piece in split_text(text, TEXT_LIMIT):
            self._check(await self.api.send(self.to, piece))

    async def send_custom_json(self, recipient_id: str, json_message: Dict[str, Any], **kwargs: Any) -> None:
        """Only the handoff template (TWILIO_HANDOFF_CONTENT_SID) is sent; other custom payloads are not for WhatsApp."""
        if not json_message.get("tawjih_template"):
            return
        if not self.content_sid:
            raise DeliveryFailed("no_template")
        self._check(await self.api.send_template(self.to, self.content_sid))

    def address(self) -> Dict[str, Any]:
        return {"address": self.to}

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: List[Dict[str, Any]], **kwargs: Any
    ) -> None:
        await self.choices.offer(self.conversation, button_payloads(buttons))
        await self.send_text_message(recipient_id, numbered(text, [str(b.get("title") or "") for b in buttons]))


class TwilioWhatsAppPush(HandoffPush):
    """Messages pushed outside a turn (``channels.handoff.HandoffPush``), to the "whatsapp:+212..." address."""

    @classmethod
    def name(cls) -> str:
        return "twilio_whatsapp"

    def output_to(self, recipient_id: str, address: Dict[str, Any]) -> Optional[AddressKeepingOutput]:
        to = str(address.get("address") or "")
        if not to:
            return None
        return TwilioWhatsAppOutput(
            self.channel.api,
            to,
            recipient_id,
            self.channel.choices,
            addresses=self.channel.addresses,
            strict=True,
            content_sid=self.channel.settings.twilio_handoff_content_sid,
        )


def as_text(form: Dict[str, str]) -> Optional[str]:
    if form.get("Latitude") and form.get("Longitude"):
        try:
            return location_message(float(form["Latitude"]), float(form["Longitude"]))
        except ValueError:
            return None
    try:
        media = int(form.get("NumMedia") or 0)
    except ValueError:
        media = 0
    if media > 0:
        kind = (form.get("MediaContentType0") or "").split("/")[0]
        return media_message(kind if kind in MEDIA_KINDS else "document")
    return form.get("ButtonPayload") or form.get("Body")


class TwilioWhatsAppInput(TwilioInput):
    @classmethod
    def name(cls) -> str:
        return "twilio_whatsapp"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> InputChannel:
        return cls(rasa_settings())

    def __init__(self, settings: RasaSettings) -> None:
        super().__init__(
            settings.twilio_account_sid, settings.twilio_auth_token, settings.twilio_whatsapp_number, debug_mode=False
        )
        self.settings = settings
        self.missing = settings.missing(*REQUIRED)
        self.api = TwilioApi(settings)
        self.validator = RequestValidator(settings.twilio_auth_token)
        # In memory: one bounded store each; in Redis: the process's one pool for all three.
        self.seen = SeenMessages(self.name(), state_store(settings.channel_state_url))
        self.choices = Choices(self.name(), state_store(settings.channel_state_url))
        self.identities = Identities(self.name(), state_store(settings.channel_state_url))
        self.addresses = Addresses(settings.conversation_id_key)

    @property
    def configured(self) -> bool:
        return not self.missing

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        report_missing(self.name(), self.missing, "its webhook answers 503")
        report_missing(
            self.name(),
            self.settings.missing("twilio_webhook_url"),
            "signatures are checked against the URL each request came to (wrong behind a proxy)",
        )
        webhook = Blueprint("twilio_whatsapp_webhook", __name__)

        @webhook.listener("after_server_stop")
        async def close_client(*_: Any) -> None:
            await self.api.client.close()
            await close_state_stores()

        @webhook.route("/webhook", methods=["POST"], stream=True)
        async def receive(request: Request) -> HTTPResponse:
            if not self.configured:
                return response.text("Twilio is not configured", status=503)
            body = await read_body(request, self.settings.max_body_bytes)
            if body is None:
                return response.text("payload too large", status=413)
            # Parsed here, blanks kept: Twilio signs every field, "Body=" of a voice note included.
            form = dict(parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True))
            url = self.settings.twilio_webhook_url or request.url
            signature = request.headers.get("X-Twilio-Signature") or ""
            if not signature or not self.validator.validate(url, form, signature):
                return response.text("forbidden", status=403)
            address, message_id, text = form.get("From") or "", form.get("MessageSid") or "", as_text(form)
            bare = address[len(ADDRESS_PREFIX) :] if address.startswith(ADDRESS_PREFIX) else address
            person = person_from(bare)
            if not (person and message_id and text is not None):
                logger.warning("Twilio: a signed request without a sender, a message id or content was skipped.")
            else:
                try:
                    # Worked out before the message is claimed: whatever fails, fails before the 200.
                    if not await self.seen.seen(message_id):
                        conversation = await self.identities.conversation(person)
                        if await self.seen.first_time(message_id):  # one instance of several wins
                            request.app.add_task(self._handle(address, conversation, text, on_new_message))
                except StateUnavailable as error:
                    logger.warning("Twilio: the channel state store is unreachable (%s); answered 503.", error.kind)
                    return response.text("try again later", status=503)
            # An empty TwiML answer: the replies go through the REST API.
            return response.text("<Response/>", content_type="application/xml")

        return webhook

    async def _handle(
        self, address: str, conversation: str, text: str, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> None:
        try:
            chosen = await self.choices.resolve(conversation, text)
            await self.choices.offer(conversation, [])
            await self.addresses.refresh(conversation, self.name(), {"address": address})
            output = TwilioWhatsAppOutput(
                self.api,
                address,
                conversation,
                self.choices,
                addresses=self.addresses,
                content_sid=self.settings.twilio_handoff_content_sid,
            )
            await deliver(on_new_message, output, chosen, conversation, self.name())
        except Exception as error:  # noqa: BLE001 - logged without the message or the number
            logger.error("Twilio message in %s failed: %s", conversation, type(error).__name__)

    def get_output_channel(self) -> OutputChannel:
        return TwilioWhatsAppPush(self)
