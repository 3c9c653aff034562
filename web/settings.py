"""Every setting of the web chat page's process, read once from the environment."""

from __future__ import annotations

import functools

from pydantic import BaseSettings, Field, validator


class WebSettings(BaseSettings):
    host: str = Field("127.0.0.1", env="WEB_HOST")
    port: int = Field(8080, env="WEB_PORT", ge=1, le=65535)
    # Rasa as the browser reaches it (its socket.io channel).
    rasa_url: str = Field("http://127.0.0.1:5005", env="WEB_RASA_URL")

    @validator("rasa_url")
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")


@functools.lru_cache(maxsize=1)
def web_settings() -> WebSettings:
    return WebSettings()  # type: ignore[call-arg]  # the fields come from the environment
