"""The action server's settings: one object, read once, checked when the server starts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from actions.config import ActionServerSettings, action_server_settings, check_at_start, conversation_retention_days
from tests.support.processes import ROOT, VENV_BIN, free_port

ACTIONS = ROOT / "actions"


def test_defaults_are_the_documented_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("REGISTRY_URL", "REGISTRY_REFERENCE_TTL_SECONDS", "REGISTRY_WORKERS", "TAWJIH_RETENTION_DAYS"):
        monkeypatch.delenv(name, raising=False)
    settings = action_server_settings()
    assert settings.registry_url == "http://127.0.0.1:8100"
    assert (settings.reference_ttl, settings.cache_ttl, settings.workers, settings.retention_days) == (30, 0, 16, 90)


def test_values_come_from_the_environment_and_empty_means_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGISTRY_URL", "https://registry.example/")
    monkeypatch.setenv("REGISTRY_WORKERS", "4")
    monkeypatch.setenv("TAWJIH_RETENTION_DAYS", "")
    settings = action_server_settings()
    assert settings.registry_url == "https://registry.example"
    assert settings.workers == 4 and settings.retention_days == 90


def test_they_are_read_once_for_the_life_of_the_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TAWJIH_RETENTION_DAYS", "30")
    assert conversation_retention_days() == 30
    monkeypatch.setenv("TAWJIH_RETENTION_DAYS", "45")
    assert conversation_retention_days() == 30


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("TAWJIH_RETENTION_DAYS", "0"),
        ("TAWJIH_RETENTION_DAYS", "ninety"),
        ("REGISTRY_URL", "ftp://user:s3cret@registry"),
        ("REGISTRY_RETRIES", "-1"),
        ("REGISTRY_WORKERS", "0"),
        ("REGISTRY_READ_TIMEOUT_SECONDS", "0"),
        ("REGISTRY_REFERENCE_TTL_SECONDS", "-5"),
    ],
)
def test_an_invalid_value_stops_the_start_naming_the_variable(
    variable: str, value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SystemExit) as stopped:
        check_at_start()
    message = str(stopped.value)
    assert variable in message
    assert "s3cret" not in message  # the value is not repeated: a URL may carry a password


def test_the_action_server_refuses_to_start_with_an_invalid_setting(tmp_path: Path) -> None:
    env = {**os.environ, "TAWJIH_RETENTION_DAYS": "0", "RASA_TELEMETRY_ENABLED": "false"}
    argv = [str(VENV_BIN / "python"), "-m", "rasa_sdk", "--actions", "actions", "--port", str(free_port())]
    finished = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert finished.returncode != 0
    assert "TAWJIH_RETENTION_DAYS" in finished.stderr
    assert "Traceback" not in finished.stderr


def test_the_actions_read_the_retention_without_importing_privacy() -> None:
    script = (
        "import importlib, pkgutil, sys, actions\n"
        "for module in pkgutil.iter_modules(actions.__path__):\n"
        "    importlib.import_module('actions.' + module.name)\n"
        "from actions.config import conversation_retention_days\n"
        "assert conversation_retention_days() == 12\n"
        "print(sorted(m for m in sys.modules if m == 'privacy' or m.startswith('privacy.')))\n"
    )
    env = {**os.environ, "TAWJIH_RETENTION_DAYS": "12"}
    finished = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.strip() == "[]"


def test_no_action_module_reads_the_environment_itself() -> None:
    for path in ACTIONS.glob("*.py"):
        if path.name == "config.py":
            continue
        source = path.read_text(encoding="utf-8")
        assert "os.environ" not in source and "getenv" not in source, path.name


def test_the_settings_object_validates_what_it_is_given() -> None:
    settings = ActionServerSettings(registry_url="http://127.0.0.1:9/", workers=2)  # type: ignore[call-arg]
    assert settings.registry_url == "http://127.0.0.1:9" and settings.workers == 2
