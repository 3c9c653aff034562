"""Start `rasa run` with its HTTP API behind RASA_AUTH_TOKEN, and the deployment's endpoints.

    python scripts/serve_rasa.py [rasa run options]    what `make run` and the tests start
    python scripts/serve_rasa.py shell [rasa shell options]    what `make shell` starts

`rasa run --auth-token TOKEN` would put the token on the command line, where `ps` shows it to
every user of the machine. This launcher hands it to Rasa inside the process instead, and
refuses to start without one: Rasa's HTTP API is never open. Other arguments go to `rasa run`.

`endpoints.yml` holds local defaults, so that Rasa's own commands (`rasa shell`, `rasa run`,
`rasa interactive`) work from the checkout. A deployment sets ACTION_SERVER_URL and
TRACKER_STORE_URL instead: this launcher writes a copy of the endpoints file (`--endpoints`,
default `endpoints.yml`) with those two values replaced, every other key kept as it is, to a
private temporary file (mode 600: a tracker store URL may hold a database password), hands
that copy to Rasa and deletes it when Rasa stops.

Several Rasa instances share two more parts, set the same way: LOCK_STORE_URL
(``redis://[:password@]host[:port][/db]``: Rasa's Redis lock store, so that two instances never
handle one conversation at once) and EVENT_BROKER_URL (``amqp://user:password@host[:port]``: Rasa's
RabbitMQ event broker, publishing to the queue TAWJIH_EVENT_QUEUE, ``tawjih_events`` by default).
Unset, Rasa's in-process lock store and no broker: one instance, as `make run` starts it.
"""

from __future__ import annotations

import os
import signal
import sys
import tempfile
import urllib.parse
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

import yaml

DEFAULT_ENDPOINTS = "endpoints.yml"
# environment variable -> (section of endpoints.yml, key in it)
OVERRIDES: Dict[str, Tuple[str, str]] = {
    "ACTION_SERVER_URL": ("action_endpoint", "url"),
    "TRACKER_STORE_URL": ("tracker_store", "url"),
    "TAWJIH_TRACKER_WINDOW_MESSAGES": ("tracker_store", "window_messages"),
}


def rasa_argv(arguments: List[str], token: str) -> List[str]:
    # "--auth-token=TOKEN", not "--auth-token TOKEN": a generated token may begin with "-",
    # which argparse would take for an option and refuse to start.
    return ["rasa", "run", "--enable-api", f"--auth-token={token}", *arguments]


DEFAULT_EVENT_QUEUE = "tawjih_events"


def lock_store_section(url: str) -> Dict[str, Any]:
    """Rasa's ``lock_store`` section for a ``redis://`` URL."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("redis", "rediss") or not parts.hostname:
        raise ValueError("LOCK_STORE_URL must be a redis://host[:port][/db] URL")
    db = parts.path.strip("/")
    section: Dict[str, Any] = {
        # Rasa's RedisLockStore, with every change to a lock made atomic (scaling/lock_store.py).
        "type": "scaling.lock_store.AtomicRedisLockStore",
        "url": parts.hostname,
        "port": parts.port or 6379,
        "db": int(db) if db.isdigit() else 1,
        "key_prefix": "tawjih",
        "use_ssl": parts.scheme == "rediss",
    }
    if parts.password:
        section["password"] = urllib.parse.unquote(parts.password)
    return section


def event_broker_section(url: str, queue: str, retention_days: str = "") -> Dict[str, Any]:
    """Rasa's ``event_broker`` section (RabbitMQ, ``pika``) for an ``amqp://`` URL; its queue keeps an
    event at most ``retention_days`` (TAWJIH_RETENTION_DAYS, the tracker store's retention)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("amqp", "amqps") or not parts.hostname:
        raise ValueError("EVENT_BROKER_URL must be an amqp://user:password@host[:port] URL")
    days = retention_days.strip()
    if days and (not days.isdigit() or int(days) < 1):
        raise ValueError("TAWJIH_RETENTION_DAYS must be a whole number of days, at least 1")
    section = {
        # Rasa's pika broker, streaming no text nor personal value, its queue's TTL the retention period,
        # without message texts in its log (scaling/event_broker.py).
        "type": "scaling.event_broker.PrivatePikaEventBroker",
        "url": parts.hostname,
        "port": parts.port or 5672,
        "username": urllib.parse.unquote(parts.username or "guest"),
        "password": urllib.parse.unquote(parts.password or "guest"),
        "queues": [queue],
    }
    if days:  # unset: the broker's default, the purge's (privacy/settings.py)
        section["message_ttl_days"] = int(days)
    return section


def resolved_endpoints(endpoints: Dict[str, Any], environ: Mapping[str, str]) -> Dict[str, Any]:
    """The endpoints configuration with the environment's values in place of the file's defaults."""
    resolved = dict(endpoints)
    for variable, (section, key) in OVERRIDES.items():
        value = environ.get(variable, "").strip()
        if value:
            resolved[section] = {**(resolved.get(section) or {}), key: value}
    lock_store = environ.get("LOCK_STORE_URL", "").strip()
    if lock_store:
        resolved["lock_store"] = lock_store_section(lock_store)
    broker = environ.get("EVENT_BROKER_URL", "").strip()
    if broker:
        queue = environ.get("TAWJIH_EVENT_QUEUE", "").strip() or DEFAULT_EVENT_QUEUE
        resolved["event_broker"] = event_broker_section(broker, queue, environ.get("TAWJIH_RETENTION_DAYS", ""))
    return resolved


def split_endpoints_option(arguments: List[str]) -> Tuple[str, List[str]]:
    """The path given with ``--endpoints`` (default endpoints.yml) and the other arguments."""
    path, rest = DEFAULT_ENDPOINTS, []
    iterator = iter(arguments)
    for argument in iterator:
        if argument == "--endpoints":
            path = next(iterator, DEFAULT_ENDPOINTS)
        elif argument.startswith("--endpoints="):
            path = argument.split("=", 1)[1]
        else:
            rest.append(argument)
    return path, rest


def write_resolved_endpoints(path: str, environ: Mapping[str, str]) -> Path:
    """A private copy of the endpoints file at ``path`` with the environment's values, for Rasa to read."""
    with open(path, encoding="utf-8") as source:
        endpoints = yaml.safe_load(source) or {}
    if not isinstance(endpoints, dict):
        raise ValueError(f"{path} is not a mapping of endpoints")
    descriptor, name = tempfile.mkstemp(prefix="tawjih-endpoints-", suffix=".yml")  # mode 600
    with os.fdopen(descriptor, "w", encoding="utf-8") as copy:
        copy.write(f"# Written by scripts/serve_rasa.py from {path} and the environment; deleted when Rasa stops.\n")
        yaml.safe_dump(resolved_endpoints(endpoints, environ), copy, sort_keys=False, allow_unicode=True)
    return Path(name)


REQUEST_MAX_BYTES = 1024 * 1024


def run_rasa(argv: List[str]) -> None:
    # Stopped while the model loads (before Rasa's server handles SIGTERM itself): unwind, so the
    # private copy of the endpoints is deleted too.
    signal.signal(signal.SIGTERM, lambda number, frame: sys.exit(128 + number))
    from rasa.__main__ import main as rasa_main

    sys.path.insert(1, str(Path(__file__).resolve().parents[1]))  # the checkout, as Rasa adds its cwd
    from scaling import rasa_speedups

    rasa_speedups.install()

    sys.argv = argv
    rasa_main()


def main(arguments: Optional[List[str]] = None, run: Callable[[List[str]], None] = run_rasa) -> int:
    arguments = sys.argv[1:] if arguments is None else arguments
    shell = bool(arguments) and arguments[0] == "shell"
    token = os.environ.get("RASA_AUTH_TOKEN", "").strip()
    if not shell and not token:
        print("RASA_AUTH_TOKEN is not set: Rasa's HTTP API is never started without a token.", file=sys.stderr)
        return 2
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    # Sanic reads no request body larger than this (its default is 100 MB); the channels set tighter limits.
    os.environ.setdefault("SANIC_REQUEST_MAX_SIZE", str(REQUEST_MAX_BYTES))
    path, rest = split_endpoints_option(arguments[1:] if shell else arguments)
    try:
        endpoints = write_resolved_endpoints(path, os.environ)
    except (OSError, ValueError, yaml.YAMLError) as error:
        print(f"Cannot read the endpoints file {path}: {error}", file=sys.stderr)
        return 2
    try:
        rest = [*rest, "--endpoints", str(endpoints)]
        run(["rasa", "shell", *rest] if shell else rasa_argv(rest, token))
    finally:
        endpoints.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
