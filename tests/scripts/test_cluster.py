"""`make cluster`'s own files: HAProxy accepts its configuration, and its databases are made once."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid

import pytest
import sqlalchemy as sa

from tests.conftest import POSTGRES_URL
from tests.scripts.helpers import ROOT, load_script

ensure_database = load_script("cluster_databases").ensure_database


def test_haproxy_accepts_the_cluster_configuration() -> None:
    haproxy = shutil.which("haproxy")
    assert haproxy, "Debian's haproxy is needed (make test installs it, as make cluster does)"
    env = {**os.environ, "RASA_PORT": "5905", "RASA_PORT_1": "5906", "RASA_PORT_2": "5907"}
    checked = subprocess.run(
        [haproxy, "-c", "-f", str(ROOT / "deploy" / "cluster" / "haproxy.cfg")], env=env, capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stderr
    assert "WARNING" not in checked.stderr


def test_every_part_of_the_cluster_procfile_is_started_by_the_cluster() -> None:
    names = [
        line.split(":")[0]
        for line in (ROOT / "deploy" / "cluster" / "Procfile").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert names == ["registry", "actions1", "actions2", "rasa1", "rasa2", "balancer", "web", "retention", "console"]


@pytest.mark.postgres
def test_a_missing_database_is_made_once() -> None:
    assert POSTGRES_URL
    name = f"tawjih_cluster_{uuid.uuid4().hex[:8]}"
    url = str(sa.engine.make_url(POSTGRES_URL).set(database=name))
    try:
        assert ensure_database(url) is True
        assert ensure_database(url) is False  # there already: left as it is
    finally:
        server = sa.create_engine(sa.engine.make_url(POSTGRES_URL), isolation_level="AUTOCOMMIT", future=True)
        with server.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
        server.dispose()
