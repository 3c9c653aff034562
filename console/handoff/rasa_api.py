"""The console's one way into Rasa: its HTTP API, with its token, so that Rasa's conversation lock and event log
are respected (the console never writes Rasa's tables).

A POST that may have reached Rasa is never sent again: a second try could send the person the same message
twice. Only a connection that was never made (refused, or not established in time) is tried once more. URLs carry
the token and the conversation id, and bodies carry what the adviser wrote: neither is ever logged or put into
an error; errors name a reason and a code only.

With several Rasa instances, a web chat tab is connected to one of them: the others answer ``not_connected`` and
record nothing (channels/webchat.py), so a message refused that way is offered to the next instance, and only
the last refusal counts. Every other answer is final.
"""

from __future__ import annotations

import logging
import re
import socket
from typing import Any, Dict, List, Optional
from urllib.parse import quote, urlsplit

import requests
import urllib3

logger = logging.getLogger("console.handoff.rasa")

# What Rasa's answer says when the person's channel refused the message (channels/handoff.py).
DELIVERY_FAILED = re.compile(r"delivery_failed:([a-z_]{1,64}):([A-Za-z0-9_.-]{0,32})")
DELIVERY_REASONS = frozenset(
    {
        "no_address",
        "not_connected",
        "outside_window",
        "no_template",
        "platform_refused",
        "platform_unreachable",
        "not_configured",
        "cannot_push",
        "address_store",
    }
)


class RasaError(Exception):
    """The call did not do what was asked. ``reason`` and ``code`` are safe to store, show and log."""

    def __init__(self, reason: str, code: Optional[str] = None) -> None:
        super().__init__(f"{reason}:{code or ''}")
        self.reason = reason
        self.code = code


class RasaUnreachable(RasaError):
    def __init__(self, code: Optional[str] = None) -> None:
        super().__init__("rasa_unreachable", code)


class DeliveryFailed(RasaError):
    """Rasa recorded nothing: the person's channel refused the message (the reason and the platform's code)."""


def _never_connected(error: requests.RequestException) -> bool:
    """Whether the request cannot have reached Rasa: the connection was refused or never established."""
    if isinstance(error, requests.exceptions.ConnectTimeout):
        return True
    if not isinstance(error, requests.exceptions.ConnectionError):
        return False
    reason: Any = error.args[0] if error.args else None
    reason = getattr(reason, "reason", reason)  # urllib3's MaxRetryError wraps the cause
    return isinstance(reason, (urllib3.exceptions.NewConnectionError, ConnectionRefusedError))


def delivery_failure(status: int, body: Any) -> RasaError:
    """What a non-2xx answer means: the channel's refusal (``delivery_failed:<reason>:<code>`` in Rasa's
    ``message``) or Rasa's own error (reason ``rasa_error``, code the HTTP status)."""
    message = ""
    if isinstance(body, dict):
        message = str(body.get("message") or "") + " " + str(body.get("reason") or "")
    found = DELIVERY_FAILED.search(message)
    if found:
        reason = found.group(1) if found.group(1) in DELIVERY_REASONS else "platform_refused"
        return DeliveryFailed(reason, found.group(2) or None)
    return RasaError("rasa_error", str(status))


class RasaClient:
    """``execute`` runs one of the handoff actions; ``send`` records an adviser's message as a bot utterance,
    which Rasa sends on the person's channel (``execute_side_effects``). Both raise ``RasaError``."""

    def __init__(self, base_url: str, token: str, timeout_seconds: float, every_address: bool = False) -> None:
        # One URL, or several comma-separated; with ``every_address``, each address a host name resolves to.
        self.base_urls = [url.strip().rstrip("/") for url in base_url.split(",") if url.strip()]
        if not self.base_urls:
            raise ValueError("RASA_URL names no Rasa instance")  # else nothing would be sent, and nothing said
        self.every_address = every_address
        self._token = token
        self.timeout = timeout_seconds
        self.http = requests.Session()
        adapter = requests.adapters.HTTPAdapter(max_retries=0, pool_maxsize=16)
        self.http.mount("http://", adapter)
        self.http.mount("https://", adapter)
        # urllib3 logs request lines (with the token in the query) at DEBUG: keep it above that.
        logging.getLogger("urllib3.connectionpool").setLevel(logging.WARNING)

    def close(self) -> None:
        self.http.close()

    def execute(self, conversation_id: str, action: str, channel: Optional[str], record_only: bool = False) -> None:
        """Run a handoff action; with ``record_only``, nothing is sent: Rasa keeps what the action did (the
        pause, the slots, its message in the conversation) without pushing it to the person."""
        self._post(
            f"/conversations/{quote(conversation_id, safe='')}/execute",
            {} if record_only else {"output_channel": channel or "latest"},
            {"name": action},
        )

    def notify(self, conversation_id: str, action: str, channel: Optional[str]) -> Optional["DeliveryFailed"]:
        """Run a handoff action that changes the conversation's state and tells the person. When their channel
        cannot take the notice (a closed tab, WhatsApp's 24 hours, no address), the state changes all the same,
        recorded without the notice, and the refusal is returned: the caller says the person was not told.
        Rasa itself failing raises, and nothing changed."""
        try:
            self.execute(conversation_id, action, channel)
        except DeliveryFailed as refused:
            self.execute(conversation_id, action, channel, record_only=True)
            return refused
        return None

    def send(
        self,
        conversation_id: str,
        channel: Optional[str],
        adviser_id: int,
        text: Optional[str] = None,
        template: Optional[str] = None,
    ) -> None:
        event: Dict[str, Any] = {"event": "bot", "metadata": {"adviser_id": adviser_id}}
        if template is not None:
            event["data"] = {"custom": {"tawjih_template": template}}
        else:
            event["text"] = text or ""
        self._post(
            f"/conversations/{quote(conversation_id, safe='')}/tracker/events",
            {"execute_side_effects": "true", "output_channel": channel or "latest"},
            [event],
        )

    def instances(self) -> List[str]:
        """The Rasa instances to try, in order (a headless Service's addresses are read again each time)."""
        if not self.every_address:
            return self.base_urls
        found: List[str] = []
        for url in self.base_urls:
            parts = urlsplit(url)
            port = parts.port or (443 if parts.scheme == "https" else 80)
            try:
                addresses = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
            except OSError:
                found.append(url)  # unresolvable now: the request will say Rasa is unreachable
                continue
            for *_, address in addresses:
                host = f"[{address[0]}]" if ":" in str(address[0]) else str(address[0])
                found.append(f"{parts.scheme}://{host}:{port}{parts.path}")
        return list(dict.fromkeys(found))

    def _post(self, path: str, params: Dict[str, str], body: Any) -> None:
        instances = self.instances()
        for index, base_url in enumerate(instances):
            try:
                self._post_to(base_url, path, params, body)
                return
            except DeliveryFailed as refused:
                # The tab may be connected to another instance; that one alone will take the message.
                if refused.reason != "not_connected" or index + 1 == len(instances):
                    raise

    def _post_to(self, base_url: str, path: str, params: Dict[str, str], body: Any) -> None:
        attempts = 2  # the second only when the first never reached Rasa
        for attempt in range(attempts):
            try:
                response = self.http.post(
                    base_url + path, params={**params, "token": self._token}, json=body, timeout=self.timeout
                )
            except requests.RequestException as error:
                if _never_connected(error) and attempt + 1 < attempts:
                    continue
                # The caller logs it (the watcher once per streak, not every round).
                raise RasaUnreachable("timeout" if isinstance(error, requests.exceptions.Timeout) else None) from None
            if 200 <= response.status_code < 300:
                return
            try:
                answer: Any = response.json()
            except ValueError:
                answer = None
            failure = delivery_failure(response.status_code, answer)
            if isinstance(failure, DeliveryFailed):
                logger.info("The person's channel refused a message (%s, code %s).", failure.reason, failure.code)
            elif response.status_code in (401, 403):
                logger.error("Rasa refused the console's token (HTTP %d): check RASA_AUTH_TOKEN.", response.status_code)
            raise failure
        raise RasaUnreachable()  # pragma: no cover - the loop returns or raises
