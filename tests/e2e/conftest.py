from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

from tests.support.processes import ROOT, ActionServerProcess, RasaProcess, RegistryProcess

MODEL = ROOT / "models" / "tawjih.tar.gz"


@dataclass
class Stack:
    registry: RegistryProcess
    actions: ActionServerProcess
    rasa: RasaProcess
    tracker_db: Path


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory, log_dir: Path) -> Iterator[Stack]:
    """The trained Rasa server, the action server and a registry of its own, as `make run` starts them."""
    if not MODEL.exists():
        pytest.fail("No trained model: run `make train` (make test does it first).")
    work = tmp_path_factory.mktemp("stack")
    registry = RegistryProcess(f"sqlite:///{work / 'registry.db'}", log_dir)
    actions = rasa = None
    try:
        actions = ActionServerProcess(registry.url, log_dir)
        tracker_db = work / "tracker.db"
        rasa = RasaProcess(MODEL, actions.url, f"sqlite:///{tracker_db}", log_dir)
        yield Stack(registry, actions, rasa, tracker_db)
    finally:
        for process in (rasa, actions, registry):
            if process is not None:
                process.stop()
