"""WhatsApp through Twilio (`twilio_whatsapp`): webhook `/webhooks/twilio_whatsapp/webhook`.

Rasa's own Twilio channel accepts any POST, handles the message on the request path and
sends with Twilio's blocking client. This one wraps it: every request must carry a valid
`X-Twilio-Signature` (checked with the twilio package's RequestValidator), the reply to
Twilio is immediate, the message is handled off the request path, media and locations are
answered like on the Cloud API, buttons become numbered text, and replies go through
Twilio's REST API asynchronously, with timeouts and retries.

Settings (environment): TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_WHATSAPP_NUMBER
("whatsapp:+1..."), TWILIO_WEBHOOK_URL (the public URL Twilio calls, which the signature
covers), TWILIO_API_BASE (default Twilio's), TAWJIH_CONVERSATION_ID_KEY.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Dict, List, Optional
from urllib.parse import parse_qsl

import aiohttp
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.twilio import TwilioInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from twilio.request_validator import RequestValidator

from channels.messaging import (
    MEDIA_KINDS,
    Choices,
    SeenMessages,
    button_payloads,
    conversation_id,
    location_message,
    media_message,
    numbered,
    post_with_retries,
    split_text,
)

logger = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://api.twilio.com"
TEXT_LIMIT = 1600


@dataclass(frozen=True)
class TwilioSettings:
    account_sid: str
    auth_token: str
    whatsapp_number: str
    webhook_url: str
    api_base: str
    timeout_seconds: float = 10.0
    attempts: int = 3

    @classmethod
    def from_env(cls) -> "TwilioSettings":
        return cls(
            account_sid=os.environ.get("TWILIO_ACCOUNT_SID", ""),
            auth_token=os.environ.get("TWILIO_AUTH_TOKEN", ""),
            whatsapp_number=os.environ.get("TWILIO_WHATSAPP_NUMBER", ""),
            webhook_url=os.environ.get("TWILIO_WEBHOOK_URL", ""),
            api_base=(os.environ.get("TWILIO_API_BASE") or DEFAULT_API_BASE).rstrip("/"),
        )

    @property
    def configured(self) -> bool:
        return bool(self.account_sid and self.auth_token and self.whatsapp_number)


class TwilioApi:
    def __init__(self, settings: TwilioSettings) -> None:
        self.settings = settings

    async def send(self, to: str, body: str) -> bool:
        return await post_with_retries(
            "Twilio",
            f"{self.settings.api_base}/2010-04-01/Accounts/{self.settings.account_sid}/Messages.json",
            self.settings.timeout_seconds,
            self.settings.attempts,
            auth=aiohttp.BasicAuth(self.settings.account_sid, self.settings.auth_token),
            data={"From": self.settings.whatsapp_number, "To": to, "Body": body},
        )


class TwilioWhatsAppOutput(OutputChannel):
    @classmethod
    def name(cls) -> str:
        return "twilio_whatsapp"

    def __init__(self, api: TwilioApi, address: str, conversation: str, choices: Choices) -> None:
        self.api = api
        self.address = address  # "whatsapp:+212...", kept here and nowhere else
        self.conversation = conversation
        self.choices = choices

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        for piece in split_text(text, TEXT_LIMIT):
            await self.api.send(self.address, piece)

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: List[Dict[str, Any]], **kwargs: Any
    ) -> None:
        self.choices.offer(self.conversation, button_payloads(buttons))
        await self.send_text_message(recipient_id, numbered(text, [str(b.get("title") or "") for b in buttons]))


def as_text(form: Dict[str, str]) -> Optional[str]:
    if form.get("Latitude") and form.get("Longitude"):
        try:
            return location_message(float(form["Latitude"]), float(form["Longitude"]))
        except ValueError:
            return None
    if int(form.get("NumMedia") or 0) > 0:
        kind = (form.get("MediaContentType0") or "").split("/")[0]
        return media_message(kind if kind in MEDIA_KINDS else "document")
    return form.get("ButtonPayload") or form.get("Body")


class TwilioWhatsAppInput(TwilioInput):
    @classmethod
    def name(cls) -> str:
        return "twilio_whatsapp"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> InputChannel:
        return cls(TwilioSettings.from_env())

    def __init__(self, settings: TwilioSettings) -> None:
        super().__init__(settings.account_sid, settings.auth_token, settings.whatsapp_number, debug_mode=False)
        self.settings = settings
        self.api = TwilioApi(settings)
        self.validator = RequestValidator(settings.auth_token)
        self.seen = SeenMessages()
        self.choices = Choices()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("twilio_whatsapp_webhook", __name__)

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self.settings.configured:
                return response.text("Twilio is not configured", status=503)
            # Parsed here, blanks kept: Twilio signs every field, "Body=" of a voice note included.
            form = dict(parse_qsl(request.body.decode("utf-8", errors="replace"), keep_blank_values=True))
            url = self.settings.webhook_url or request.url
            signature = request.headers.get("X-Twilio-Signature") or ""
            if not signature or not self.validator.validate(url, form, signature):
                return response.text("forbidden", status=403)
            sender, message_id, text = form.get("From"), form.get("MessageSid"), as_text(form)
            if sender and message_id and text is not None and self.seen.first_time(message_id):
                request.app.add_task(self._handle(sender, text, on_new_message))
            # An empty TwiML answer: the replies go through the REST API.
            return response.text("<Response/>", content_type="application/xml")

        return webhook

    async def _handle(self, address: str, text: str, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> None:
        conversation = conversation_id(self.name(), address)
        chosen = self.choices.resolve(conversation, text)
        self.choices.offer(conversation, [])
        output = TwilioWhatsAppOutput(self.api, address, conversation, self.choices)
        try:
            await on_new_message(UserMessage(chosen, output, conversation, input_channel=self.name()))
        except Exception as error:  # noqa: BLE001 - logged without the message or the number
            logger.error("Twilio message in %s failed: %s", conversation, type(error).__name__)

    def get_output_channel(self) -> OutputChannel:  # pragma: no cover - replies need the person's address
        raise NotImplementedError("twilio_whatsapp replies through the output made for each message")
