"""The settings of `python -m privacy` (the retention purge), read once from the environment."""

from __future__ import annotations

import functools
from typing import Optional

from pydantic import BaseSettings, Field

DEFAULT_RETENTION_DAYS = 90


class PrivacySettings(BaseSettings):
    # The tracker store the purge deletes from; required: there is nothing to purge without it.
    tracker_store_url: str = Field(..., env="TRACKER_STORE_URL", min_length=1)
    # How long conversations are kept; the welcome tells every newcomer this figure.
    retention_days: int = Field(DEFAULT_RETENTION_DAYS, env="TAWJIH_RETENTION_DAYS", ge=1)
    # The staff console's database: its index, reviews and annotations of purged sessions go too.
    console_database_url: Optional[str] = Field(None, env="CONSOLE_DATABASE_URL")


@functools.lru_cache(maxsize=1)
def privacy_settings() -> PrivacySettings:
    return PrivacySettings()  # type: ignore[call-arg]  # the fields come from the environment
