"""The tracker store under test, on SQLite and (in CI) on PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest
from rasa.shared.core.domain import Domain

from privacy.tracker_store import ERASURE_SLOT, PrivateSQLTrackerStore


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def tracker_store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'tracker.db'}"
    return str(request.getfixturevalue("postgres_schema_url"))


DOMAIN = Domain.from_dict({"slots": {ERASURE_SLOT: {"type": "bool", "mappings": [{"type": "custom"}]}}})


@pytest.fixture
def store(tracker_store_url: str) -> Iterator[PrivateSQLTrackerStore]:
    store = PrivateSQLTrackerStore(domain=DOMAIN, host=tracker_store_url)
    yield store
    store.engine.dispose()
