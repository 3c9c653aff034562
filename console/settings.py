"""Every setting of the console's process, read once from the environment."""

from __future__ import annotations

import functools
from typing import Any, Dict, List, Optional
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseSettings, Field, SecretStr, ValidationError, validator

DEFAULT_DATABASE_URL = "sqlite:///var/console.db"
DEFAULT_TRACKER_STORE_URL = "sqlite:///var/tracker.db"


class ConsoleSettings(BaseSettings):
    host: str = Field("127.0.0.1", env="CONSOLE_HOST")
    port: int = Field(8200, env="CONSOLE_PORT", ge=1, le=65535)
    database_url: str = Field(DEFAULT_DATABASE_URL, env="CONSOLE_DATABASE_URL", min_length=1)
    # Rasa's tracker store, read-only (the console erases through privacy.retention only).
    tracker_store_url: str = Field(DEFAULT_TRACKER_STORE_URL, env="TRACKER_STORE_URL", min_length=1)
    # Signs the session cookie; `serve` refuses to start without it.
    secret_key: Optional[SecretStr] = Field(None, env="CONSOLE_SECRET_KEY")
    # Send the cookie over HTTPS only (set it in production, behind TLS).
    secure_cookies: bool = Field(False, env="CONSOLE_SECURE_COOKIES")
    session_hours: float = Field(10.0, env="CONSOLE_SESSION_HOURS", gt=0)
    # Failed logins in the window: from `login_slow_after` on, each answer waits longer; at `login_max_failures`, 429.
    login_slow_after: int = Field(3, env="CONSOLE_LOGIN_SLOW_AFTER", ge=1)
    login_max_failures: int = Field(8, env="CONSOLE_LOGIN_MAX_FAILURES", ge=1)
    # From one client address (an office behind one address counts as one): higher.
    login_max_failures_per_client: int = Field(30, env="CONSOLE_LOGIN_MAX_FAILURES_PER_CLIENT", ge=1)
    login_window_seconds: int = Field(900, env="CONSOLE_LOGIN_WINDOW_SECONDS", ge=1)
    # A tracker store that does not answer within this is reported as unreachable.
    tracker_timeout_seconds: float = Field(3.0, env="CONSOLE_TRACKER_TIMEOUT_SECONDS", gt=0)
    # The console checks this often for sessions erased or purged in the tracker store.
    reconcile_seconds: float = Field(30.0, env="CONSOLE_RECONCILE_SECONDS", gt=0)
    retention_days: int = Field(90, env="TAWJIH_RETENTION_DAYS", ge=1)
    # Days and times on screen, and the day boundaries of the date filter and the figures.
    timezone: str = Field("Africa/Casablanca", env="CONSOLE_TIMEZONE")
    domain_path: str = Field("domain.yml", env="CONSOLE_DOMAIN_PATH")
    page_size: int = Field(50, env="CONSOLE_PAGE_SIZE", ge=1, le=500)
    transcript_page_size: int = Field(200, env="CONSOLE_TRANSCRIPT_PAGE_SIZE", ge=10, le=2000)
    # --- handoff to advisers ---
    # Rasa's HTTP API (the adviser's replies, and the actions that tell the person what happens); `serve` refuses
    # to start without its token.
    # Several instances: their URLs comma-separated, or (RASA_URL_EVERY_ADDRESS) one host name whose every address
    # is an instance (a Kubernetes headless Service). A web chat tab is connected to one instance only: a message
    # for it goes to each in turn until the one holding the tab takes it.
    rasa_url: str = Field("http://127.0.0.1:5005", env="RASA_URL", min_length=1)
    rasa_url_every_address: bool = Field(False, env="RASA_URL_EVERY_ADDRESS")
    rasa_auth_token: Optional[SecretStr] = Field(None, env="RASA_AUTH_TOKEN")
    rasa_timeout_seconds: float = Field(
        40.0, env="CONSOLE_RASA_TIMEOUT_SECONDS", gt=0
    )  # > the platforms' 30 s deadline
    # What the action server sends as a Bearer token to /internal/v1/handoffs; required like the secret key.
    handoff_service_token: Optional[SecretStr] = Field(None, env="HANDOFF_SERVICE_TOKEN")
    handoff_opening_hours: str = Field("mon-fri 09:00-18:00; sat 09:00-13:00", env="HANDOFF_OPENING_HOURS")
    # Days without advisers, comma-separated YYYY-MM-DD.
    handoff_holidays: str = Field("", env="HANDOFF_HOLIDAYS")
    # A request no adviser took within this is handed back to the bot (it stays in the queue).
    handoff_wait_minutes: float = Field(10.0, env="HANDOFF_WAIT_MINUTES", gt=0)
    # How often the console reads the tracker store for the messages of people waiting or talking to an adviser.
    handoff_poll_seconds: float = Field(1.0, env="CONSOLE_HANDOFF_POLL_SECONDS", gt=0)

    @validator("timezone")
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("unknown time zone") from None
        return value

    @validator("rasa_url")
    def _names_an_instance(cls, value: str) -> str:
        if not any(url.strip() for url in value.split(",")):
            raise ValueError("names no Rasa instance")
        return value

    @validator("handoff_opening_hours")
    def _readable_hours(cls, value: str, values: Dict[str, Any]) -> str:
        from console.handoff.hours import OpeningHours

        OpeningHours.parse(value, "", str(values.get("timezone") or "Africa/Casablanca"))
        return value

    @validator("handoff_holidays")
    def _readable_holidays(cls, value: str, values: Dict[str, Any]) -> str:
        from console.handoff.hours import OpeningHours

        OpeningHours.parse(
            str(values.get("handoff_opening_hours") or "mon 09:00-10:00"),
            value,
            str(values.get("timezone") or "Africa/Casablanca"),
        )
        return value

    class Config:
        case_sensitive = False


ENV_NAMES = {name: field.field_info.extra.get("env", name) for name, field in ConsoleSettings.__fields__.items()}


def invalid_variables(error: ValidationError) -> List[str]:
    """The environment variables a validation error is about, by name (never their values)."""
    return sorted({str(ENV_NAMES.get(str(problem["loc"][0]), problem["loc"][0])) for problem in error.errors()})


@functools.lru_cache(maxsize=1)
def console_settings() -> ConsoleSettings:
    return ConsoleSettings()  # type: ignore[call-arg]  # the fields come from the environment
