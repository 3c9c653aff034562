"""Every action-server setting, read from the environment once and checked when the server starts.

``actions/__init__.py`` calls ``check_at_start()`` when rasa-sdk imports the package: a value
that does not parse or is out of range stops the action server with the variable's name, instead
of failing on a person's turn later. Nothing else in ``actions/`` reads the environment.
"""

from __future__ import annotations

import functools
from typing import Any, Optional

from pydantic import BaseSettings, Field, ValidationError, validator
from pydantic.fields import ModelField


class ActionServerSettings(BaseSettings):
    # Where the actions read the registry, and how long they wait for it.
    registry_url: str = Field("http://127.0.0.1:8100", env="REGISTRY_URL")
    connect_timeout: float = Field(0.5, env="REGISTRY_CONNECT_TIMEOUT_SECONDS", gt=0, le=60)
    read_timeout: float = Field(1.5, env="REGISTRY_READ_TIMEOUT_SECONDS", gt=0, le=60)
    # The longest one registry call may take, retries included (outbound.retry.RetryPolicy).
    total_budget: float = Field(2.0, env="REGISTRY_TOTAL_BUDGET_SECONDS", gt=0, le=60)
    retries: int = Field(2, env="REGISTRY_RETRIES", ge=0, le=10)
    backoff: float = Field(0.1, env="REGISTRY_BACKOFF_SECONDS", ge=0, le=10)
    # Reference lists (cities, regions, education levels, programmes) are reused this long
    # without asking; a staff change to them shows within this time.
    reference_ttl: float = Field(30.0, env="REGISTRY_REFERENCE_TTL_SECONDS", ge=0, le=3600)
    # Every other answer (sessions, centres, one programme) is reused this long without asking;
    # 0: revalidated by ETag on every use, so a staff change shows in the very next answer.
    cache_ttl: float = Field(0.0, env="REGISTRY_CACHE_TTL_SECONDS", ge=0, le=3600)
    # Registry calls in flight at once: the worker threads, and the connections kept open.
    workers: int = Field(16, env="REGISTRY_WORKERS", ge=1, le=256)
    breaker_threshold: int = Field(3, env="REGISTRY_BREAKER_THRESHOLD", ge=1, le=1000)
    breaker_cooldown: float = Field(15.0, env="REGISTRY_BREAKER_COOLDOWN_SECONDS", ge=0, le=3600)
    # How long conversations are kept (``privacy/`` purges them): the welcome tells every newcomer.
    retention_days: int = Field(90, env="TAWJIH_RETENTION_DAYS", ge=1, le=3650)
    # The staff console, where a request for an adviser is queued (console/handoff), and the token it
    # expects from this server. Without the token the server does not start: no request would be heard.
    console_url: str = Field("http://127.0.0.1:8200", env="CONSOLE_URL")
    handoff_service_token: Optional[str] = Field(None, env="HANDOFF_SERVICE_TOKEN")
    # The longest a request for an adviser may take, retries included.
    console_budget: float = Field(4.0, env="CONSOLE_TOTAL_BUDGET_SECONDS", gt=0, le=60)

    class Config:
        case_sensitive = False

    @validator("*", pre=True)
    def _empty_is_unset(cls, value: Any, field: ModelField) -> Any:
        return field.default if isinstance(value, str) and not value.strip() else value

    @validator("registry_url", "console_url")
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/")


def variable_of(field_name: str) -> str:
    field = ActionServerSettings.__fields__.get(field_name)
    return str(field.field_info.extra.get("env") if field else field_name).upper()


def describe(error: ValidationError) -> str:
    """Which variables are wrong and why, without their values (a URL may carry a password)."""
    return "; ".join(
        f"{variable_of(str(problem['loc'][0]))}: {problem['msg']}" for problem in error.errors() if problem["loc"]
    )


@functools.lru_cache(maxsize=1)
def action_server_settings() -> ActionServerSettings:
    """The settings, read on first use and then fixed for the life of the process."""
    return ActionServerSettings()  # type: ignore[call-arg]  # the fields come from the environment


def check_at_start() -> None:
    """Stop the action server, naming the variable, if a setting is invalid."""
    try:
        settings = ActionServerSettings()  # type: ignore[call-arg]
    except ValidationError as error:
        raise SystemExit(f"Tawjih action server: invalid setting: {describe(error)}") from None
    if not settings.handoff_service_token:
        raise SystemExit(
            "Tawjih action server: HANDOFF_SERVICE_TOKEN is not set (the token the staff console expects "
            "with a request for an adviser): refusing to start."
        )


def conversation_retention_days() -> int:
    """How long conversation logs are kept; the welcome tells every newcomer this figure."""
    return action_server_settings().retention_days
