"""Every registry setting, read once from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Optional

DEFAULT_DATABASE_URL = "sqlite:///var/registry.db"


@dataclass(frozen=True)
class RegistrySettings:
    database_url: str
    host: str
    port: int
    admin_token: Optional[str]

    @classmethod
    def from_env(cls) -> "RegistrySettings":
        return cls(
            database_url=os.environ.get("REGISTRY_DATABASE_URL") or DEFAULT_DATABASE_URL,
            host=os.environ.get("REGISTRY_HOST") or "127.0.0.1",
            port=int(os.environ.get("REGISTRY_PORT") or 8100),
            admin_token=os.environ.get("REGISTRY_ADMIN_TOKEN") or None,
        )
