"""The web chat channel: Rasa's socket.io channel, open only to the site that embeds the widget.

Two corrections to Rasa 3.6's SocketIOInput:
- it builds its socket.io server with CORS handling switched off, which lets a page on any
  origin open a socket; here the server accepts the origins in WEB_ORIGINS (comma-separated;
  default the local widget page of `make run`) and refuses the rest;
- its `session_request` handler calls `enter_room` without awaiting it, which
  python-socketio 5.12+ made a coroutine: the tab never joins its conversation's room and no
  reply reaches it. The handler is replaced with one that awaits, and that accepts only a
  well-formed session id;
- its message handler reads any shape, has no size limit and lets a failed turn go silent: here
  a socket.io packet over TAWJIH_MAX_BODY_BYTES closes the connection, and each message goes
  through `channels.turns.deliver` (length limit, cleaned payloads, a kind word when a part is down).
"""

from __future__ import annotations

import inspect
import re
import uuid
from typing import Any, Awaitable, Callable, Dict, List, Optional

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint

from channels.handoff import handoff_change
from channels.messaging import DeliveryFailed
from channels.settings import rasa_settings
from channels.turns import deliver

SESSION_ID = re.compile(r"[A-Za-z0-9-]{8,64}")


def allowed_origins() -> List[str]:
    return rasa_settings().allowed_web_origins


class WebChatOutput(SocketIOOutput):
    """Rasa's socket.io output, telling the widget who speaks: an adviser's message carries
    ``"from": "adviser"`` (never who), and a handoff notice ``"handoff": "opened" | "taken" | ...`` so that
    the widget shows that a person answers (and does not say "Tawjih takes time to answer")."""

    def __init__(self, sio: Any, bot_message_evt: str) -> None:
        super().__init__(sio, bot_message_evt)
        self._extra: Dict[str, Any] = {}

    async def send_response(self, recipient_id: str, message: Dict[str, Any]) -> None:
        extra: Dict[str, Any] = {}
        if message.get("adviser_id") is not None:
            extra["from"] = "adviser"
        change = handoff_change(message)
        if change:
            extra["handoff"] = change
        self._extra = extra
        try:
            await super().send_response(recipient_id, message)
        finally:
            self._extra = {}

    async def _send_message(self, socket_id: str, response: Any) -> None:
        if self._extra and isinstance(response, dict):
            response = {**response, **self._extra}
        await super()._send_message(socket_id, response)


class WebChatPush(WebChatOutput):
    """Messages pushed outside a turn (an adviser's reply, a handoff notice): sent to the conversation's
    open tabs. With none open, nothing would show it (the widget keeps its history in the tab), so the
    send fails (``DeliveryFailed``) and Rasa stores nothing: the adviser sees it was not delivered."""

    def __init__(self, sio: Any, bot_message_evt: str, namespace: Optional[str]) -> None:
        super().__init__(sio, bot_message_evt)
        self.namespace = namespace or "/"

    def _connected(self, room: str) -> bool:
        return any(True for _ in self.sio.manager.get_participants(self.namespace, room))

    async def send_response(self, recipient_id: str, message: Dict[str, Any]) -> None:
        if not self._connected(recipient_id):
            raise DeliveryFailed("not_connected")
        await super().send_response(recipient_id, message)

    async def send_custom_json(self, recipient_id: str, json_message: Dict[str, Any], **kwargs: Any) -> None:
        if json_message.get("tawjih_template"):
            raise DeliveryFailed("no_template")  # templates are WhatsApp's; a tab gets free text
        await super().send_custom_json(recipient_id, json_message, **kwargs)


class WebChatInput(SocketIOInput):
    @classmethod
    def name(cls) -> str:
        return "socketio"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> InputChannel:
        channel = super().from_credentials(credentials)
        assert isinstance(channel, WebChatInput)
        return channel

    def get_output_channel(self) -> Optional[OutputChannel]:
        if self.sio is None:
            return None
        return WebChatPush(self.sio, self.bot_message_evt, self.namespace)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = super().blueprint(on_new_message)
        sio = self.sio
        assert sio is not None
        # Read on every connection by python-engineio: a browser's Origin must be one of these.
        sio.eio.cors_allowed_origins = allowed_origins()
        # A larger packet closes the connection before anything of it is read.
        sio.eio.max_http_buffer_size = rasa_settings().max_body_bytes

        async def session_request(sid: str, data: Optional[Dict[str, Any]]) -> None:
            wanted = (data or {}).get("session_id") if isinstance(data, dict) else None
            session_id = wanted if isinstance(wanted, str) and SESSION_ID.fullmatch(wanted) else uuid.uuid4().hex
            if self.session_persistence:
                joined = sio.enter_room(sid, session_id, namespace=self.namespace)
                if inspect.isawaitable(joined):
                    await joined
            await sio.emit("session_confirm", session_id, room=sid, namespace=self.namespace)

        async def user_message(sid: str, data: Any) -> None:
            if not isinstance(data, dict) or not isinstance(data.get("message"), str):
                return  # not a message the widget sends: nothing to answer, nothing stored
            session_id = data.get("session_id")
            if self.session_persistence and not (isinstance(session_id, str) and SESSION_ID.fullmatch(session_id)):
                return
            metadata = data.get(self.metadata_key)
            output = WebChatOutput(sio, self.bot_message_evt)
            recipient = str(session_id) if self.session_persistence else sid
            await deliver(
                on_new_message,
                output,
                data["message"],
                recipient,
                self.name(),
                metadata if isinstance(metadata, dict) else None,
            )

        sio.on("session_request", session_request, namespace=self.namespace)
        sio.on(self.user_message_evt, user_message, namespace=self.namespace)
        return blueprint
