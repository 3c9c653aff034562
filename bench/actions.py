"""One action server with a slow registry: does one person's slow call hold everyone else up?

``python -m bench.actions`` starts the seeded registry, a proxy in front of it that answers every
request ``--delay`` seconds late (200 ms by default), and one action server (one process) reading the
registry through that proxy. ``--clients`` clients then ask it, with no pause, for the centres of a
city (``action_list_centres``: one registry request that must be revalidated, so it pays the delay),
for ``--duration`` seconds. If the action server's event loop waited for the registry, it would
answer 1 / delay calls a second whatever the clients; it answers as many as its registry threads
(``REGISTRY_WORKERS``, 16) allow. `make bench` runs it as one of its phases. It asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Dict, List, Optional

import aiohttp
import requests

from bench.load import latency_figures

CITIES = ("Rabat", "Casablanca", "Agadir", "Oujda", "Kénitra", "Fès", "Tanger", "Marrakech")


class DelayingProxy:
    """Forwards GETs to ``upstream`` and answers each ``delay`` seconds late, many at once."""

    def __init__(self, upstream: str, delay: float) -> None:
        session = requests.Session()
        session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=64))

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                time.sleep(delay)  # the registry answering slowly (this handler's own thread)
                headers = {k: v for k, v in self.headers.items() if k.lower() in ("accept", "if-none-match")}
                answer = session.get(upstream + self.path, headers=headers, timeout=10)
                self.send_response(answer.status_code)
                for name in ("Content-Type", "ETag"):
                    if name in answer.headers:
                        self.send_header(name, answer.headers[name])
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def action_call(city: str) -> Dict[str, Any]:
    """What Rasa sends the action server to run ``action_list_centres`` for "centres à <city>"."""
    latest = {
        "text": f"les centres à {city}",
        "intent": {"name": "ask_centres", "confidence": 0.99},
        "entities": [{"entity": "register", "value": "french"}, {"entity": "city", "value": city}],
    }
    return {
        "next_action": "action_list_centres",
        "sender_id": f"bench-{uuid.uuid4().hex[:8]}",
        "version": "3.6.2",
        "domain": {},
        "tracker": {
            "sender_id": "bench",
            "slots": {"register": "french", "city": city},
            "latest_message": latest,
            "events": [{"event": "user", "text": latest["text"], "parse_data": latest}],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        },
    }


async def hammer(actions_url: str, clients: int, duration: float) -> Dict[str, Any]:
    cities = itertools.cycle(CITIES)
    seconds: List[float] = []
    errors = 0
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=clients)) as http:

        async def one_client(until: float) -> None:
            nonlocal errors
            while time.perf_counter() < until:
                started = time.perf_counter()
                try:
                    async with http.post(
                        f"{actions_url}/webhook",
                        json=action_call(next(cities)),
                        timeout=aiohttp.ClientTimeout(total=30),
                    ) as response:
                        body = await response.json()
                        failed = response.status != 200 or not body.get("responses")
                except (aiohttp.ClientError, asyncio.TimeoutError, ValueError):
                    failed = True
                seconds.append(time.perf_counter() - started)
                errors += int(failed)

        started = time.perf_counter()
        await asyncio.gather(*(one_client(started + duration) for _ in range(clients)))
        elapsed = time.perf_counter() - started
    return {
        "clients": clients,
        "calls": len(seconds),
        "calls_per_s": round(len(seconds) / elapsed, 1) if elapsed else None,
        "errors": errors,
        **latency_figures(seconds),
    }


def measure(registry_url: str, work: Path, delay: float, clients: int, duration: float) -> Dict[str, Any]:
    from tests.support.processes import ActionServerProcess

    proxy = DelayingProxy(registry_url, delay)
    actions = None
    try:
        actions = ActionServerProcess(proxy.url, work)
        asyncio.run(hammer(actions.url, 1, 2.0))  # warm-up: reference lists cached, connections open
        figures = {"registry_delay_ms": round(delay * 1000), **asyncio.run(hammer(actions.url, clients, duration))}
        figures["one_event_loop_would_allow_per_s"] = round(1 / delay, 1)
        return figures
    finally:
        if actions is not None:
            actions.stop()
        proxy.close()


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.actions", description=__doc__.splitlines()[0])
    parser.add_argument("--delay", type=float, default=0.2)
    parser.add_argument("--clients", type=int, default=30)
    parser.add_argument("--duration", type=float, default=15.0)
    args = parser.parse_args(argv)
    from tests.support.processes import RegistryProcess

    with tempfile.TemporaryDirectory(prefix="tawjih-bench-actions-") as folder:
        registry = RegistryProcess(f"sqlite:///{Path(folder) / 'registry.db'}", Path(folder))
        try:
            figures = measure(registry.url, Path(folder), args.delay, args.clients, args.duration)
        finally:
            registry.stop()
    print(
        f"registry {figures['registry_delay_ms']} ms late, {figures['clients']} clients, one action server: "
        f"{figures['calls_per_s']} calls/s (a blocked event loop would allow {figures['one_event_loop_would_allow_per_s']}), "
        f"p50 {figures['p50_ms']} ms, p95 {figures['p95_ms']} ms, errors {figures['errors']}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
