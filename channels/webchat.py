"""The web chat channel: Rasa's socket.io channel, open only to the site that embeds the widget.

Two corrections to Rasa 3.6's SocketIOInput:
- it builds its socket.io server with CORS handling switched off, which lets a page on any
  origin open a socket; here the server accepts the origins in WEB_ORIGINS (comma-separated;
  default the local widget page of `make run`) and refuses the rest;
- its `session_request` handler calls `enter_room` without awaiting it, which
  python-socketio 5.12+ made a coroutine: the tab never joins its conversation's room and no
  reply reaches it. The handler is replaced with one that awaits, and that accepts only a
  well-formed session id.
"""

from __future__ import annotations

import inspect
import os
import re
import uuid
from typing import Any, Awaitable, Callable, Dict, List, Optional

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.socketio import SocketIOInput
from sanic import Blueprint

DEFAULT_ORIGINS = "http://127.0.0.1:8080,http://localhost:8080"
SESSION_ID = re.compile(r"[A-Za-z0-9-]{8,64}")


def allowed_origins() -> List[str]:
    raw = os.environ.get("WEB_ORIGINS") or DEFAULT_ORIGINS
    return [origin.strip().rstrip("/") for origin in raw.split(",") if origin.strip()]


class WebChatInput(SocketIOInput):
    @classmethod
    def name(cls) -> str:
        return "socketio"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> InputChannel:
        channel = super().from_credentials(credentials)
        assert isinstance(channel, WebChatInput)
        return channel

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = super().blueprint(on_new_message)
        sio = self.sio
        assert sio is not None
        # Read on every connection by python-engineio: a browser's Origin must be one of these.
        sio.eio.cors_allowed_origins = allowed_origins()

        async def session_request(sid: str, data: Optional[Dict[str, Any]]) -> None:
            wanted = (data or {}).get("session_id") if isinstance(data, dict) else None
            session_id = wanted if isinstance(wanted, str) and SESSION_ID.fullmatch(wanted) else uuid.uuid4().hex
            if self.session_persistence:
                joined = sio.enter_room(sid, session_id, namespace=self.namespace)
                if inspect.isawaitable(joined):
                    await joined
            await sio.emit("session_confirm", session_id, room=sid, namespace=self.namespace)

        sio.on("session_request", session_request, namespace=self.namespace)
        return blueprint
