"""The REST channel (`rest`): `POST /webhooks/rest/webhook`, for integrators and the tests.

Rasa's own REST channel is open to anyone, puts every request without a sender in one shared
conversation ("default"), answers 200 with nothing to bodies it cannot read and logs the text of a
message that failed. This one:
- refuses every request without ``Authorization: Bearer <TAWJIH_REST_TOKEN>`` (401), and answers
  503 while no token is set: it is never open;
- reads only a JSON object with a string ``sender`` (1-128 characters) and a string ``message``, and
  an optional object ``metadata``; anything else gets a 400 with a short reason;
- refuses a body over ``TAWJIH_MAX_BODY_BYTES`` (413) and answers an overlong message kindly;
- hands the message to Rasa through ``channels.turns.deliver``: replies only for a turn that was
  stored, a kind "technical problem" (with status 503) when it could not be.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
from typing import Any, Awaitable, Callable, Dict, Optional, Tuple

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.messaging import DeliveryFailed
from channels.payloads import warm_up
from channels.settings import rasa_settings, report_missing
from channels.turns import Outcome, deliver

logger = logging.getLogger(__name__)

MAX_SENDER_CHARS = 128
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class EnvelopeError(ValueError):
    """What is wrong with a request body, in a short sentence for the client."""


def read_envelope(body: bytes) -> Tuple[str, str, Optional[Dict[str, Any]]]:
    """The sender, the message and the metadata of a request body, or EnvelopeError saying why not."""
    try:
        envelope = json.loads(body.decode("utf-8")) if body else None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise EnvelopeError("the body must be a JSON object") from None
    if not isinstance(envelope, dict):
        raise EnvelopeError("the body must be a JSON object")
    sender, message, metadata = envelope.get("sender"), envelope.get("message"), envelope.get("metadata")
    if not isinstance(sender, str) or not sender.strip():
        raise EnvelopeError("'sender' must be a non-empty string")
    if len(sender) > MAX_SENDER_CHARS or _CONTROL.search(sender):
        raise EnvelopeError(f"'sender' must be at most {MAX_SENDER_CHARS} printable characters")
    if not isinstance(message, str):
        raise EnvelopeError("'message' must be a string")
    if metadata is not None and not isinstance(metadata, dict):
        raise EnvelopeError("'metadata' must be a JSON object")
    return sender, message, metadata


def bearer_token(request: Request) -> str:
    header = request.headers.get("Authorization") or ""
    return header[len("Bearer ") :].strip() if header.startswith("Bearer ") else ""


def refusal(status: int, reason: str) -> HTTPResponse:
    return response.json({"error": reason}, status=status)


class NoPush(OutputChannel):
    """A REST client only hears answers to its own requests: nothing can be pushed to it later. An adviser's
    message is refused (the console must not show it as sent); the bot's handoff notices (an adviser took
    the request, closed it) are only recorded, as every answer of a conversation is."""

    @classmethod
    def name(cls) -> str:
        return "rest"

    async def send_response(self, recipient_id: str, message: Dict[str, Any]) -> None:
        if message.get("adviser_id") is not None or (message.get("custom") or {}).get("tawjih_template"):
            raise DeliveryFailed("cannot_push")


class RestInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> InputChannel:
        return cls()

    def get_output_channel(self) -> OutputChannel:
        return NoPush()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        settings = rasa_settings()
        warm_up()
        report_missing(self.name(), settings.missing("rest_token"), "it answers 503 to every request")
        webhook = Blueprint("tawjih_rest_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not settings.rest_token:
                return refusal(503, "the REST channel is not configured")
            if not hmac.compare_digest(bearer_token(request).encode(), settings.rest_token.encode()):
                return refusal(401, "a valid bearer token is required")
            if len(request.body or b"") > settings.max_body_bytes:
                return refusal(413, f"the body must be at most {settings.max_body_bytes} bytes")
            try:
                sender, text, metadata = read_envelope(request.body or b"")
            except EnvelopeError as error:
                return refusal(400, str(error))
            collector = CollectingOutputChannel()
            outcome = await deliver(on_new_message, collector, text, sender, self.name(), metadata)
            status = 503 if outcome in (Outcome.not_saved, Outcome.failed) else 200
            return response.json(collector.messages, status=status)

        return webhook
