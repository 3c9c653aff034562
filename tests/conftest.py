"""Fixtures that start Tawjih's real parts on loopback."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Iterator

import pytest

from tests.support.processes import RegistryProcess

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
# The action modules refuse to load without it (actions.config.check_at_start); processes get their own.
os.environ.setdefault("HANDOFF_SERVICE_TOKEN", "tests-handoff-service-token")
POSTGRES_URL = os.environ.get("TAWJIH_TEST_DATABASE_URL")


def pytest_collection_modifyitems(config: pytest.Config, items: list) -> None:
    """For `make test`'s two workers (pytest-xdist, ``--dist loadgroup``): a test module runs whole on one
    worker, so that its module fixtures (a console, a registry) start once; the end-to-end modules, which
    share one trained Rasa and its stack, all run on the same worker, and first: they take the longest."""
    for item in items:
        module = item.nodeid.split("::")[0]
        item.add_marker(pytest.mark.xdist_group("e2e" if module.startswith("tests/e2e/") else module))
    items.sort(key=lambda item: not item.nodeid.startswith("tests/e2e/"))


@pytest.fixture(scope="session")
def log_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("logs")


def _sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('registry') / 'registry.db'}"


@pytest.fixture(scope="session")
def postgres_schema_url() -> Iterator[str]:
    """A throwaway schema in the PostgreSQL test database, dropped afterwards."""
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL registry tests need TAWJIH_TEST_DATABASE_URL (set by .ci/run)")
    import psycopg2

    schema = f"tawjih_test_{uuid.uuid4().hex[:10]}"
    with psycopg2.connect(POSTGRES_URL) as connection, connection.cursor() as cursor:
        cursor.execute(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in POSTGRES_URL else "?"
    yield f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    connection = psycopg2.connect(POSTGRES_URL)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f'DROP SCHEMA "{schema}" CASCADE')
    connection.close()


@pytest.fixture(scope="session", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def registry(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, log_dir: Path
) -> Iterator[RegistryProcess]:
    """The real registry service, seeded, on SQLite and (in CI) on PostgreSQL."""
    if request.param == "sqlite":
        url = _sqlite_url(tmp_path_factory)
    else:
        url = request.getfixturevalue("postgres_schema_url")
    process = RegistryProcess(url, log_dir)
    yield process
    process.stop()


@pytest.fixture(scope="session")
def sqlite_registry(tmp_path_factory: pytest.TempPathFactory, log_dir: Path) -> Iterator[RegistryProcess]:
    """One shared SQLite registry for tests of the parts that read it (client, actions, end to end)."""
    process = RegistryProcess(_sqlite_url(tmp_path_factory), log_dir)
    yield process
    process.stop()


@pytest.fixture
def own_registry(tmp_path_factory: pytest.TempPathFactory, log_dir: Path) -> Iterator[RegistryProcess]:
    """A private SQLite registry for a test that stops it, pauses it or breaks its database."""
    process = RegistryProcess(_sqlite_url(tmp_path_factory), log_dir)
    yield process
    process.stop()
