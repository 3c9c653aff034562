"""Start Tawjih's real processes on loopback for tests, wait until they answer, stop them cleanly."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional

import requests

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ManagedProcess:
    """A child process whose output goes to a log file, shown when a test needs it."""

    def __init__(self, name: str, argv: List[str], env: Dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self._log = self.log_path.open("wb")
        full_env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", **env}
        self.process = subprocess.Popen(
            argv, cwd=ROOT, env=full_env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def wait_until(self, ready: Callable[[], bool], timeout: float) -> None:
        """Poll a readiness probe (the process's own health endpoint) until it answers or the deadline passes."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}")
            if ready():
                return
            time.sleep(0.1)
        raise TimeoutError(f"{self.name} not ready after {timeout:.0f}s:\n{self.log_tail()}")

    def log_text(self) -> str:
        self._log.flush()
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def pause(self) -> None:
        os.killpg(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.killpg(self.process.pid, signal.SIGCONT)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGCONT)
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._log.close()


def http_ok(url: str, params: Optional[dict] = None) -> Callable[[], bool]:
    def probe() -> bool:
        try:
            return requests.get(url, params=params, timeout=1).status_code == 200
        except requests.RequestException:
            return False

    return probe


class RegistryProcess(ManagedProcess):
    def __init__(self, database_url: str, log_dir: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.admin_token = secrets.token_urlsafe(24)
        self.database_url = database_url
        env = {
            "REGISTRY_DATABASE_URL": database_url,
            "REGISTRY_PORT": str(self.port),
            "REGISTRY_ADMIN_TOKEN": self.admin_token,
        }
        seed = subprocess.run(
            [str(VENV_BIN / "python"), "-m", "registry", "seed"],
            cwd=ROOT,
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            timeout=120,
        )
        if seed.returncode != 0:
            raise RuntimeError(f"registry seed failed:\n{seed.stdout}\n{seed.stderr}")
        super().__init__(f"registry-{self.port}", [str(VENV_BIN / "python"), "-m", "registry", "serve"], env, log_dir)
        self.wait_until(http_ok(f"{self.url}/health"), timeout=60)

    def staff_headers(self) -> Dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_token}"}


class ActionServerProcess(ManagedProcess):
    def __init__(
        self, registry_url: str, log_dir: Path, port: Optional[int] = None, env: Optional[Dict[str, str]] = None
    ) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            "SANIC_HOST": "127.0.0.1",
            "REGISTRY_URL": registry_url,
            # Where requests for an adviser go (a test with a console passes its URL); the token it expects.
            "CONSOLE_URL": "http://127.0.0.1:9",
            "HANDOFF_SERVICE_TOKEN": os.environ.get("HANDOFF_SERVICE_TOKEN", "tests-handoff-service-token"),
            **(env or {}),
        }
        argv = [str(VENV_BIN / "python"), "-m", "rasa_sdk", "--actions", "actions", "--port", str(self.port)]
        super().__init__(f"actions-{self.port}", argv, env, log_dir)
        self.wait_until(http_ok(f"{self.url}/health"), timeout=90)


class RasaProcess(ManagedProcess):
    def __init__(
        self,
        model: Path,
        action_server_url: str,
        tracker_store_url: str,
        log_dir: Path,
        channel_env: Optional[Dict[str, str]] = None,
        port: Optional[int] = None,
        token: Optional[str] = None,
    ) -> None:
        # A port and a token chosen beforehand: for a part started first that calls Rasa (the console).
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.token = token or secrets.token_urlsafe(24)
        self.rest_token = secrets.token_urlsafe(24)
        env = {
            "TAWJIH_REST_TOKEN": self.rest_token,
            "ACTION_SERVER_URL": f"{action_server_url}/webhook",
            "TRACKER_STORE_URL": tracker_store_url,
            "RASA_AUTH_TOKEN": self.token,
            "TAWJIH_CONVERSATION_ID_KEY": secrets.token_urlsafe(24),
            **(channel_env or {}),
        }
        argv = [
            str(VENV_BIN / "python"),
            str(ROOT / "scripts" / "serve_rasa.py"),
            "--model",
            str(model),
            "--interface",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--credentials",
            "credentials.yml",
            "--endpoints",
            "endpoints.yml",
        ]
        super().__init__(f"rasa-{self.port}", argv, env, log_dir)
        self.wait_until(http_ok(f"{self.url}/status", {"token": self.token}), timeout=240)

    def rest_headers(self) -> Dict[str, str]:
        return {"Authorization": f"Bearer {self.rest_token}"}

    def post(self, sender: str, text: str) -> requests.Response:
        """One message through the REST channel, whatever the status of the answer."""
        return requests.post(
            f"{self.url}/webhooks/rest/webhook",
            json={"sender": sender, "message": text},
            headers=self.rest_headers(),
            timeout=30,
        )

    def say(self, sender: str, text: str) -> List[dict]:
        response = self.post(sender, text)
        response.raise_for_status()
        return response.json()

    def health(self) -> requests.Response:
        return requests.get(f"{self.url}/webhooks/health/", timeout=10)


class WebProcess(ManagedProcess):
    """The public page with the chat widget, pointed at a Rasa server."""

    def __init__(self, port: int, rasa_url: str, log_dir: Path) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        env = {"WEB_PORT": str(port), "WEB_RASA_URL": rasa_url}
        super().__init__(f"web-{port}", [str(VENV_BIN / "python"), "-m", "web"], env, log_dir)
        self.wait_until(http_ok(f"{self.url}/health"), timeout=60)
