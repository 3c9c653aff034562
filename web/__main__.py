"""`python -m web`: the widget page on WEB_HOST:WEB_PORT (127.0.0.1:8080)."""

from __future__ import annotations

import sys

import uvicorn
from pydantic import ValidationError

from web.settings import web_settings

if __name__ == "__main__":
    try:
        settings = web_settings()
    except ValidationError as error:
        sys.exit(f"web: invalid settings: {error}")
    uvicorn.run("web.app:app", host=settings.host, port=settings.port, log_level="warning")
