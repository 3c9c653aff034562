"""`GET /webhooks/health/`: whether Rasa can keep a conversation and run the actions right now.

Rasa's `/` only says the server is up. A person's turn also needs the tracker store (read and
written every turn) and the action server; when either fails the person is told to try again
(`channels.turns`) and this route answers 503, naming the failing part, for a load balancer or a
supervisor to see. Nothing here reveals a URL, a password or a conversation.
"""

from __future__ import annotations

import asyncio
from typing import Any, Awaitable, Callable, Dict, Optional

import aiohttp
from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from privacy.tracker_store import PrivateSQLTrackerStore

PROBE_TIMEOUT_SECONDS = 1.0


def tracker_store_status(store: Any) -> Dict[str, Any]:
    if not isinstance(store, PrivateSQLTrackerStore):
        return {"status": "unknown"}
    if store.probe():
        return {"status": "ok"}
    return {"status": "failing", "last_failure": store.health.last_failure, "failures": store.health.failures}


async def action_server_status(webhook_url: Optional[str]) -> Dict[str, Any]:
    if not webhook_url:
        return {"status": "not configured"}
    health_url = webhook_url.rsplit("/", 1)[0] + "/health"
    try:
        timeout = aiohttp.ClientTimeout(total=PROBE_TIMEOUT_SECONDS)
        async with aiohttp.ClientSession(timeout=timeout) as session, session.get(health_url) as reply:
            return {"status": "ok"} if reply.status == 200 else {"status": "failing", "http_status": reply.status}
    except (aiohttp.ClientError, asyncio.TimeoutError) as error:
        return {"status": "failing", "error": type(error).__name__}


class HealthInput(InputChannel):
    """Not a channel people write to: the health route, mounted where Rasa mounts channels."""

    @classmethod
    def name(cls) -> str:
        return "health"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> InputChannel:
        return cls()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        health = Blueprint("tawjih_health", __name__)

        @health.route("/", methods=["GET"])
        async def report(request: Request) -> HTTPResponse:
            agent = getattr(request.app.ctx, "agent", None)
            if agent is None or not agent.is_ready():
                return response.json({"status": "starting"}, status=503)
            endpoint = agent.action_endpoint
            parts = {
                "tracker_store": tracker_store_status(agent.tracker_store),
                "action_server": await action_server_status(endpoint.url if endpoint else None),
            }
            healthy = all(part["status"] == "ok" for part in parts.values())
            return response.json({"status": "ok" if healthy else "failing", **parts}, status=200 if healthy else 503)

        return health
