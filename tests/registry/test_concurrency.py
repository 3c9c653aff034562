"""A registry that has just started answers a burst of concurrent reads, all alike, with no traceback.

The registry runs with a very short thread switch interval (a ``sitecustomize`` on its
``PYTHONPATH``): a thread is then interrupted almost anywhere, so the interleavings that a loaded
machine produces now and then (issue 17's ten clients) come much more often. A race stays a
matter of chance (before the fix about one run in eight failed here); ``test_read_path`` checks
its cause, a model built while serving, every time."""

from __future__ import annotations

import os
import threading
from collections import defaultdict
from pathlib import Path
from typing import Dict, Iterator, List, Tuple

import pytest
import requests

from tests.support.processes import RegistryProcess

LIST_ROUTES = [
    ("/api/v1/sessions", {"city": "Rabat"}),
    ("/api/v1/sessions", {"region": "Rabat-Salé-Kénitra", "status": "open"}),
    ("/api/v1/centres", {"city": "Rabat"}),
    ("/api/v1/centres", {"near": "34.02,-6.84", "limit": 5}),
    ("/api/v1/regions", {}),
    ("/api/v1/cities", {"region": "souss-massa"}),
    ("/api/v1/education-levels", {}),
    ("/api/v1/programmes", {}),
]
CLIENTS_PER_ROUTE = 4
SHORT_SWITCH_INTERVAL = "import sys\n\nsys.setswitchinterval(1e-6)\n"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def fresh_registry(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    log_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[RegistryProcess]:
    """A registry process of its own, started for this test: nothing has warmed it up."""
    startup = tmp_path_factory.mktemp("switch")
    (startup / "sitecustomize.py").write_text(SHORT_SWITCH_INTERVAL, encoding="utf-8")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(startup), os.environ.get("PYTHONPATH")])))
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('fresh') / 'registry.db'}"
    else:
        url = request.getfixturevalue("postgres_schema_url")
    process = RegistryProcess(url, log_dir)
    yield process
    process.stop()


def test_first_concurrent_reads_after_start_all_succeed_alike(fresh_registry: RegistryProcess) -> None:
    jobs: List[Tuple[str, Dict[str, object]]] = [route for route in LIST_ROUTES for _ in range(CLIENTS_PER_ROUTE)]
    start = threading.Barrier(len(jobs))
    answers: Dict[int, List[Tuple[int, str]]] = defaultdict(list)
    lock = threading.Lock()

    def ask(route_index: int, path: str, params: Dict[str, object]) -> None:
        with requests.Session() as client:
            client.get(fresh_registry.url + "/health", timeout=30)  # connected first: the burst is the reads alone
            start.wait()
            try:
                response = client.get(fresh_registry.url + path, params=params, timeout=30)
                outcome = (response.status_code, response.text)
            except requests.RequestException as error:  # a reset connection is a failure, not a crash of the test
                outcome = (0, type(error).__name__)
        with lock:
            answers[route_index].append(outcome)

    threads = [threading.Thread(target=ask, args=(LIST_ROUTES.index(route), *route), daemon=True) for route in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    for index, outcomes in sorted(answers.items()):
        path, params = LIST_ROUTES[index]
        assert [status for status, _ in outcomes] == [200] * CLIENTS_PER_ROUTE, (path, params, outcomes)
        assert len({body for _, body in outcomes}) == 1, (path, params)
    assert len(answers) == len(LIST_ROUTES)
    assert "Traceback" not in fresh_registry.log_text()
