"""Request-scoped dependencies: a database session and the staff token check."""

from __future__ import annotations

import hmac
from typing import Iterator

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from registry.db import session_scope

_bearer = HTTPBearer(auto_error=False)


def db_session(request: Request) -> Iterator[Session]:
    yield from session_scope(request.app.state.session_factory)


def require_staff(request: Request, credentials: HTTPAuthorizationCredentials = Depends(_bearer)) -> None:
    expected = request.app.state.settings.admin_token
    if not expected:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, "Writes are disabled: REGISTRY_ADMIN_TOKEN is not set."
        )
    given = credentials.credentials if credentials else ""
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "A valid staff token is required.", headers={"WWW-Authenticate": "Bearer"}
        )
