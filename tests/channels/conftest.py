"""Settings for the channels' pieces, read the way the Rasa process reads them (``rasa_settings()``)."""

from __future__ import annotations

from typing import Callable, Iterator

import pytest

from channels.settings import rasa_settings

SetEnv = Callable[..., None]


@pytest.fixture
def settings_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[SetEnv]:
    """Set environment variables and read the settings afresh; a conversation-id key is set by default."""

    def set_env(**variables: str) -> None:
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
        rasa_settings.cache_clear()

    set_env(TAWJIH_CONVERSATION_ID_KEY="test-key")
    yield set_env
    rasa_settings.cache_clear()
