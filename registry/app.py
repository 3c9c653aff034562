"""The registry's FastAPI application."""

from __future__ import annotations

import hashlib
from typing import Awaitable, Callable, Optional

import sqlalchemy as sa
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from registry.api import read, write
from registry.db import create_engine, session_factory
from registry.schemas import Health
from registry.settings import RegistrySettings


def create_app(settings: Optional[RegistrySettings] = None) -> FastAPI:
    settings = settings or RegistrySettings.from_env()
    app = FastAPI(
        title="Tawjih registry",
        version="1.0.0",
        description=(
            "Programmes, centres and sessions of digital-skills training in Morocco. Fields listed in a "
            "record's `sample_fields` are sample data that no source states: confirm them with the centre."
        ),
        docs_url="/docs",
        redoc_url=None,
    )
    engine = create_engine(settings.database_url)
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = session_factory(engine)
    app.include_router(read.router)
    app.include_router(write.router)

    @app.middleware("http")
    async def etag_revalidation(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        """Reads carry an ETag of their body; a client that already has it gets 304 and no body."""
        response = await call_next(request)
        if request.method != "GET" or response.status_code != 200 or not request.url.path.startswith("/api/"):
            return response
        body = b"".join([chunk async for chunk in response.body_iterator])  # type: ignore[attr-defined]
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
        headers["ETag"] = etag
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers={"ETag": etag})
        return Response(content=body, status_code=200, headers=headers)

    @app.get("/health", response_model=Health, tags=["health"])
    def health() -> object:
        try:
            with engine.connect() as connection:
                connection.execute(sa.text("SELECT 1"))
        except sa.exc.SQLAlchemyError:
            return JSONResponse({"status": "degraded", "database": "unreachable"}, status_code=503)
        return Health(status="ok", database="ok")

    @app.on_event("shutdown")
    def dispose_engine() -> None:
        engine.dispose()

    return app
