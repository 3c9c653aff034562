"""WhatsApp Cloud API channel (`whatsapp`): webhook `/webhooks/whatsapp/webhook`.

GET answers Meta's verification challenge. POST checks `X-Hub-Signature-256` (HMAC-SHA256
of the raw body with the app secret), acknowledges at once and handles the messages off
the request path; a retried delivery is dropped by message id, status callbacks are
ignored. Replies go through the Graph API with timeouts and retries.

Settings (environment): WHATSAPP_VERIFY_TOKEN, WHATSAPP_APP_SECRET, WHATSAPP_ACCESS_TOKEN,
WHATSAPP_PHONE_NUMBER_ID, WHATSAPP_API_BASE (default Meta's), TAWJIH_CONVERSATION_ID_KEY.
Without the app secret and access token the channel answers 503 and does nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Dict, List, Optional

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.messaging import (
    LIST_BUTTON,
    MEDIA_KINDS,
    Choices,
    SeenMessages,
    button_payloads,
    conversation_id,
    location_message,
    media_message,
    numbered,
    post_with_retries,
    register_of_text,
    split_text,
)

logger = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://graph.facebook.com/v21.0"
TEXT_LIMIT = 4096
INTERACTIVE_BODY_LIMIT = 1024
MAX_REPLY_BUTTONS, REPLY_BUTTON_TITLE = 3, 20
MAX_LIST_ROWS, LIST_ROW_TITLE = 10, 24


@dataclass(frozen=True)
class WhatsAppSettings:
    verify_token: str
    app_secret: str
    access_token: str
    phone_number_id: str
    api_base: str
    timeout_seconds: float = 10.0
    attempts: int = 3

    @classmethod
    def from_env(cls) -> "WhatsAppSettings":
        return cls(
            verify_token=os.environ.get("WHATSAPP_VERIFY_TOKEN", ""),
            app_secret=os.environ.get("WHATSAPP_APP_SECRET", ""),
            access_token=os.environ.get("WHATSAPP_ACCESS_TOKEN", ""),
            phone_number_id=os.environ.get("WHATSAPP_PHONE_NUMBER_ID", ""),
            api_base=(os.environ.get("WHATSAPP_API_BASE") or DEFAULT_API_BASE).rstrip("/"),
        )

    @property
    def configured(self) -> bool:
        return bool(self.app_secret and self.access_token and self.phone_number_id)


def signature_is_valid(app_secret: str, body: bytes, header: Optional[str]) -> bool:
    if not app_secret or not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header[len("sha256=") :])


class GraphApi:
    """Sends messages through the Graph API: a timeout on every call, retries on 429 and 5xx."""

    def __init__(self, settings: WhatsAppSettings) -> None:
        self.settings = settings

    async def send(self, payload: Dict[str, Any]) -> bool:
        return await post_with_retries(
            "Graph API",
            f"{self.settings.api_base}/{self.settings.phone_number_id}/messages",
            self.settings.timeout_seconds,
            self.settings.attempts,
            json=payload,
            headers={"Authorization": f"Bearer {self.settings.access_token}"},
        )


class WhatsAppOutput(OutputChannel):
    """Replies to one person; holds their number so that Rasa never has to."""

    @classmethod
    def name(cls) -> str:
        return "whatsapp"

    def __init__(self, api: GraphApi, phone_number: str, conversation: str, choices: Choices) -> None:
        self.api = api
        self.phone_number = phone_number
        self.conversation = conversation
        self.choices = choices

    def _message(self, kind: str, body: Dict[str, Any]) -> Dict[str, Any]:
        return {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": self.phone_number,
            "type": kind,
            kind: body,
        }

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        for piece in split_text(text, TEXT_LIMIT):
            await self.api.send(self._message("text", {"body": piece, "preview_url": False}))

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: List[Dict[str, Any]], **kwargs: Any
    ) -> None:
        titles = [str(b.get("title") or "") for b in buttons]
        payloads = button_payloads(buttons)
        self.choices.offer(self.conversation, payloads)
        if len(text) > INTERACTIVE_BODY_LIMIT or not text.strip():
            await self.send_text_message(recipient_id, numbered(text, titles))
        elif len(buttons) <= MAX_REPLY_BUTTONS and all(len(t) <= REPLY_BUTTON_TITLE for t in titles):
            await self.api.send(
                self._message(
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
            )
        elif len(buttons) <= MAX_LIST_ROWS and all(len(t) <= LIST_ROW_TITLE for t in titles):
            await self.api.send(
                self._message(
                    "interactive",
                    {
                        "type": "list",
                        "body": {"text": text},
                        "action": {
                            "button": LIST_BUTTON[register_of_text(text)],
                            "sections": [
                                {"rows": [{"id": p, "title": t} for p, t in zip(payloads, titles, strict=True)]}
                            ],
                        },
                    },
                )
            )
        else:
            await self.send_text_message(recipient_id, numbered(text, titles))


@dataclass(frozen=True)
class Incoming:
    message_id: str
    phone_number: str
    text: str


def incoming_messages(body: Dict[str, Any]) -> List[Incoming]:
    """The people's messages in a webhook delivery, as text Rasa understands; statuses are skipped."""
    found = []
    for entry in body.get("entry") or []:
        for change in entry.get("changes") or []:
            for message in (change.get("value") or {}).get("messages") or []:
                text = _as_text(message)
                if text is not None and message.get("id") and message.get("from"):
                    found.append(Incoming(str(message["id"]), str(message["from"]), text))
    return found


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
        return cls(WhatsAppSettings.from_env())

    def __init__(self, settings: WhatsAppSettings) -> None:
        self.settings = settings
        self.api = GraphApi(settings)
        self.seen = SeenMessages()
        self.choices = Choices()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("whatsapp_webhook", __name__)

        @webhook.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            token = request.args.get("hub.verify_token") or ""
            if (
                self.settings.verify_token
                and request.args.get("hub.mode") == "subscribe"
                and hmac.compare_digest(token, self.settings.verify_token)
            ):
                return response.text(request.args.get("hub.challenge") or "")
            return response.text("forbidden", status=403)

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self.settings.configured:
                return response.text("WhatsApp is not configured", status=503)
            if not signature_is_valid(
                self.settings.app_secret, request.body, request.headers.get("X-Hub-Signature-256")
            ):
                return response.text("forbidden", status=403)
            try:
                messages = incoming_messages(request.json or {})
            except Exception:  # noqa: BLE001 - a malformed body from a signed sender: nothing to do
                return response.text("bad request", status=400)
            fresh = [m for m in messages if self.seen.first_time(m.message_id)]
            if fresh:
                request.app.add_task(self._handle(fresh, on_new_message))
            return response.text("ok")

        return webhook

    async def _handle(self, messages: List[Incoming], on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> None:
        for message in messages:
            conversation = conversation_id(self.name(), message.phone_number)
            text = self.choices.resolve(conversation, message.text)
            self.choices.offer(conversation, [])
            output = WhatsAppOutput(self.api, message.phone_number, conversation, self.choices)
            try:
                await on_new_message(UserMessage(text, output, conversation, input_channel=self.name()))
            except Exception as error:  # noqa: BLE001 - one failed message must not stop the others
                logger.error("WhatsApp message in %s failed: %s", conversation, type(error).__name__)
