"""Fixtures of the registry's own tests: an empty database on SQLite and (with
TAWJIH_TEST_DATABASE_URL) PostgreSQL, for tests that build the schema step by step."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Iterator

import pytest

from tests.conftest import POSTGRES_URL


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def blank_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no table at all: a new SQLite file, or a new PostgreSQL schema dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'registry.db'}"
        return
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL registry tests need TAWJIH_TEST_DATABASE_URL (set by .ci/run)")
    import psycopg2

    schema = f"tawjih_migration_{uuid.uuid4().hex[:10]}"
    connection = psycopg2.connect(POSTGRES_URL)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP SCHEMA "{schema}" CASCADE')
        connection.close()
