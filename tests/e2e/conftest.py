from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator

import pytest

from tests.support.processes import ROOT, ActionServerProcess, RasaProcess, RegistryProcess, WebProcess, free_port
from tests.support.standins import WHATSAPP_PHONE_NUMBER_ID, RecordingServer

MODEL = ROOT / "models" / "tawjih.tar.gz"


@dataclass
class Platforms:
    """Stand-ins of Meta's Graph API and Twilio's API, and the secrets the channels were given."""

    graph: RecordingServer
    twilio: RecordingServer
    env: Dict[str, str]


@dataclass
class Stack:
    registry: RegistryProcess
    actions: ActionServerProcess
    rasa: RasaProcess
    tracker_db: Path
    platforms: Platforms
    web: WebProcess


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory, log_dir: Path) -> Iterator[Stack]:
    """The trained Rasa server, the action server and a registry of its own, as `make run` starts them."""
    if not MODEL.exists():
        pytest.fail("No trained model: run `make train` (make test does it first).")
    work = tmp_path_factory.mktemp("stack")
    web_port = free_port()
    graph = RecordingServer({"messaging_product": "whatsapp", "messages": [{"id": "wamid.sent"}]})
    twilio = RecordingServer({"sid": "SM00000000000000000000000000000000", "status": "queued"})
    channel_env = {
        "WHATSAPP_VERIFY_TOKEN": secrets.token_urlsafe(12),
        "WHATSAPP_APP_SECRET": secrets.token_urlsafe(24),
        "WHATSAPP_ACCESS_TOKEN": secrets.token_urlsafe(24),
        "WHATSAPP_PHONE_NUMBER_ID": WHATSAPP_PHONE_NUMBER_ID,
        "WHATSAPP_API_BASE": f"{graph.url}/v21.0",
        "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
        "TWILIO_AUTH_TOKEN": secrets.token_hex(16),
        "TWILIO_WHATSAPP_NUMBER": "whatsapp:+14155238886",
        "TWILIO_API_BASE": twilio.url,
        "WEB_ORIGINS": f"http://127.0.0.1:{web_port}",
        # Known to the tests, which work out the conversation ids a phone number or a BSUID stands for.
        "TAWJIH_CONVERSATION_ID_KEY": secrets.token_urlsafe(24),
    }
    registry = RegistryProcess(f"sqlite:///{work / 'registry.db'}", log_dir)
    actions = rasa = web = None
    try:
        # Reference lists are reused for a second here (30 s by default): staff changes show soon after.
        actions = ActionServerProcess(registry.url, log_dir, env={"REGISTRY_REFERENCE_TTL_SECONDS": "1"})
        tracker_db = work / "tracker.db"
        rasa = RasaProcess(MODEL, actions.url, f"sqlite:///{tracker_db}", log_dir, channel_env)
        web = WebProcess(web_port, rasa.url, log_dir)
        yield Stack(registry, actions, rasa, tracker_db, Platforms(graph, twilio, channel_env), web)
    finally:
        for process in (web, rasa, actions, registry):
            if process is not None:
                process.stop()
        graph.stop()
        twilio.stop()
