"""`make bench`: the cost of a turn, Tawjih against stock Rasa (the `rasa init` moodbot), in one run.

Both bots, one after the other on this machine, get the same load through their REST channel: the
nine messages of ``bench.load.MESSAGES`` (French and Darija), a new sender for every conversation:

1. one person, one message after the other: turn latency p50 / p95;
2. 50 people, each thinking 2-5 s between an answer and the next message, for a fixed time:
   throughput, p50 / p95 / p99, errors;
3. saturation, 30 people with no pause for 30 s: throughput;
4. one conversation of 300 turns (SQLite tracker store): the latency of turn 10 and of turn 300;
5. then the resident memory of each process.

The moodbot is made by ``rasa init`` in a temporary folder and trained there; Tawjih is started as
`make run` starts it (the seeded registry, the action server, Rasa through scripts/serve_rasa.py with
models/tawjih.tar.gz, SQLite tracker store), on free loopback ports. Prints a table with both and the
ratios, writes ``results/bench.json`` and ``results/bench.png``. ``BENCH_QUICK=1`` (or ``--quick``)
runs short phases to check that it works; its figures are not for comparison. It asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass, replace
from importlib.metadata import version
from pathlib import Path
from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple

from bench import moodbot
from bench.console import machine
from bench.load import (
    MESSAGES,
    Target,
    client,
    conversation_turns,
    crowd,
    one_session,
    rss_mb,
    session_figures,
    summarise,
)

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "results" / "bench.json"
CHART = ROOT / "results" / "bench.png"
MODEL = ROOT / "models" / "tawjih.tar.gz"
BOTS = ("moodbot", "tawjih")
BOT_NAMES = {"moodbot": "stock moodbot", "tawjih": "Tawjih", "cluster": "Tawjih cluster (2+2, HAProxy)"}
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


@dataclass(frozen=True)
class Settings:
    one_user_turns: int = 63  # seven conversations of nine messages
    users: int = 50
    think_seconds: Tuple[float, float] = (2.0, 5.0)
    duration: float = 60.0
    saturation_users: int = 30
    saturation_duration: float = 30.0
    session_turns: int = 300
    early_turn: int = 10
    timeout: float = 30.0
    warmup_turns: int = 9
    quick: bool = False

    @property
    def marks(self) -> Tuple[int, int]:
        return (self.early_turn, self.session_turns)


QUICK = Settings(one_user_turns=27, duration=15.0, saturation_duration=10.0, session_turns=60, quick=True)


# --- measuring one bot --------------------------------------------------------------------------------------------
async def measure(target: Target, settings: Settings, seed: int = 20, long_session: bool = True) -> Dict[str, Any]:
    """Every phase of the load against one bot, in order, through one connection pool."""
    rng = random.Random(seed)
    figures: Dict[str, Any] = {}
    async with client(max(settings.users, settings.saturation_users)) as http:
        warmup = await conversation_turns(http, target, settings.warmup_turns, settings.timeout, "warmup")
        if not any(turn.ok for turn in warmup):
            raise RuntimeError(
                f"{target.name} answered none of the warm-up messages: {summarise(warmup)['error_kinds']}"
            )

        turns = await conversation_turns(http, target, settings.one_user_turns, settings.timeout, "one-user")
        figures["one_user"] = summarise(turns)
        _say("one user", figures["one_user"])

        if long_session:
            turns = await one_session(http, target, settings.session_turns, settings.timeout, "long-session")
            figures["long_session"] = session_figures(turns, settings.marks)
            at = figures["long_session"]["at_turn"]
            print(
                f"    one session of {settings.session_turns} turns: "
                + ", ".join(f"turn {mark} {at[str(mark)]['turn_ms']} ms" for mark in settings.marks if str(mark) in at)
                + f", {figures['long_session']['errors']} errors"
            )

        turns, elapsed = await crowd(
            http, target, settings.users, settings.duration, settings.think_seconds, settings.timeout, "crowd", rng
        )
        figures["crowd"] = {"users": settings.users, "think_seconds": list(settings.think_seconds)}
        figures["crowd"].update(summarise(turns, elapsed))
        _say(f"{settings.users} users", figures["crowd"])

        turns, elapsed = await crowd(
            http,
            target,
            settings.saturation_users,
            settings.saturation_duration,
            (0.0, 0.0),
            settings.timeout,
            "sat",
            rng,
        )
        figures["saturation"] = {"users": settings.saturation_users, **summarise(turns, elapsed)}
        _say(f"saturation, {settings.saturation_users} users", figures["saturation"])
    return figures


def _say(phase: str, figures: Mapping[str, Any]) -> None:
    throughput = f"{figures['throughput_msg_s']} msg/s, " if "throughput_msg_s" in figures else ""
    print(
        f"    {phase}: {figures['answered']} answered, {throughput}p50 {figures['p50_ms']} ms, "
        f"p95 {figures['p95_ms']} ms, {figures['errors']} errors"
    )


def bench_moodbot(settings: Settings, work: Path, project: Optional[Path]) -> Dict[str, Any]:
    project = project or work / "moodbot"
    print(f"Stock Rasa: `rasa init` moodbot in {project} (created and trained if not there; a minute or two)…")
    started = time.perf_counter()
    model = moodbot.create(project, work / "moodbot-init.log")
    print(f"  trained in {time.perf_counter() - started:.0f} s; serving it with `rasa run --enable-api`…")
    server = moodbot.MoodbotServer(project, model, work)
    try:
        figures = asyncio.run(measure(server.target(), settings))
        figures["rss_mb"] = {"rasa": rss_mb(server.process.pid)}
    finally:
        server.stop()
    return figures


def bench_tawjih(settings: Settings, work: Path, postgres_url: Optional[str]) -> Dict[str, Any]:
    from bench import actions as actions_bench
    from bench import registry as registry_bench
    from tests.support.processes import ActionServerProcess, RasaProcess, RegistryProcess

    if not MODEL.exists():
        raise SystemExit(f"No trained model at {MODEL.relative_to(ROOT)}: run `make train` (make bench does it).")
    print("Tawjih as `make run` starts it: the seeded registry, the action server, Rasa (a minute or so)…")
    parts: List[Any] = []
    try:
        registry = RegistryProcess(f"sqlite:///{work / 'registry.db'}", work)
        parts.append(registry)
        actions = ActionServerProcess(registry.url, work)
        parts.append(actions)
        rasa = RasaProcess(MODEL, actions.url, f"sqlite:///{work / 'tracker.db'}", work)
        parts.append(rasa)
        target = Target("tawjih", f"{rasa.url}/webhooks/rest/webhook", rasa.rest_headers())
        figures = asyncio.run(measure(target, settings))
        figures["rss_mb"] = {
            "rasa": rss_mb(rasa.process.pid),
            "actions": rss_mb(actions.process.pid),
            "registry": rss_mb(registry.process.pid),
        }
        rasa.stop()
        parts.remove(rasa)

        seconds = 4.0 if settings.quick else 15.0
        figures["registry"] = registry_bench.measure(registry.url, 10, seconds)
        loaded = figures["registry"]["loaded"]
        print(f"    registry, 10 clients: {loaded['requests_per_s']} list requests/s, p50 {loaded['p50_ms']} ms")
        figures["actions_slow_registry"] = actions_bench.measure(registry.url, work, 0.2, 30, seconds)
        slow = figures["actions_slow_registry"]
        print(
            f"    action server, registry 200 ms late, 30 clients: {slow['calls_per_s']} calls/s, p95 {slow['p95_ms']} ms"
        )

        if postgres_url:
            figures["long_session_postgresql"] = long_session_on_postgresql(settings, work, actions.url, postgres_url)
    finally:
        for part in reversed(parts):
            part.stop()
    return figures


def long_session_on_postgresql(settings: Settings, work: Path, actions_url: str, postgres_url: str) -> Dict[str, Any]:
    """The long session again, with the tracker store on PostgreSQL (a throwaway schema)."""
    from tests.support.processes import RasaProcess

    print(f"  one session of {settings.session_turns} turns with the tracker store on PostgreSQL…")
    with throwaway_schema(postgres_url) as schema_url:
        rasa = RasaProcess(MODEL, actions_url, schema_url, work)
        try:
            target = Target("tawjih-postgresql", f"{rasa.url}/webhooks/rest/webhook", rasa.rest_headers())

            async def session() -> Dict[str, Any]:
                async with client(1) as http:
                    await conversation_turns(http, target, settings.warmup_turns, settings.timeout, "warmup")
                    turns = await one_session(http, target, settings.session_turns, settings.timeout, "pg-session")
                return session_figures(turns, settings.marks)

            figures = asyncio.run(session())
        finally:
            rasa.stop()
    at = figures["at_turn"]
    print(
        "    "
        + ", ".join(f"turn {m} {at[str(m)]['turn_ms']} ms" for m in settings.marks if str(m) in at)
        + f", {figures['errors']} errors"
    )
    return figures


@contextlib.contextmanager
def throwaway_schema(postgres_url: str) -> Iterator[str]:
    import psycopg2

    schema = f"tawjih_bench_{uuid.uuid4().hex[:10]}"
    connection = psycopg2.connect(postgres_url)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE SCHEMA "{schema}"')
        separator = "&" if "?" in postgres_url else "?"
        yield f"{postgres_url}{separator}options=-csearch_path%3D{schema}"
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        connection.close()


def reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def bench_cluster(settings: Settings, work: Path, postgres_url: str) -> Dict[str, Any]:
    """`make cluster`'s topology: two Rasa instances (each with its action server) on one PostgreSQL
    tracker store, the Redis lock store and the RabbitMQ broker, behind HAProxy; the same load."""
    from tests.support.processes import ActionServerProcess, RasaProcess, RegistryProcess, free_port

    haproxy = shutil.which("haproxy")
    if not haproxy:
        raise SystemExit("make bench needs Debian's haproxy for the cluster (make haproxy installs it).")
    print("Tawjih's cluster: two Rasa instances and two action servers on PostgreSQL, Redis, RabbitMQ, behind HAProxy…")
    queue = f"tawjih_bench_{uuid.uuid4().hex[:10]}"
    shared = {
        "LOCK_STORE_URL": "redis://127.0.0.1:6379/7",
        "EVENT_BROKER_URL": "amqp://guest:guest@127.0.0.1:5672",
        "TAWJIH_EVENT_QUEUE": queue,
        "TAWJIH_REST_TOKEN": uuid.uuid4().hex,
    }
    parts: List[Any] = []
    balancer: Optional[subprocess.Popen] = None
    try:
        with throwaway_schema(postgres_url) as schema_url:
            registry = RegistryProcess(f"sqlite:///{work / 'cluster-registry.db'}", work)
            parts.append(registry)
            servers = [ActionServerProcess(registry.url, work) for _ in range(2)]
            parts.extend(servers)
            instances = [RasaProcess(MODEL, server.url, schema_url, work, dict(shared)) for server in servers]
            parts.extend(instances)
            for instance in instances:
                instance.rest_token = shared["TAWJIH_REST_TOKEN"]  # one token: the balancer picks the instance
            port = free_port()
            env = {
                **os.environ,
                "RASA_PORT": str(port),
                "RASA_PORT_1": str(instances[0].port),
                "RASA_PORT_2": str(instances[1].port),
            }
            log = (work / "haproxy.log").open("wb")
            balancer = subprocess.Popen(
                [haproxy, "-W", "-db", "-f", str(ROOT / "deploy" / "cluster" / "haproxy.cfg")],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            deadline = time.monotonic() + 30
            while not reachable("127.0.0.1", port) and time.monotonic() < deadline:
                time.sleep(0.1)
            headers = instances[0].rest_headers()
            target = Target("cluster", f"http://127.0.0.1:{port}/webhooks/rest/webhook", headers)
            figures = asyncio.run(measure(target, settings, long_session=False))
            figures["rss_mb"] = {
                "rasa": sum(rss_mb(i.process.pid) for i in instances),
                "actions": sum(rss_mb(a.process.pid) for a in servers),
                "registry": rss_mb(registry.process.pid),
            }
    finally:
        if balancer is not None:
            balancer.terminate()
            balancer.wait(timeout=10)
        for part in reversed(parts):
            part.stop()
        _delete_queue(queue)
    return figures


def _delete_queue(queue: str) -> None:
    import aio_pika

    async def delete() -> None:
        connection = await aio_pika.connect("amqp://guest:guest@127.0.0.1:5672/", timeout=5)
        async with connection:
            await (await connection.channel()).queue_delete(queue)

    try:
        asyncio.run(delete())
    except Exception as error:  # noqa: BLE001 - nothing to delete if RabbitMQ went away
        print(f"  (the benchmark's queue could not be deleted: {type(error).__name__})")


# --- the table ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Row:
    key: str
    label: str
    path: Tuple[str, ...]
    unit: str  # "ms", "msg/s", "MB" or "" (a count)


def rows(settings: Settings) -> List[Row]:
    early, late = settings.marks
    users, sat = settings.users, settings.saturation_users
    think = "–".join(f"{value:g}" for value in settings.think_seconds)
    return [
        Row("one_user.p50_ms", "one user, turn p50", ("one_user", "p50_ms"), "ms"),
        Row("one_user.p95_ms", "one user, turn p95", ("one_user", "p95_ms"), "ms"),
        Row(
            "crowd.throughput_msg_s",
            f"{users} users ({think} s think), throughput",
            ("crowd", "throughput_msg_s"),
            "msg/s",
        ),
        Row("crowd.p50_ms", f"{users} users, p50", ("crowd", "p50_ms"), "ms"),
        Row("crowd.p95_ms", f"{users} users, p95", ("crowd", "p95_ms"), "ms"),
        Row("crowd.p99_ms", f"{users} users, p99", ("crowd", "p99_ms"), "ms"),
        Row("crowd.errors", f"{users} users, errors", ("crowd", "errors"), ""),
        Row(
            "saturation.throughput_msg_s",
            f"saturation ({sat} users, no think), throughput",
            ("saturation", "throughput_msg_s"),
            "msg/s",
        ),
        Row("saturation.p95_ms", "saturation, p95", ("saturation", "p95_ms"), "ms"),
        Row("saturation.errors", "saturation, errors", ("saturation", "errors"), ""),
        Row(
            f"long_session.turn_{early}_ms",
            f"one session, turn {early}",
            ("long_session", "at_turn", str(early), "turn_ms"),
            "ms",
        ),
        Row(
            f"long_session.turn_{late}_ms",
            f"one session, turn {late}",
            ("long_session", "at_turn", str(late), "turn_ms"),
            "ms",
        ),
        Row(
            f"long_session.turn_{early}_window_p95_ms",
            f"one session, p95 of the 10 turns around {early}",
            ("long_session", "at_turn", str(early), "window_p95_ms"),
            "ms",
        ),
        Row(
            f"long_session.turn_{late}_window_p95_ms",
            f"one session, p95 of the 10 turns around {late}",
            ("long_session", "at_turn", str(late), "window_p95_ms"),
            "ms",
        ),
        Row(
            f"long_session_postgresql.turn_{early}_window_p95_ms",
            f"one session on PostgreSQL, p95 around turn {early}",
            ("long_session_postgresql", "at_turn", str(early), "window_p95_ms"),
            "ms",
        ),
        Row(
            f"long_session_postgresql.turn_{late}_window_p95_ms",
            f"one session on PostgreSQL, p95 around turn {late}",
            ("long_session_postgresql", "at_turn", str(late), "window_p95_ms"),
            "ms",
        ),
        Row(
            "registry.requests_per_s",
            "registry, 10 clients, list requests/s",
            ("registry", "loaded", "requests_per_s"),
            "req/s",
        ),
        Row("registry.one_client_p50_ms", "registry, one list request p50", ("registry", "one_client", "p50_ms"), "ms"),
        Row(
            "actions_slow_registry.calls_per_s",
            "action server, registry 200 ms late, 30 clients",
            ("actions_slow_registry", "calls_per_s"),
            "calls/s",
        ),
        Row("rss_mb.rasa", "Rasa resident memory", ("rss_mb", "rasa"), "MB"),
        Row("rss_mb.actions", "action server resident memory", ("rss_mb", "actions"), "MB"),
        Row("rss_mb.registry", "registry resident memory", ("rss_mb", "registry"), "MB"),
    ]


def figure(figures: Mapping[str, Any], path: Sequence[str]) -> Optional[float]:
    """The number at ``path`` in one bot's figures, or None where that bot has no such figure."""
    value: Any = figures
    for step in path:
        if not isinstance(value, Mapping) or step not in value:
            return None
        value = value[step]
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def ratio(tawjih: Optional[float], stock: Optional[float]) -> Optional[float]:
    """Tawjih / moodbot, or None when either is missing or the moodbot's is zero."""
    if tawjih is None or stock is None or stock == 0:
        return None
    return round(tawjih / stock, 2)


def format_value(value: Optional[float], unit: str) -> str:
    if value is None:
        return "–"
    if unit in ("msg/s", "req/s", "calls/s"):
        return f"{value:.1f} {unit}"
    if unit in ("ms", "MB"):
        return f"{value:,.0f} {unit}"
    return f"{value:,.0f}"


def format_ratio(value: Optional[float]) -> str:
    return "–" if value is None else f"{value:.2f}×"


def ratios(bots: Mapping[str, Mapping[str, Any]], table_rows: Sequence[Row]) -> Dict[str, Optional[float]]:
    return {
        row.key: ratio(figure(bots.get("tawjih", {}), row.path), figure(bots.get("moodbot", {}), row.path))
        for row in table_rows
    }


def table(bots: Mapping[str, Mapping[str, Any]], table_rows: Sequence[Row]) -> str:
    """A Markdown table: one row per figure, the moodbot's, Tawjih's and their ratio (and the cluster's,
    with its ratio to one instance, when it was measured)."""
    cluster = "cluster" in bots
    head = f"| | {BOT_NAMES['moodbot']} | {BOT_NAMES['tawjih']} | Tawjih / moodbot |"
    lines = [head + (f" {BOT_NAMES['cluster']} | cluster / Tawjih |" if cluster else ""), ""]
    lines[1] = "| --- | ---: | ---: | ---: |" + (" ---: | ---: |" if cluster else "")
    for row in table_rows:
        stock = figure(bots.get("moodbot", {}), row.path)
        ours = figure(bots.get("tawjih", {}), row.path)
        several = figure(bots.get("cluster", {}), row.path)
        if stock is None and ours is None and several is None:
            continue
        line = (
            f"| {row.label} | {format_value(stock, row.unit)} | {format_value(ours, row.unit)} "
            f"| {format_ratio(ratio(ours, stock))} |"
        )
        if cluster:
            line += f" {format_value(several, row.unit)} | {format_ratio(ratio(several, ours))} |"
        lines.append(line)
    return "\n".join(lines)


def results_document(
    bots: Mapping[str, Mapping[str, Any]], settings: Settings, started: float, finished: float
) -> Dict[str, Any]:
    """What results/bench.json holds: every figure of both bots, the ratios, the machine and the settings."""
    return {
        "benchmark": "make bench (bench.turns)",
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(finished)),
        "seconds": round(finished - started, 1),
        "machine": machine(),
        "cores": os.cpu_count(),
        "rasa_version": version("rasa"),
        "settings": asdict(settings),
        "messages": list(MESSAGES),
        "bots": {name: dict(figures) for name, figures in bots.items()},
        "ratios_tawjih_to_moodbot": ratios(bots, rows(settings)),
        "ratios_cluster_to_tawjih": {
            row.key: ratio(figure(bots.get("cluster", {}), row.path), figure(bots.get("tawjih", {}), row.path))
            for row in rows(settings)
        },
    }


# --- the chart ----------------------------------------------------------------------------------------------------
def chart(document: Mapping[str, Any], path: Path = CHART) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    settings = document["settings"]
    bots: Mapping[str, Any] = document["bots"]
    early, late = settings["early_turn"], settings["session_turns"]
    panels: List[Tuple[str, List[Tuple[str, Tuple[str, ...]]]]] = [
        ("One user: turn latency (ms)", [("p50", ("one_user", "p50_ms")), ("p95", ("one_user", "p95_ms"))]),
        (
            f"{settings['users']} users, think time: latency (ms)",
            [("p50", ("crowd", "p50_ms")), ("p95", ("crowd", "p95_ms")), ("p99", ("crowd", "p99_ms"))],
        ),
        (
            "Throughput (answered msg/s)",
            [
                (f"{settings['users']} users", ("crowd", "throughput_msg_s")),
                (f"{settings['saturation_users']} users,\nno think", ("saturation", "throughput_msg_s")),
            ],
        ),
        (
            "One long session (ms)",
            [
                (f"turn {early}", ("long_session", "at_turn", str(early), "turn_ms")),
                (f"turn {late}", ("long_session", "at_turn", str(late), "turn_ms")),
                (f"p95 around\n{early}", ("long_session", "at_turn", str(early), "window_p95_ms")),
                (f"p95 around\n{late}", ("long_session", "at_turn", str(late), "window_p95_ms")),
            ],
        ),
        (
            "Resident memory after the load (MB)",
            [("Rasa", ("rss_mb", "rasa")), ("actions", ("rss_mb", "actions")), ("registry", ("rss_mb", "registry"))],
        ),
    ]
    figure_, axes = plt.subplots(2, 3, figsize=(15, 8.5))
    shown_bots = [name for name in (*BOTS, "cluster") if name in bots]
    width = 0.8 / max(1, len(shown_bots))
    colours = {"moodbot": "#9aa5b1", "tawjih": "#1f7a5c", "cluster": "#d08c2d"}
    for ax, (title, bars) in zip(axes.flat, panels, strict=False):
        positions = list(range(len(bars)))
        for offset, name in enumerate(shown_bots):
            found = [figure(bots.get(name, {}), bar_path) for _, bar_path in bars]
            shifted = [p + (offset - (len(shown_bots) - 1) / 2) * width for p in positions]
            values = [value or 0.0 for value in found]
            drawn = ax.bar(shifted, values, width, label=BOT_NAMES[name], color=colours[name])
            ax.bar_label(drawn, labels=[_bar_label(value) for value in found], fontsize=7)
        ax.set_xticks(positions)
        ax.set_xticklabels([label for label, _ in bars], fontsize=8)
        ax.set_title(title, fontsize=10)
    axes.flat[0].legend(fontsize=8)

    ax = axes.flat[5]
    shown = [(key, value) for key, value in document["ratios_tawjih_to_moodbot"].items() if value is not None]
    shown = [(key, value) for key, value in shown if not key.endswith("errors")]
    if shown:
        ax.barh([key for key, _ in shown], [value for _, value in shown], color="#1f7a5c")
        ax.axvline(1.0, color="black", linewidth=0.8)
    else:
        ax.text(0.5, 0.5, "no ratios: one bot measured", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
    ax.tick_params(axis="y", labelsize=7)
    ax.invert_yaxis()
    ax.set_title("Tawjih / moodbot (throughput: higher is better;\nlatency and memory: lower is better)", fontsize=9)

    quick = " (BENCH_QUICK: short phases, not for comparison)" if settings.get("quick") else ""
    figure_.suptitle(
        f"Tawjih against the stock `rasa init` moodbot, Rasa {document['rasa_version']}, "
        f"{document['cores']} cores, {document['date'][:10]}{quick}",
        fontsize=11,
    )
    figure_.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure_.savefig(path, dpi=110)
    plt.close(figure_)


def _bar_label(value: Optional[float]) -> str:
    if value is None:
        return ""
    return f"{value:,.0f}" if value >= 10 else f"{value:.1f}"


# --- command line -------------------------------------------------------------------------------------------------
def settings_from(args: argparse.Namespace, environ: Mapping[str, str]) -> Settings:
    quick = args.quick or environ.get("BENCH_QUICK", "").strip() not in ("", "0")
    settings = QUICK if quick else Settings()
    overrides: Dict[str, Any] = {}
    for name in ("duration", "saturation_duration", "one_user_turns", "session_turns", "timeout", "users"):
        value = getattr(args, name)
        if value is not None:
            overrides[name] = value
    settings = replace(settings, **overrides)
    if settings.session_turns < settings.early_turn:
        raise SystemExit(f"--session-turns: at least {settings.early_turn}")
    return settings


def postgres_url(given: Optional[str], environ: Mapping[str, str]) -> Optional[str]:
    """The PostgreSQL to use, or None (said) when there is none."""
    url = given or environ.get("TAWJIH_TEST_DATABASE_URL") or DEFAULT_POSTGRES
    if given or environ.get("TAWJIH_TEST_DATABASE_URL") or reachable("127.0.0.1", 5432):
        return url
    print("No PostgreSQL on 127.0.0.1:5432: the long session on PostgreSQL and the cluster are not measured.")
    return None


def _positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("a whole number from 1")
    return number


def _positive_float(value: str) -> float:
    number = float(value)
    if number <= 0:
        raise argparse.ArgumentTypeError("a number above 0")
    return number


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.turns", description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="Short phases (as BENCH_QUICK=1): checks that it works.")
    parser.add_argument("--duration", type=_positive_float, help="Seconds of the 50-user phase (60; quick 15).")
    parser.add_argument("--saturation-duration", type=_positive_float, help="Seconds of saturation (30; quick 10).")
    parser.add_argument("--users", type=_positive_int, help="People of the think-time phase (50).")
    parser.add_argument("--one-user-turns", type=_positive_int, help="Turns of the one-user phase (63; quick 27).")
    parser.add_argument("--session-turns", type=_positive_int, help="Turns of the long session (300; quick 60).")
    parser.add_argument("--timeout", type=_positive_float, help="Seconds before a request counts as an error (30).")
    parser.add_argument("--only", choices=BOTS, help="Measure one bot only (no ratios).")
    parser.add_argument(
        "--moodbot-dir", type=Path, help="Keep the moodbot project here (made and trained once, reused after)."
    )
    parser.add_argument("--keep", action="store_true", help="Keep the temporary folder (logs, tracker stores).")
    parser.add_argument(
        "--postgres",
        help="PostgreSQL for the long session on PostgreSQL and the cluster (throwaway schemas); default "
        f"TAWJIH_TEST_DATABASE_URL, else {DEFAULT_POSTGRES} when it answers",
    )
    parser.add_argument("--no-cluster", action="store_true", help="Do not measure the cluster.")
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    settings = settings_from(args, os.environ)
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    # A TERM from make: stop every part on the way out (the `finally`s).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    work = Path(tempfile.mkdtemp(prefix="tawjih-bench-"))
    started = time.time()
    bots: Dict[str, Dict[str, Any]] = {}
    try:
        if args.only in (None, "moodbot"):
            bots["moodbot"] = bench_moodbot(settings, work, args.moodbot_dir.resolve() if args.moodbot_dir else None)
        postgres = postgres_url(args.postgres, os.environ)
        if args.only in (None, "tawjih"):
            bots["tawjih"] = bench_tawjih(settings, work, postgres)
            cluster_parts = postgres and reachable("127.0.0.1", 6379) and reachable("127.0.0.1", 5672)
            if args.no_cluster:
                pass
            elif cluster_parts:
                bots["cluster"] = bench_cluster(settings, work, str(postgres))
            else:
                print("The cluster is not measured: it needs PostgreSQL, Redis (6379) and RabbitMQ (5672) on loopback.")
    finally:
        if args.keep:
            print(f"Logs and tracker stores kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    document = results_document(bots, settings, started, time.time())
    print()
    if settings.quick:
        print("BENCH_QUICK: short phases, to check that the benchmark works; not figures to compare.")
    print(f"{document['cores']} cores, Rasa {document['rasa_version']}, {document['date']}:")
    print(table(bots, rows(settings)))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    chart(document)
    print(f"Written to {RESULTS.relative_to(ROOT)} and {CHART.relative_to(ROOT)}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
