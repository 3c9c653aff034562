"""The registry's read path under load: the list requests the actions make, as fast as they come.

``python -m bench.registry`` starts the seeded registry (SQLite, as `make run` does) on a free port,
or measures one already running (``--url``), and sends the list requests a turn makes (programmes,
centres of a city, sessions of a programme, cities, education levels) from ``--clients`` clients with
no pause for ``--duration`` seconds, after a warm-up: list requests a second, p50 / p95, errors.
`make bench` runs it as one of its phases. It asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import aiohttp

from bench.load import latency_figures

# What the actions ask for in a turn (actions/registry_client.py), in the proportions turns use them.
LIST_PATHS: Sequence[str] = (
    "/api/v1/programmes?limit=200&offset=0",
    "/api/v1/centres?city=Casablanca&limit=200&offset=0",
    "/api/v1/sessions?programme=jobintech-data-science&limit=200&offset=0",
    "/api/v1/centres?programme=digital-offshoring&limit=200&offset=0",
    "/api/v1/sessions?city=Rabat&status=open&limit=200&offset=0",
    "/api/v1/cities?limit=200&offset=0",
    "/api/v1/education-levels?limit=200&offset=0",
)


async def hammer(base_url: str, clients: int, duration: float, warmup: float = 2.0) -> Dict[str, Any]:
    """``clients`` clients, each sending the next list request as soon as the last is answered."""
    paths = itertools.cycle(LIST_PATHS)
    seconds: List[float] = []
    errors = 0
    connector = aiohttp.TCPConnector(limit=clients)
    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:

        async def one_client(until: float, record: bool) -> None:
            nonlocal errors
            while time.perf_counter() < until:
                started = time.perf_counter()
                try:
                    async with http.get(base_url + next(paths)) as response:
                        await response.read()
                        failed = response.status != 200
                except (aiohttp.ClientError, asyncio.TimeoutError):
                    failed = True
                if record:
                    seconds.append(time.perf_counter() - started)
                    errors += int(failed)

        await asyncio.gather(*(one_client(time.perf_counter() + warmup, False) for _ in range(clients)))
        started = time.perf_counter()
        await asyncio.gather(*(one_client(started + duration, True) for _ in range(clients)))
        elapsed = time.perf_counter() - started
    return {
        "clients": clients,
        "requests": len(seconds),
        "requests_per_s": round(len(seconds) / elapsed, 1) if elapsed else None,
        "errors": errors,
        **latency_figures(seconds),
    }


def measure(base_url: str, clients: int, duration: float) -> Dict[str, Any]:
    return {
        "one_client": asyncio.run(hammer(base_url, 1, min(duration, 5.0))),
        "loaded": asyncio.run(hammer(base_url, clients, duration)),
    }


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.registry", description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a registry already running (default: start the seeded one on SQLite)")
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--duration", type=float, default=15.0)
    args = parser.parse_args(argv)
    if args.url:
        figures = measure(args.url.rstrip("/"), args.clients, args.duration)
    else:
        from tests.support.processes import RegistryProcess

        with tempfile.TemporaryDirectory(prefix="tawjih-bench-registry-") as folder:
            registry = RegistryProcess(f"sqlite:///{Path(folder) / 'registry.db'}", Path(folder))
            try:
                figures = measure(registry.url, args.clients, args.duration)
            finally:
                registry.stop()
    for name, run in figures.items():
        print(
            f"{name:>10}: {run['requests_per_s']} list requests/s from {run['clients']} client(s), "
            f"p50 {run['p50_ms']} ms, p95 {run['p95_ms']} ms, errors {run['errors']}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
