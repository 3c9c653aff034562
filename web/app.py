"""Serves the widget page, its script and style, and socket.io's client as npm installed it."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import FastAPI, HTTPException
from fastapi.responses import FileResponse, Response

from web.settings import web_settings

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
SOCKET_IO_CLIENT = HERE / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js"


def rasa_url() -> str:
    return web_settings().rasa_url


def security_headers() -> dict:
    rasa = urlsplit(rasa_url())
    sockets = f"{'wss' if rasa.scheme == 'https' else 'ws'}://{rasa.netloc}"
    return {
        "Content-Security-Policy": (
            f"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            f"connect-src 'self' {rasa_url()} {sockets}; frame-ancestors 'none'; base-uri 'none'"
        ),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }


def create_app() -> FastAPI:
    app = FastAPI(title="Tawjih web chat", docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/")
    def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers=security_headers())

    @app.get("/config.js")
    def config() -> Response:
        body = "window.TAWJIH_CONFIG = " + json.dumps({"socketUrl": rasa_url(), "socketPath": "/socket.io"}) + ";\n"
        return Response(body, media_type="text/javascript", headers={"Cache-Control": "no-store"})

    @app.get("/static/{name}")
    def static(name: str) -> FileResponse:
        path = (STATIC / name).resolve()
        if path.parent != STATIC or not path.is_file():
            raise HTTPException(404)
        return FileResponse(path, headers={"X-Content-Type-Options": "nosniff"})

    @app.get("/vendor/socket.io.min.js")
    def socket_io_client() -> FileResponse:
        if not SOCKET_IO_CLIENT.is_file():
            raise HTTPException(503, "socket.io-client is not installed: run `make setup`")
        return FileResponse(SOCKET_IO_CLIENT, media_type="text/javascript")

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok"}

    return app


app = create_app()
