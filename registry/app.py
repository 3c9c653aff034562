"""The registry's FastAPI application."""

from __future__ import annotations

from typing import Optional

import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from registry.api import read, write
from registry.db import create_engine, session_factory
from registry.read_cache import ReadCache
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

    # Reads built once per catalogue version, with their ETag (304 for a client that has it).
    app.add_middleware(ReadCache, engine=engine)

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
