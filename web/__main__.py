"""`python -m web`: the widget page on WEB_HOST:WEB_PORT (127.0.0.1:8080)."""

from __future__ import annotations

import os

import uvicorn

if __name__ == "__main__":
    uvicorn.run(
        "web.app:app",
        host=os.environ.get("WEB_HOST", "127.0.0.1"),
        port=int(os.environ.get("WEB_PORT", "8080")),
        log_level="warning",
    )
