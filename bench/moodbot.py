"""Stock Rasa for `make bench`: the `rasa init` moodbot, made, trained and served by the same Rasa as Tawjih.

Served as the stock project serves itself (`rasa run --enable-api`, its own credentials.yml with the
REST channel), with one change to its endpoints.yml: Rasa's own SQL tracker store on SQLite, so that
both bots keep their conversations the same way.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Dict, Optional

import yaml

from bench.load import Target
from tests.support.processes import VENV_BIN, ManagedProcess, free_port, http_ok

RASA = str(VENV_BIN / "rasa")


def _rasa_env() -> Dict[str, str]:
    return {**os.environ, "RASA_TELEMETRY_ENABLED": "false"}


def trained_model(project: Path) -> Optional[Path]:
    models = sorted((project / "models").glob("*.tar.gz"), key=lambda path: path.stat().st_mtime)
    return models[-1] if models else None


def create(project: Path, log: Path, timeout: float = 1800.0) -> Path:
    """`rasa init --no-prompt` in ``project`` (it ships its data and trains), then `rasa train` there if no
    model came out of it. Returns the model."""
    project.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as output:
        if not (project / "domain.yml").exists():
            subprocess.run(
                [RASA, "init", "--no-prompt", "--init-dir", str(project)],
                cwd=project,
                env=_rasa_env(),
                stdout=output,
                stderr=subprocess.STDOUT,
                timeout=timeout,
                check=True,
            )
        if trained_model(project) is None:
            subprocess.run(
                [RASA, "train"],
                cwd=project,
                env=_rasa_env(),
                stdout=output,
                stderr=subprocess.STDOUT,
                timeout=timeout,
                check=True,
            )
    model = trained_model(project)
    if model is None:
        raise RuntimeError(f"no moodbot model in {project / 'models'} (see {log})")
    return model


def sqlite_endpoints(project: Path, tracker_db: Path) -> Path:
    """The project's endpoints.yml with Rasa's SQL tracker store on SQLite, written next to it."""
    source = project / "endpoints.yml"
    endpoints = (yaml.safe_load(source.read_text(encoding="utf-8")) if source.exists() else None) or {}
    endpoints["tracker_store"] = {"type": "SQL", "dialect": "sqlite", "db": str(tracker_db)}
    written = project / "endpoints-bench.yml"
    written.write_text(yaml.safe_dump(endpoints, sort_keys=False), encoding="utf-8")
    return written


class MoodbotServer(ManagedProcess):
    """`rasa run --enable-api` on a free loopback port (the throwaway bot's API is open, on loopback only)."""

    def __init__(self, project: Path, model: Path, log_dir: Path, timeout: float = 300.0) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        argv = [
            RASA,
            "run",
            "--enable-api",
            "--model",
            str(model),
            "--interface",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--credentials",
            str(project / "credentials.yml"),
            "--endpoints",
            str(sqlite_endpoints(project, project / "tracker.db")),
        ]
        super().__init__(f"moodbot-{self.port}", argv, {}, log_dir)
        self.wait_until(http_ok(f"{self.url}/status"), timeout=timeout)

    def target(self) -> Target:
        return Target("moodbot", f"{self.url}/webhooks/rest/webhook", {})
