"""The console's FastAPI application: pages, JSON API, login; security headers on every answer; refusals
as redirects (pages) or JSON (``/api/``); a tracker store that fails is a banner, never a 500."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Awaitable, Callable
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import sessionmaker

from console.annotations import domain_choices
from console.api import auth, handoff_pages, handoffs, pages, v1
from console.api.deps import Console, CsrfRejected, Forbidden, NotFound, NotLoggedIn, require
from console.auth import COOKIE_NAME, CookieSigner, CookieState, new_token
from console.db import create_engine, session_factory
from console.handoff.hours import OpeningHours
from console.handoff.rasa_api import RasaClient
from console.handoff.safeguarding import load_terms
from console.handoff.watcher import HandoffWatcher
from console.indexer import Indexer
from console.masking import warm_up
from console.models import User
from console.settings import ConsoleSettings
from console.tracker import TrackerReader, TrackerUnavailable, tracker_engine

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
VENDOR = {"chart.umd.js": HERE / "node_modules" / "chart.js" / "dist" / "chart.umd.js"}
logger = logging.getLogger("console")

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


def build_indexer(settings: ConsoleSettings, factory: sessionmaker) -> Indexer:
    reader = TrackerReader(tracker_engine(settings.tracker_store_url, settings.tracker_timeout_seconds))
    return Indexer(factory, reader, settings.retention_days, settings.reconcile_seconds)


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith(("/api/", "/internal/")) or request.url.path == "/openapi.json"


def create_app(settings: ConsoleSettings) -> FastAPI:
    if settings.secret_key is None:
        raise ValueError("CONSOLE_SECRET_KEY is not set")
    if settings.rasa_auth_token is None:
        raise ValueError("RASA_AUTH_TOKEN is not set")
    if settings.handoff_service_token is None:
        raise ValueError("HANDOFF_SERVICE_TOKEN is not set")
    app = FastAPI(
        title="Tawjih staff console",
        version="1.0.0",
        description=(
            "Conversation sessions from Rasa's tracker store, masked; review, annotations, figures. Log in at "
            '/login; writes carry the page\'s CSRF token (`<meta name="csrf-token">`) in `X-CSRF-Token`.'
        ),
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    engine = create_engine(settings.database_url)
    factory = session_factory(engine)
    indexer = build_indexer(settings, factory)
    signer = CookieSigner(settings.secret_key.get_secret_value(), int(settings.session_hours * 3600))
    app.state.console = Console(
        settings=settings,
        factory=factory,
        reader=indexer.reader,
        indexer=indexer,
        signer=signer,
        tz=ZoneInfo(settings.timezone),
        choices=domain_choices(settings.domain_path),
    )
    rasa = RasaClient(
        settings.rasa_url,
        settings.rasa_auth_token.get_secret_value(),
        settings.rasa_timeout_seconds,
        every_address=settings.rasa_url_every_address,
    )
    watcher = HandoffWatcher(
        factory,
        indexer.reader,
        rasa,
        load_terms(),
        wait_minutes=settings.handoff_wait_minutes,
        poll_seconds=settings.handoff_poll_seconds,
        reconcile_seconds=settings.reconcile_seconds,
        retention_days=settings.retention_days,
    )
    app.state.handoffs = handoffs.HandoffContext(
        rasa=rasa,
        hours=OpeningHours.parse(settings.handoff_opening_hours, settings.handoff_holidays, settings.timezone),
        wait_minutes=settings.handoff_wait_minutes,
        service_token=settings.handoff_service_token.get_secret_value(),
        poll_seconds=settings.handoff_poll_seconds,
        watcher=watcher,
    )
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.globals["csrf_token"] = lambda request: request.state.cookie.csrf
    # "2026-11-30T09:05:12+01:00" → "2026-11-30 09:05" on screen; the API keeps ISO 8601.
    templates.env.filters["when"] = lambda iso: iso[:16].replace("T", " ") if iso else "—"
    app.state.templates = templates

    @app.middleware("http")
    async def cookie_and_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        # The action server's routes: the token is checked before anything of the body is read or parsed.
        # (Here, in the one middleware: a second one would wrap a route's errors in an ExceptionGroup.)
        if request.url.path.startswith("/internal/") and not handoffs.service_token_ok(
            request.headers.get("authorization"), app.state.handoffs.service_token
        ):
            return JSONResponse(
                {"detail": "A valid service token is needed."}, status_code=401, headers={"WWW-Authenticate": "Bearer"}
            )
        state = signer.loads(request.cookies.get(COOKIE_NAME))
        request.state.cookie = state or CookieState(csrf=new_token())
        request.state.cookie_dirty = state is None
        try:
            response = await call_next(request)
        except Exception as error:  # noqa: BLE001 - answered here so that no traceback (SQL, values) is logged
            response = await unexpected(request, error)
        if request.state.cookie_dirty:
            response.set_cookie(
                COOKIE_NAME,
                signer.dumps(request.state.cookie),
                max_age=signer.max_age_seconds,
                httponly=True,
                samesite="lax",
                secure=settings.secure_cookies,
                path="/",
            )
        if request.url.path != "/docs":
            response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if not request.url.path.startswith(("/static/", "/vendor/")):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.exception_handler(NotLoggedIn)
    async def not_logged_in(request: Request, _: Exception) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": "Log in first."}, status_code=401)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={_quote(target)}", status_code=303)

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, error: Exception) -> Response:
        message = getattr(error, "message", "Forbidden.")
        if _wants_json(request):
            return JSONResponse({"detail": message}, status_code=403)
        return pages.render(request, "error.html", status_code=403, title="Accès refusé", message=message)

    @app.exception_handler(CsrfRejected)
    async def csrf_rejected(request: Request, _: Exception) -> Response:
        message = "The request lacks this page's CSRF token: reload the page and try again."
        if _wants_json(request):
            return JSONResponse({"detail": message}, status_code=403)
        return pages.render(request, "error.html", status_code=403, title="Requête refusée", message=message)

    @app.exception_handler(NotFound)
    async def not_found(request: Request, error: Exception) -> Response:
        message = getattr(error, "message", "Not found.")
        if _wants_json(request):
            return JSONResponse({"detail": message}, status_code=404)
        return pages.render(request, "error.html", status_code=404, title="Introuvable", message=message)

    @app.exception_handler(TrackerUnavailable)
    async def tracker_unavailable(request: Request, error: Exception) -> Response:
        kind = getattr(error, "kind", "error")
        message = f"The tracker store cannot be read right now ({kind}); try again in a moment."
        if _wants_json(request):
            return JSONResponse({"detail": message}, status_code=503)
        return pages.render(
            request, "error.html", status_code=503, title="Conversations indisponibles", message=message
        )

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> Response:
        problems = [{"where": ".".join(str(part) for part in e["loc"]), "problem": e["msg"]} for e in error.errors()]
        if _wants_json(request):
            return JSONResponse({"detail": "The request could not be read.", "errors": problems}, status_code=422)
        message = "; ".join(f"{p['where']}: {p['problem']}" for p in problems)
        return pages.render(request, "error.html", status_code=422, title="Requête incorrecte", message=message)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> Response:
        if _wants_json(request) or error.status_code == 405:
            return JSONResponse({"detail": error.detail}, status_code=error.status_code, headers=error.headers)
        return pages.render(
            request,
            "error.html",
            status_code=error.status_code,
            title=str(error.status_code),
            message=str(error.detail),
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> Response:
        # Logged by kind only: a database error's text may carry a connection string.
        logger.error("Unexpected %s on %s %s.", type(error).__name__, request.method, request.url.path)
        if _wants_json(request):
            return JSONResponse({"detail": "Something went wrong."}, status_code=500)
        return Response("Something went wrong; the error was logged.", status_code=500, media_type="text/plain")

    app.include_router(auth.router)
    app.include_router(pages.router)
    app.include_router(handoffs.router)
    app.include_router(handoffs.internal)
    app.include_router(handoff_pages.router)
    app.include_router(v1.router)

    @app.get("/health", include_in_schema=False)
    def health() -> JSONResponse:
        try:
            with engine.connect() as connection:
                connection.execute(sa.text("SELECT 1"))
        except sa.exc.SQLAlchemyError:
            return JSONResponse({"status": "degraded", "database": "unreachable"}, status_code=503)
        return JSONResponse({"status": "ok", "database": "ok"})

    @app.get("/static/{name}", include_in_schema=False)
    def static(name: str) -> FileResponse:
        path = (STATIC / name).resolve()
        if path.parent != STATIC or not path.is_file():
            raise HTTPException(404)
        return FileResponse(path)

    @app.get("/vendor/{name}", include_in_schema=False)
    def vendor(name: str) -> FileResponse:
        path = VENDOR.get(name)
        if path is None or not path.is_file():
            raise HTTPException(404, f"{name} is not installed: run `make setup`")
        return FileResponse(path, media_type="text/javascript")

    @app.get("/openapi.json", include_in_schema=False)
    def openapi(user: User = Depends(require("admin"))) -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/docs", include_in_schema=False)
    def docs(user: User = Depends(require("admin"))) -> Response:
        return get_swagger_ui_html(openapi_url="/openapi.json", title="Tawjih console API")

    @app.on_event("startup")
    def load_masking() -> None:
        # The first page must not wait for spaCy's model.
        warm_up()

    @app.on_event("startup")
    def watch_handoffs() -> None:
        watcher.fail_interrupted_sends()  # before the first request can start a new one
        watcher.start()

    @app.on_event("shutdown")
    def dispose() -> None:
        watcher.stop()
        rasa.close()
        engine.dispose()
        indexer.reader.engine.dispose()

    return app


def _quote(path: str) -> str:
    from urllib.parse import quote

    return quote(path, safe="/")
