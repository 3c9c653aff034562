"""The registry's read path does no heavy work per request: no response model is built while
serving, and a list costs the same few queries whatever its length (no query per record)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from pydantic.generics import GenericModel

from registry.app import create_app
from registry.db import create_engine, migrate, session_factory
from registry.models import TrainingSession
from registry.seed import reset, seed
from registry.settings import RegistrySettings

ROUTES: List[Tuple[str, Dict[str, str]]] = [
    ("/api/v1/regions", {}),
    ("/api/v1/cities", {"region": "Souss-Massa"}),
    ("/api/v1/education-levels", {}),
    ("/api/v1/programmes", {}),
    ("/api/v1/programmes/ia-cmc", {}),
    ("/api/v1/centres", {"city": "Rabat"}),
    ("/api/v1/centres", {"region": "rabat-sale-kenitra", "programme": "ia-cmc"}),
    ("/api/v1/centres", {"near": "34.02,-6.84"}),
    ("/api/v1/centres/code212-rabat", {}),
    ("/api/v1/sessions", {"city": "Rabat"}),
    ("/api/v1/sessions", {"region": "Rabat-Salé-Kénitra", "status": "open"}),
    ("/api/v1/sessions", {}),
]


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    url = f"sqlite:///{tmp_path_factory.mktemp('read-path') / 'registry.db'}"
    engine = create_engine(url)
    migrate(engine)
    with session_factory(engine)() as session:
        seed(session)
    engine.dispose()
    return create_app(RegistrySettings(database_url=url, host="127.0.0.1", port=0, admin_token=None))


async def get(app: FastAPI, path: str, params: Dict[str, str]) -> Tuple[int, bytes]:
    """One GET straight through the ASGI application, middleware included."""
    query = "&".join(f"{k}={v}" for k, v in params.items()).encode()
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "root_path": "",
        "headers": [(b"host", b"registry")],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    status: List[int] = []
    body: List[bytes] = []

    async def receive() -> Dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])
        elif message["type"] == "http.response.body":
            body.append(message.get("body", b""))

    await app(scope, receive, send)
    return status[0], b"".join(body)


async def test_no_response_model_is_built_while_serving(app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    built: List[Any] = []
    parametrize = GenericModel.__dict__["__class_getitem__"].__func__

    def spy(cls: type, params: Any) -> Any:
        built.append((cls.__name__, params))
        return parametrize(cls, params)

    monkeypatch.setattr(GenericModel, "__class_getitem__", classmethod(spy))
    for path, params in ROUTES:
        status, body = await get(app, path, params)
        assert status == 200, (path, body[:300])
    assert built == []


async def test_a_read_costs_the_same_few_queries_whatever_its_length(app: FastAPI) -> None:
    statements: List[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "catalogue_version" not in statement:  # the read cache's one check, counted below
            statements.append(statement)

    sa.event.listen(app.state.engine, "before_cursor_execute", record)
    try:
        for path, params in ROUTES:
            costs = []
            for limit in ("1", "200"):
                statements.clear()
                status, _ = await get(app, path, {**params, "limit": limit})
                assert status == 200
                costs.append(len(statements))
            assert costs[0] == costs[1] <= 3, (path, params, costs)
    finally:
        sa.event.remove(app.state.engine, "before_cursor_execute", record)


async def test_a_repeated_read_is_served_from_the_cache_with_one_query(app: FastAPI) -> None:
    statements: List[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    for path, params in ROUTES:
        _, first = await get(app, path, params)
        sa.event.listen(app.state.engine, "before_cursor_execute", record)
        try:
            statements.clear()
            status, again = await get(app, path, params)
        finally:
            sa.event.remove(app.state.engine, "before_cursor_execute", record)
        assert (status, again) == (200, first), path
        assert len(statements) == 1 and "catalogue_version" in statements[0], (path, statements)


async def test_a_change_committed_anywhere_is_in_the_next_read(tmp_path: Path) -> None:
    """Two replicas on one database: a change written by another process (here, a session of its
    own) is seen by the next read of a replica that had the old answer cached."""
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    engine = create_engine(url)
    migrate(engine)
    with session_factory(engine)() as session:
        seed(session)
    replica = create_app(RegistrySettings(database_url=url, host="127.0.0.1", port=0, admin_token=None))
    path, params = "/api/v1/sessions", {"city": "Rabat"}
    _, before = await get(replica, path, params)
    first = json.loads(before)["data"][0]
    with session_factory(engine)() as session:
        record = session.get(TrainingSession, first["id"])
        record.seats_left = first["seats_left"] - 1
        session.commit()
    _, after = await get(replica, path, params)
    assert json.loads(after)["data"][0]["seats_left"] == first["seats_left"] - 1

    with session_factory(engine)() as session:
        reset(session)  # bulk deletes, without a flush of records
    _, emptied = await get(replica, path, params)
    assert json.loads(emptied)["data"] == []
    replica.state.engine.dispose()
    engine.dispose()
