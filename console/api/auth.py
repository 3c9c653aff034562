"""Logging in and out. The login form carries the CSRF token of the anonymous cookie; failures are counted
per username and per client in the database, slowed, then refused with 429."""

from __future__ import annotations

import asyncio
import logging
from typing import Optional
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from console.api.deps import Console, check_csrf, console, cookie, db, optional_user
from console.auth import (
    CookieState,
    Throttle,
    authenticate,
    close_login,
    delay_for,
    forget_failures,
    new_token,
    open_login,
    prune_failures,
    recent_failures,
    record_failure,
    refused,
)
from console.models import User

router = APIRouter(include_in_schema=False)
logger = logging.getLogger("console.auth")


def safe_next(target: Optional[str]) -> str:
    """Only a path on this site: never another host after logging in."""
    if not target or not target.startswith("/") or target.startswith("//") or urlsplit(target).netloc:
        return "/conversations"
    return target


def client_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def login_page(request: Request, message: Optional[str] = None, status_code: int = 200, **headers: str) -> Response:
    templates = request.app.state.templates
    return templates.TemplateResponse(  # type: ignore[no-any-return]
        "login.html",
        {"request": request, "message": message, "next": safe_next(request.query_params.get("next")), "user": None},
        status_code=status_code,
        headers=headers or None,
    )


@router.get("/login")
def login_form(request: Request, user: Optional[User] = Depends(optional_user)) -> Response:
    if user is not None:
        return RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
    return login_page(request)


@router.post("/login")
async def login(
    request: Request,
    username: str = Form(""),
    password: str = Form(""),
    next: str = Form("/conversations"),
    session: Session = Depends(db),
    ctx: Console = Depends(console),
) -> Response:
    await check_csrf(request)
    settings = ctx.settings
    throttle = Throttle(
        settings.login_slow_after,
        settings.login_max_failures,
        settings.login_max_failures_per_client,
        settings.login_window_seconds,
    )
    client = client_of(request)
    username = username.strip()[:64]
    prune_failures(session, throttle.window_seconds)
    failures = recent_failures(session, username, client, throttle)
    if refused(failures, throttle):
        session.commit()
        logger.warning("Login refused after %d failures (too many attempts).", failures)
        return login_page(
            request,
            "Trop de tentatives : réessaie dans quelques minutes.",
            429,
            **{"Retry-After": str(throttle.window_seconds)},
        )
    # Counted as a failure before the wait, and committed: attempts sent side by side each see the others
    # (else all of them pass the check during the wait), and no write lock is held across the wait (on SQLite
    # that would stall every request behind it). A success below takes it back.
    record_failure(session, username, client)
    session.commit()
    await asyncio.sleep(delay_for(failures, throttle))
    user = authenticate(session, username, password)
    if user is None:
        session.commit()
        return login_page(request, "Nom d'utilisateur ou mot de passe incorrect.", 401)
    forget_failures(session, username, client)
    token = open_login(session, user, settings.session_hours)
    session.commit()
    # A new CSRF token with the new login: a token seen before logging in is worth nothing after.
    request.state.cookie = CookieState(csrf=new_token(), login=token)
    request.state.cookie_dirty = True
    return RedirectResponse(safe_next(next), status_code=303)


@router.post("/logout")
async def logout(request: Request, session: Session = Depends(db)) -> Response:
    await check_csrf(request)
    close_login(session, cookie(request).login)
    session.commit()
    request.state.cookie = CookieState(csrf=new_token(), login=None)
    request.state.cookie_dirty = True
    return RedirectResponse("/login", status_code=303)
