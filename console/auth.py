"""Who may do what: argon2 password hashes, login sessions kept in the database behind a signed cookie,
the CSRF token, the slowing and refusing of repeated failed logins, and the roles."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any, Dict, Optional

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from console.models import ROLES, Login, LoginAttempt, User

COOKIE_NAME = "tawjih_console"
# reviewer = adviser < supervisor < admin. An adviser reviews like a reviewer and, besides, answers handoffs,
# which a reviewer may not see (``may_handle_handoffs``).
ROLE_RANK = {"reviewer": 1, "adviser": 1, "supervisor": 2, "admin": 3}
HANDOFF_ROLES = ("adviser", "supervisor", "admin")
_hasher = PasswordHasher()
# Verified when the username is unknown, so that an unknown name takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class UserError(ValueError):
    """A user could not be added or changed; the message says why, for the person at the keyboard."""


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def has_role(role: str, needed: str) -> bool:
    return ROLE_RANK.get(role, 0) >= ROLE_RANK[needed]


def may_handle_handoffs(role: str) -> bool:
    return role in HANDOFF_ROLES


def add_user(session: Session, username: str, role: str, password: str) -> User:
    username = username.strip()
    if not username or len(username) > 64 or not all(ch.isalnum() or ch in "._-@" for ch in username):
        raise UserError("A username is 1 to 64 letters, digits or . _ - @.")
    if role not in ROLES:
        raise UserError(f"The role must be one of: {', '.join(ROLES)}.")
    if len(password) < 10:
        raise UserError("The password must be at least 10 characters long.")
    if session.execute(sa.select(User).where(User.username == username)).scalar_one_or_none() is not None:
        raise UserError(f"There is already a user named {username}.")
    user = User(username=username, role=role, password_hash=hash_password(password), disabled=False)
    session.add(user)
    session.flush()
    return user


def disable_user(session: Session, username: str) -> User:
    user = session.execute(sa.select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        raise UserError(f"There is no user named {username}.")
    user.disabled = True
    session.execute(sa.update(Login).where(Login.user_id == user.id).values(revoked=True))
    return user


def authenticate(session: Session, username: str, password: str) -> Optional[User]:
    user = session.execute(sa.select(User).where(User.username == username)).scalar_one_or_none()
    if user is None or user.disabled:
        verify_password(_DUMMY_HASH, password)
        return None
    return user if verify_password(user.password_hash, password) else None


# --- the cookie -----------------------------------------------------------------------------------------------
@dataclass
class CookieState:
    """What the signed cookie holds: the CSRF token, and the login token once signed in."""

    csrf: str
    login: Optional[str] = None


class CookieSigner:
    def __init__(self, secret_key: str, max_age_seconds: int) -> None:
        self._serializer = URLSafeTimedSerializer(secret_key, salt="tawjih-console-cookie")
        self.max_age_seconds = max_age_seconds

    def dumps(self, state: CookieState) -> str:
        return self._serializer.dumps({"csrf": state.csrf, "login": state.login})

    def loads(self, value: Optional[str]) -> Optional[CookieState]:
        if not value:
            return None
        try:
            data: Dict[str, Any] = self._serializer.loads(value, max_age=self.max_age_seconds)
        except (BadSignature, ValueError, TypeError):
            return None
        csrf = data.get("csrf") if isinstance(data, dict) else None
        if not isinstance(csrf, str) or not csrf:
            return None
        login = data.get("login")
        return CookieState(csrf=csrf, login=login if isinstance(login, str) else None)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def csrf_matches(expected: str, given: Optional[str]) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), str(given).encode())


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_login(session: Session, user: User, hours: float) -> str:
    token = new_token()
    session.add(Login(token_hash=_token_hash(token), user_id=user.id, expires_at=time.time() + hours * 3600))
    user.last_login_at = time.time()
    return token


def user_for_login(session: Session, token: Optional[str]) -> Optional[User]:
    if not token:
        return None
    row = session.execute(
        sa.select(User)
        .join(Login, Login.user_id == User.id)
        .where(
            Login.token_hash == _token_hash(token),
            Login.revoked.is_(False),
            Login.expires_at > time.time(),
            User.disabled.is_(False),
        )
    ).scalar_one_or_none()
    return row


def close_login(session: Session, token: Optional[str]) -> None:
    if token:
        session.execute(sa.update(Login).where(Login.token_hash == _token_hash(token)).values(revoked=True))


# --- repeated failures --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Throttle:
    slow_after: int
    max_failures: int
    max_failures_per_client: int
    window_seconds: int


def recent_failures(session: Session, username: str, client: str, throttle: Throttle) -> int:
    """Failures within the window, for this username or from this client, on the username's scale (a client
    is allowed ``max_failures_per_client``, more than one username's ``max_failures``)."""
    since = time.time() - throttle.window_seconds
    by_name = session.execute(
        sa.select(sa.func.count()).where(LoginAttempt.username == username[:64], LoginAttempt.at >= since)
    ).scalar_one()
    by_client = session.execute(
        sa.select(sa.func.count()).where(LoginAttempt.client == client[:64], LoginAttempt.at >= since)
    ).scalar_one()
    scaled_client = by_client * throttle.max_failures // throttle.max_failures_per_client
    return int(max(by_name, scaled_client))


def delay_for(failures: int, throttle: Throttle) -> float:
    """How long to wait before answering a login: nothing at first, then longer with each failure."""
    if failures < throttle.slow_after:
        return 0.0
    return float(min(4.0, 0.5 * 2 ** (failures - throttle.slow_after)))


def refused(failures: int, throttle: Throttle) -> bool:
    return failures >= throttle.max_failures


def record_failure(session: Session, username: str, client: str) -> None:
    session.add(LoginAttempt(username=username[:64], client=client[:64], at=time.time()))


def forget_failures(session: Session, username: str, client: str) -> None:
    session.execute(sa.delete(LoginAttempt).where(LoginAttempt.username == username, LoginAttempt.client == client))


def prune_failures(session: Session, window_seconds: int) -> None:
    session.execute(sa.delete(LoginAttempt).where(LoginAttempt.at < time.time() - window_seconds))
