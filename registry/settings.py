"""Every registry setting, read once from the environment and validated when the process starts."""

from __future__ import annotations

from typing import Optional

from pydantic import BaseSettings, Field, validator

DEFAULT_DATABASE_URL = "sqlite:///var/registry.db"


class RegistrySettings(BaseSettings):
    database_url: str = Field(DEFAULT_DATABASE_URL, env="REGISTRY_DATABASE_URL", min_length=1)
    host: str = Field("127.0.0.1", env="REGISTRY_HOST")
    port: int = Field(8100, env="REGISTRY_PORT", ge=0, le=65535)
    # Unset: the staff write API is disabled.
    admin_token: Optional[str] = Field(None, env="REGISTRY_ADMIN_TOKEN")

    @validator("database_url", "host", "port", pre=True)
    def _blank_is_default(cls, value: Optional[str], field):  # type: ignore[no-untyped-def]
        return value or field.default

    @validator("admin_token", pre=True)
    def _blank_is_unset(cls, value: Optional[str]) -> Optional[str]:
        return value or None

    @classmethod
    def from_env(cls) -> "RegistrySettings":
        return cls()  # type: ignore[call-arg]  # the fields come from the environment
