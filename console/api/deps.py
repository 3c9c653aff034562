"""What every route needs: the database session, the signed-in user, the role check and the CSRF check.
Refusals are exceptions that the app turns into a redirect to /login (pages) or 401/403 JSON (``/api/``)."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Optional

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker

from console.annotations import DomainChoices
from console.auth import CookieSigner, CookieState, csrf_matches, has_role, user_for_login
from console.indexer import Indexer
from console.models import User
from console.settings import ConsoleSettings
from console.tracker import TrackerReader

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


class NotLoggedIn(Exception):
    """No valid login: a page redirects to /login, the API answers 401."""


class Forbidden(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class CsrfRejected(Exception):
    """A state-changing request without the page's CSRF token."""


class NotFound(Exception):
    def __init__(self, message: str = "Not found.") -> None:
        super().__init__(message)
        self.message = message


@dataclass
class Console:
    """Everything the routes share, built once by ``create_app``."""

    settings: ConsoleSettings
    factory: sessionmaker
    reader: TrackerReader
    indexer: Indexer
    signer: CookieSigner
    tz: dt.tzinfo
    choices: DomainChoices


def console(request: Request) -> Console:
    return request.app.state.console  # type: ignore[no-any-return]


def db(request: Request) -> Iterator[Session]:
    session: Session = request.app.state.console.factory()
    try:
        yield session
    finally:
        session.close()


def cookie(request: Request) -> CookieState:
    return request.state.cookie  # type: ignore[no-any-return]


def optional_user(request: Request, session: Session = Depends(db)) -> Optional[User]:
    user = user_for_login(session, cookie(request).login)
    request.state.user = user
    return user


def current_user(user: Optional[User] = Depends(optional_user)) -> User:
    if user is None:
        raise NotLoggedIn()
    return user


async def csrf_token_given(request: Request) -> Optional[str]:
    header = request.headers.get("x-csrf-token")
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get("csrf_token")
        return value if isinstance(value, str) else None
    return None


async def check_csrf(request: Request) -> None:
    if request.method in STATE_CHANGING and not csrf_matches(cookie(request).csrf, await csrf_token_given(request)):
        raise CsrfRejected()


def require(role: str = "reviewer") -> Callable[..., Any]:
    """A dependency: a signed-in user of at least ``role``; a state-changing request must carry the CSRF token
    (checked after the login, so an anonymous request is told to log in first)."""

    async def dependency(request: Request, user: User = Depends(current_user)) -> User:
        if not has_role(user.role, role):
            raise Forbidden(f"This needs the {role} role.")
        await check_csrf(request)
        return user

    return dependency


def pseudonym(sender_id: str) -> str:
    """A short stable name for a conversation, so the list never shows the conversation id itself."""
    return hashlib.sha256(sender_id.encode()).hexdigest()[:8] if sender_id else "effacée"
