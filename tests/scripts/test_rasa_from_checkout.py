"""Rasa's own commands, typed from the checkout without the variables `make run` sets (slow: a minute each)."""

from __future__ import annotations

import os
import secrets
import subprocess
from pathlib import Path
from typing import Dict

import pytest

from tests.support.processes import ROOT, VENV_BIN, ManagedProcess, free_port, http_ok

MODEL = ROOT / "models" / "tawjih.tar.gz"
MAKE_RUN_VARIABLES = ("ACTION_SERVER_URL", "TRACKER_STORE_URL")


def environment_without_make_run() -> Dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if k not in MAKE_RUN_VARIABLES},
        "RASA_TELEMETRY_ENABLED": "false",
    }


def test_rasa_data_validate() -> None:
    finished = subprocess.run(
        [str(VENV_BIN / "rasa"), "data", "validate"],
        cwd=ROOT,
        env=environment_without_make_run(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert finished.returncode == 0, (finished.stdout + finished.stderr)[-4000:]


@pytest.mark.e2e
def test_rasa_run_answers_its_status(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if not MODEL.exists():
        pytest.skip("no trained model (make train)")
    for name in MAKE_RUN_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    port, token = free_port(), secrets.token_hex(16)
    argv = [
        str(VENV_BIN / "rasa"),
        "run",
        "--model",
        str(MODEL),
        "--interface",
        "127.0.0.1",
        "--port",
        str(port),
        "--enable-api",
        "--auth-token",
        token,
    ]
    rasa = ManagedProcess(f"plain-rasa-run-{port}", argv, {}, tmp_path)
    try:
        rasa.wait_until(http_ok(f"http://127.0.0.1:{port}/status", {"token": token}), timeout=300)
        assert "expand the environment variables" not in rasa.log_text()
    finally:
        rasa.stop()
