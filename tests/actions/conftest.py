from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, Optional

import pytest
from rasa_sdk import Tracker

from actions.config import action_server_settings
from actions.registry_client import reset_registry_client
from tests.support.processes import RegistryProcess

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(autouse=True)
def fresh_settings() -> Iterator[None]:
    """Each test reads the settings from the environment it sets (the server reads them once)."""
    action_server_settings.cache_clear()
    yield
    action_server_settings.cache_clear()


@pytest.fixture
def make_tracker() -> Callable[..., Tracker]:
    """A tracker from the JSON fixture, with the register and slots a test needs."""

    def build(register: Optional[str] = "darija_latin", **slots: Any) -> Tracker:
        state: Dict[str, Any] = json.loads((DATA / "tracker_darija_latin.json").read_text(encoding="utf-8"))
        state["slots"].update({"register": register, **slots})
        return Tracker.from_dict(state)

    return build


@pytest.fixture
def registry_env(sqlite_registry: RegistryProcess, monkeypatch: pytest.MonkeyPatch) -> Iterator[RegistryProcess]:
    """Point the actions' client at the real test registry."""
    monkeypatch.setenv("REGISTRY_URL", sqlite_registry.url)
    reset_registry_client()
    yield sqlite_registry
    reset_registry_client()


@pytest.fixture
def own_registry_env(own_registry: RegistryProcess, monkeypatch: pytest.MonkeyPatch) -> Iterator[RegistryProcess]:
    """Point the actions' client at a private registry, for a test that changes its data."""
    monkeypatch.setenv("REGISTRY_URL", own_registry.url)
    reset_registry_client()
    yield own_registry
    reset_registry_client()
