"""The load generator of `make bench`: people talking to a REST channel, timed turn by turn.

One aiohttp session (one connection pool) per bot; every request has a timeout, and a non-200
answer, a timeout or a refused connection counts as an error, never as a latency.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import aiohttp

from bench.console import percentile

# The same nine messages for every bot, in French, Darija in Latin letters and Darija in Arabic script.
MESSAGES: Tuple[str, ...] = (
    "bonjour",
    "quelles formations proposez-vous ?",
    "fin kaynin les centres?",
    "wach khassni lbac?",
    "ch7al kat5alles?",
    "merci",
    "salam",
    "chno homa les formations?",
    "بغيت نعرف التكوينات",
)


@dataclass(frozen=True)
class Target:
    """A bot's REST webhook and the headers it wants."""

    name: str
    url: str
    headers: Mapping[str, str]


@dataclass(frozen=True)
class Turn:
    """One message sent and its answer: when it ended (seconds from the phase's start), how long it took."""

    ended: float
    seconds: float
    status: int  # 0 when no HTTP answer came (timeout, refused connection)
    error: Optional[str]

    @property
    def ok(self) -> bool:
        return self.error is None


def new_sender(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def client(connections: int) -> aiohttp.ClientSession:
    """The one connection pool of a run: a connection per simulated person at most."""
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=connections, force_close=False))


async def send(http: aiohttp.ClientSession, target: Target, sender: str, text: str, timeout: float, t0: float) -> Turn:
    started = time.perf_counter()
    status, error = 0, None
    try:
        async with http.post(
            target.url,
            json={"sender": sender, "message": text},
            headers=dict(target.headers),
            timeout=aiohttp.ClientTimeout(total=timeout),
        ) as response:
            await response.read()
            status = response.status
            if status != 200:
                error = f"HTTP {status}"
    except asyncio.TimeoutError:
        error = "timeout"
    except aiohttp.ClientError as failure:
        error = type(failure).__name__
    ended = time.perf_counter()
    return Turn(ended=ended - t0, seconds=ended - started, status=status, error=error)


async def conversation_turns(
    http: aiohttp.ClientSession, target: Target, turns: int, timeout: float, prefix: str
) -> List[Turn]:
    """One person, one message after the other with no pause; a new sender every nine messages."""
    t0 = time.perf_counter()
    done: List[Turn] = []
    sender = ""
    for index in range(turns):
        if index % len(MESSAGES) == 0:
            sender = new_sender(prefix)
        done.append(await send(http, target, sender, MESSAGES[index % len(MESSAGES)], timeout, t0))
    return done


async def one_session(
    http: aiohttp.ClientSession, target: Target, turns: int, timeout: float, prefix: str
) -> List[Turn]:
    """One person, one conversation of ``turns`` messages (the nine in a loop), to see a long tracker's cost."""
    t0 = time.perf_counter()
    sender = new_sender(prefix)
    return [await send(http, target, sender, MESSAGES[index % len(MESSAGES)], timeout, t0) for index in range(turns)]


async def crowd(
    http: aiohttp.ClientSession,
    target: Target,
    users: int,
    duration: float,
    think: Tuple[float, float],
    timeout: float,
    prefix: str,
    rng: random.Random,
) -> Tuple[List[Turn], float]:
    """``users`` people, each sending the nine messages in turn (a new sender every nine), thinking ``think``
    seconds between an answer and the next message, until ``duration`` has passed; then the answers still on
    their way are waited for. Returns the turns and the seconds from the start to the last answer."""
    t0 = time.perf_counter()
    deadline = t0 + duration
    done: List[Turn] = []

    async def person(index: int) -> None:
        # Staggered arrivals, so that the first second is not one burst of `users` messages.
        await asyncio.sleep(rng.uniform(0, think[1]) if think[1] > 0 else 0)
        sender, sent = "", 0
        while time.perf_counter() < deadline:
            if sent % len(MESSAGES) == 0:
                sender = new_sender(f"{prefix}-{index}")
            turn = await send(http, target, sender, MESSAGES[sent % len(MESSAGES)], timeout, t0)
            done.append(turn)
            sent += 1
            pause = rng.uniform(*think) if think[1] > 0 else 0.0
            if not turn.ok and turn.status == 0:
                pause = max(pause, 0.1)  # a refused connection comes back at once: do not spin on it
            if pause:
                await asyncio.sleep(min(pause, max(0.0, deadline - time.perf_counter())))

    await asyncio.gather(*(person(index) for index in range(users)))
    elapsed = max([duration, *(turn.ended for turn in done)])
    return done, elapsed


# --- figures ------------------------------------------------------------------------------------------------------
def latency_figures(seconds: Sequence[float]) -> Dict[str, Optional[float]]:
    """p50 / p95 / p99 / mean / max in milliseconds (None without a single answer)."""
    if not seconds:
        return {"p50_ms": None, "p95_ms": None, "p99_ms": None, "mean_ms": None, "max_ms": None}
    ms = [value * 1000 for value in seconds]
    return {
        "p50_ms": round(percentile(ms, 0.50), 1),
        "p95_ms": round(percentile(ms, 0.95), 1),
        "p99_ms": round(percentile(ms, 0.99), 1),
        "mean_ms": round(sum(ms) / len(ms), 1),
        "max_ms": round(max(ms), 1),
    }


def error_kinds(turns: Sequence[Turn]) -> Dict[str, int]:
    kinds: Dict[str, int] = {}
    for turn in turns:
        if turn.error is not None:
            kinds[turn.error] = kinds.get(turn.error, 0) + 1
    return dict(sorted(kinds.items()))


def summarise(turns: Sequence[Turn], elapsed: Optional[float] = None) -> Dict[str, Any]:
    """Counts, latency percentiles of the answered turns and, over ``elapsed`` seconds, the throughput."""
    answered = [turn.seconds for turn in turns if turn.ok]
    figures: Dict[str, Any] = {
        "sent": len(turns),
        "answered": len(answered),
        "errors": len(turns) - len(answered),
        "error_kinds": error_kinds(turns),
        **latency_figures(answered),
    }
    if elapsed is not None:
        figures["seconds"] = round(elapsed, 2)
        figures["throughput_msg_s"] = round(len(answered) / elapsed, 2) if elapsed > 0 else None
    return figures


def turn_window(turns: int, mark: int, width: int = 10) -> Tuple[int, int]:
    """The ``width`` turns around turn ``mark`` (1-based, inclusive), kept within 1..turns."""
    start = max(1, mark - width // 2 + 1)
    end = min(turns, start + width - 1)
    return max(1, end - width + 1), end


def session_figures(turns: Sequence[Turn], marks: Sequence[int]) -> Dict[str, Any]:
    """A long session: each mark's own latency, and p50 / p95 of the ten turns around it."""
    at: Dict[str, Any] = {}
    for mark in marks:
        if not 1 <= mark <= len(turns):
            continue
        turn = turns[mark - 1]
        first, last = turn_window(len(turns), mark)
        window = [t.seconds for t in turns[first - 1 : last] if t.ok]
        window_figures = latency_figures(window)
        at[str(mark)] = {
            "turn_ms": round(turn.seconds * 1000, 1) if turn.ok else None,
            "window": [first, last],
            "window_p50_ms": window_figures["p50_ms"],
            "window_p95_ms": window_figures["p95_ms"],
        }
    return {"turns": len(turns), "errors": sum(1 for t in turns if not t.ok), "at_turn": at}


# --- memory -------------------------------------------------------------------------------------------------------
def rss_kib(pid: int, proc: Path = Path("/proc")) -> int:
    """VmRSS of one process in KiB, from /proc/<pid>/status (0 when it has gone)."""
    try:
        for line in (proc / str(pid) / "status").read_text(encoding="utf-8").splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return 0
    return 0


def descendants(pid: int, proc: Path = Path("/proc")) -> List[int]:
    """Every process under ``pid`` (a server that forks workers is measured whole)."""
    children: Dict[int, List[int]] = {}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text(encoding="utf-8")
            parent = int(stat.rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(parent, []).append(int(entry.name))
    found, queue = [], [pid]
    while queue:
        for child in children.get(queue.pop(), []):
            found.append(child)
            queue.append(child)
    return found


def rss_mb(pid: int, proc: Path = Path("/proc")) -> float:
    """Resident memory of a process and its children, in MB (MiB)."""
    total = sum(rss_kib(each, proc) for each in [pid, *descendants(pid, proc)])
    return round(total / 1024, 1)
