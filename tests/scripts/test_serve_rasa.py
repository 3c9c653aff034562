"""scripts/serve_rasa.py: the deployment's endpoints from the environment, in a private copy of endpoints.yml."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List

import pytest
import yaml

from tests.scripts.helpers import ROOT, SCRIPTS, load_script

serve_rasa = load_script("serve_rasa")
VARIABLES = (
    "ACTION_SERVER_URL",
    "TRACKER_STORE_URL",
    "TAWJIH_TRACKER_WINDOW_MESSAGES",
    "LOCK_STORE_URL",
    "EVENT_BROKER_URL",
    "TAWJIH_EVENT_QUEUE",
    "TAWJIH_RETENTION_DAYS",
)

ENDPOINTS_WITH_MORE_KEYS = """\
action_endpoint:
  url: http://127.0.0.1:5055/webhook
tracker_store:
  type: privacy.tracker_store.PrivateSQLTrackerStore
  url: sqlite:///var/tracker.db
  db: tracker
lock_store:
  type: redis
  url: ${REDIS_HOST}
event_broker:
  type: pika
  url: localhost
  queues: [tawjih_events]
"""


class FakeRasa:
    """Stands in for `rasa`: records the command line and the endpoints file as Rasa would read it."""

    def __init__(self) -> None:
        self.argv: List[str] = []
        self.endpoints: Dict[str, Any] = {}
        self.mode = 0
        self.path = Path()

    def __call__(self, argv: List[str]) -> None:
        self.argv = argv
        self.path = Path(argv[argv.index("--endpoints") + 1])
        self.mode = stat.S_IMODE(self.path.stat().st_mode)
        self.endpoints = yaml.safe_load(self.path.read_text(encoding="utf-8"))


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RASA_AUTH_TOKEN", "-a-token-starting-with-a-dash")
    return monkeypatch


def test_the_environment_replaces_the_two_urls_and_keeps_every_other_key(
    tmp_path: Path, clean_env: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "endpoints.yml"
    source.write_text(ENDPOINTS_WITH_MORE_KEYS, encoding="utf-8")
    clean_env.setenv("ACTION_SERVER_URL", "http://10.0.0.7:6055/webhook")
    clean_env.setenv("TRACKER_STORE_URL", "postgresql://tawjih:s3cret@db:5432/tracker")
    clean_env.setenv("TAWJIH_TRACKER_WINDOW_MESSAGES", "15")
    rasa = FakeRasa()

    assert serve_rasa.main(["--model", "m.tar.gz", "--endpoints", str(source), "--port", "5006"], run=rasa) == 0

    assert rasa.argv[:4] == ["rasa", "run", "--enable-api", "--auth-token=-a-token-starting-with-a-dash"]
    assert rasa.argv[4:] == ["--model", "m.tar.gz", "--port", "5006", "--endpoints", str(rasa.path)]
    assert rasa.path != source and rasa.mode == 0o600
    expected = yaml.safe_load(ENDPOINTS_WITH_MORE_KEYS)
    expected["action_endpoint"]["url"] = "http://10.0.0.7:6055/webhook"
    expected["tracker_store"]["url"] = "postgresql://tawjih:s3cret@db:5432/tracker"
    expected["tracker_store"]["window_messages"] = "15"
    assert rasa.endpoints == expected  # lock_store's ${REDIS_HOST} is left for Rasa to expand
    assert not rasa.path.exists()  # deleted once Rasa stops


def test_without_the_variables_the_file_s_local_defaults_are_used(clean_env: pytest.MonkeyPatch) -> None:
    rasa = FakeRasa()
    clean_env.chdir(ROOT)
    assert serve_rasa.main(["--endpoints=endpoints.yml"], run=rasa) == 0
    assert rasa.endpoints == {
        "action_endpoint": {"url": "http://127.0.0.1:5055/webhook"},
        "tracker_store": {
            "type": "privacy.tracker_store.PrivateSQLTrackerStore",
            "url": "sqlite:///var/tracker.db",
            "window_messages": 10,
        },
    }
    assert rasa.argv.count("--endpoints") == 1 and "--endpoints=endpoints.yml" not in rasa.argv


def test_endpoints_yml_needs_no_environment_variable() -> None:
    """Rasa expands ${...} when it reads the file: any placeholder left would break `rasa shell` and the rest."""
    assert "${" not in (ROOT / "endpoints.yml").read_text(encoding="utf-8")


def test_the_shell_gets_the_same_endpoints_and_needs_no_token(tmp_path: Path, clean_env: pytest.MonkeyPatch) -> None:
    clean_env.delenv("RASA_AUTH_TOKEN")
    clean_env.setenv("ACTION_SERVER_URL", "http://127.0.0.1:6055/webhook")
    clean_env.chdir(ROOT)
    rasa = FakeRasa()
    assert serve_rasa.main(["shell", "--model", "m.tar.gz"], run=rasa) == 0
    assert rasa.argv == ["rasa", "shell", "--model", "m.tar.gz", "--endpoints", str(rasa.path)]
    assert rasa.endpoints["action_endpoint"] == {"url": "http://127.0.0.1:6055/webhook"}


def test_rasa_is_never_started_without_its_api_token() -> None:
    env = {k: v for k, v in os.environ.items() if k != "RASA_AUTH_TOKEN"}
    finished = subprocess.run(
        [sys.executable, str(SCRIPTS / "serve_rasa.py"), "--model", "models/tawjih.tar.gz"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert finished.returncode == 2
    assert "RASA_AUTH_TOKEN" in finished.stderr


def test_an_unreadable_endpoints_file_is_named(tmp_path: Path, clean_env: pytest.MonkeyPatch) -> None:
    rasa = FakeRasa()
    missing = tmp_path / "nowhere.yml"
    assert serve_rasa.main(["--endpoints", str(missing)], run=rasa) == 2
    assert rasa.argv == []


def test_several_instances_share_a_redis_lock_store_and_a_rabbitmq_broker(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.chdir(ROOT)
    clean_env.setenv("LOCK_STORE_URL", "redis://:p%40ss@redis.internal:6380/3")
    clean_env.setenv("EVENT_BROKER_URL", "amqp://tawjih:s3cret@rabbit.internal:5673")
    rasa = FakeRasa()
    assert serve_rasa.main(["--endpoints=endpoints.yml"], run=rasa) == 0
    assert rasa.endpoints["lock_store"] == {
        "type": "scaling.lock_store.AtomicRedisLockStore", "url": "redis.internal", "port": 6380, "db": 3, "key_prefix": "tawjih", "use_ssl": False,
        "password": "p@ss",
    }  # fmt: skip
    assert rasa.endpoints["event_broker"] == {
        "type": "scaling.event_broker.PrivatePikaEventBroker", "url": "rabbit.internal", "port": 5673, "username": "tawjih", "password": "s3cret",
        "queues": ["tawjih_events"],
    }  # fmt: skip
    assert rasa.mode == 0o600  # the passwords are in a file only its owner reads


@pytest.mark.parametrize(
    ("variable", "value"), [("LOCK_STORE_URL", "localhost:6379"), ("EVENT_BROKER_URL", "http://x")]
)
def test_a_malformed_url_stops_the_start_naming_the_variable_not_its_value(
    variable: str, value: str, clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    clean_env.chdir(ROOT)
    clean_env.setenv(variable, value)
    assert serve_rasa.main(["--endpoints=endpoints.yml"], run=FakeRasa()) == 2
    error = capsys.readouterr().err
    assert variable in error and value not in error


def test_the_event_queue_keeps_events_as_long_as_the_conversations(
    clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    clean_env.chdir(ROOT)
    clean_env.setenv("EVENT_BROKER_URL", "amqp://tawjih:s3cret@rabbit.internal:5673")
    clean_env.setenv("TAWJIH_RETENTION_DAYS", "30")
    rasa = FakeRasa()
    assert serve_rasa.main(["--endpoints=endpoints.yml"], run=rasa) == 0
    assert rasa.endpoints["event_broker"]["message_ttl_days"] == 30
    clean_env.setenv("TAWJIH_RETENTION_DAYS", "thirty")
    assert serve_rasa.main(["--endpoints=endpoints.yml"], run=FakeRasa()) == 2
    assert "TAWJIH_RETENTION_DAYS" in capsys.readouterr().err
