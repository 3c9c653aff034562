"""Every setting of the Rasa server process (its channels and the limits on what comes in), read once.

Rasa builds the channels from credentials.yml; each reads ``rasa_settings()``, which reads the
environment the first time and is then fixed for the life of the process. A channel whose settings
are incomplete answers 503 and says which variable is missing when it starts: it never
acknowledges a message it cannot handle.
"""

from __future__ import annotations

import functools
import logging
from typing import List

from pydantic import BaseSettings, Field, validator

logger = logging.getLogger(__name__)

DEFAULT_WEB_ORIGINS = "http://127.0.0.1:8080,http://localhost:8080"


class RasaSettings(BaseSettings):
    # The REST channel's bearer token (an integrator's client, the tests); unset: REST answers 503.
    rest_token: str = Field("", env="TAWJIH_REST_TOKEN")
    # Keys the hash that stands for a phone number or a WhatsApp user id in conversation ids.
    conversation_id_key: str = Field("", env="TAWJIH_CONVERSATION_ID_KEY")
    # WhatsApp's own limit on a text message; longer is answered kindly, never stored.
    max_message_chars: int = Field(4096, env="TAWJIH_MAX_MESSAGE_CHARS", ge=1, le=65536)
    # The largest request body a channel reads (a signed WhatsApp delivery of several messages fits).
    max_body_bytes: int = Field(128 * 1024, env="TAWJIH_MAX_BODY_BYTES", ge=1024)
    web_origins: str = Field(DEFAULT_WEB_ORIGINS, env="WEB_ORIGINS")

    whatsapp_verify_token: str = Field("", env="WHATSAPP_VERIFY_TOKEN")
    whatsapp_app_secret: str = Field("", env="WHATSAPP_APP_SECRET")
    whatsapp_access_token: str = Field("", env="WHATSAPP_ACCESS_TOKEN")
    whatsapp_phone_number_id: str = Field("", env="WHATSAPP_PHONE_NUMBER_ID")
    whatsapp_api_base: str = Field("https://graph.facebook.com/v21.0", env="WHATSAPP_API_BASE")
    # The approved template an adviser may send once 24 hours have passed since the person's last
    # message ("name" or "name:language", language "fr" unless given); unset: no template to offer.
    whatsapp_handoff_template: str = Field("", env="WHATSAPP_HANDOFF_TEMPLATE")

    twilio_account_sid: str = Field("", env="TWILIO_ACCOUNT_SID")
    twilio_auth_token: str = Field("", env="TWILIO_AUTH_TOKEN")
    twilio_whatsapp_number: str = Field("", env="TWILIO_WHATSAPP_NUMBER")
    twilio_webhook_url: str = Field("", env="TWILIO_WEBHOOK_URL")
    twilio_api_base: str = Field("https://api.twilio.com", env="TWILIO_API_BASE")
    # Twilio's equivalent: the ContentSid ("HX...") of the approved template.
    twilio_handoff_content_sid: str = Field("", env="TWILIO_HANDOFF_CONTENT_SID")

    # Sending to a messaging platform: each try's timeout, tries in all, the whole send's deadline.
    platform_timeout_seconds: float = Field(10.0, env="TAWJIH_PLATFORM_TIMEOUT_SECONDS", gt=0)
    platform_attempts: int = Field(3, env="TAWJIH_PLATFORM_ATTEMPTS", ge=1, le=10)
    platform_deadline_seconds: float = Field(30.0, env="TAWJIH_PLATFORM_DEADLINE_SECONDS", gt=0)

    # Where the WhatsApp channels remember seen message ids, offered options and identity links:
    # a redis:// (or rediss://, unix://) URL shared by every Rasa instance; unset, this process's memory.
    channel_state_url: str = Field("", env="TAWJIH_CHANNEL_STATE_URL")

    class Config:
        case_sensitive = False

    @validator("channel_state_url")
    def _a_redis_url(cls, value: str) -> str:
        value = value.strip()
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must be a redis://, rediss:// or unix:// URL")
        return value

    @validator("whatsapp_api_base", "twilio_api_base")
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @property
    def allowed_web_origins(self) -> List[str]:
        return [origin.strip().rstrip("/") for origin in self.web_origins.split(",") if origin.strip()]

    def missing(self, *names: str) -> List[str]:
        """The environment variables, among these settings' names, that are not set."""
        fields = self.__fields__
        return [
            str(fields[name].field_info.extra.get("env") or name.upper()) for name in names if not getattr(self, name)
        ]


@functools.lru_cache(maxsize=1)
def rasa_settings() -> RasaSettings:
    return RasaSettings()  # type: ignore[call-arg]  # the fields come from the environment


def report_missing(channel: str, missing: List[str], consequence: str) -> None:
    """Said once, when the channel starts: which variables it lacks and what it does meanwhile."""
    if missing:
        logger.warning("%s channel: %s not set; %s.", channel, ", ".join(missing), consequence)
