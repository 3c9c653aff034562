"""Where to reach a person on WhatsApp while a handoff to an adviser is open: sealed, and only then.

A WhatsApp conversation is keyed on a hash of the person's number or business-scoped user id
(``channels.messaging``): the number itself is never stored, so nothing can write to the person
outside a turn they started. An adviser's reply comes later, outside any turn: for that, and only
from the moment the person asks for an adviser, the channel keeps the address here, encrypted with
a key derived from TAWJIH_CONVERSATION_ID_KEY (which only the Rasa process holds: the console and
the tracker store's readers see ciphertext). The row goes when the handoff ends (the person ends it,
or the adviser closes it), when the person erases their conversation, and with the retention purge.

The table lives in the tracker store's database, beside the events: an erasure removes both in one
transaction (``privacy.retention.erase_conversation``).
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any, Dict, Optional

import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

METADATA = sa.MetaData()
ADDRESSES = sa.Table(
    "channel_addresses",
    METADATA,
    sa.Column("conversation_id", sa.String(255), primary_key=True),
    sa.Column("channel", sa.String(64), nullable=False),
    sa.Column("sealed", sa.Text, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False, index=True),
)
_PURPOSE = b"tawjih channel address seal v1"


def sealer(secret: str) -> Fernet:
    """A Fernet key of its own, derived from the conversation-id key (HKDF-SHA256)."""
    if not secret:
        raise ValueError("TAWJIH_CONVERSATION_ID_KEY is not set: addresses cannot be sealed")
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_PURPOSE).derive(secret.encode())
    return Fernet(base64.urlsafe_b64encode(key))


class AddressBook:
    """Sealed addresses by conversation. Blocking calls: the channels run them off the event loop."""

    def __init__(self, engine: sa.engine.Engine, secret: str) -> None:
        self.engine = engine
        self._fernet = sealer(secret)
        METADATA.create_all(engine, checkfirst=True)

    def _seal(self, address: Dict[str, Any]) -> str:
        return self._fernet.encrypt(json.dumps(address, sort_keys=True).encode()).decode()

    def keep(self, conversation_id: str, channel: str, address: Dict[str, Any]) -> None:
        """Keep (or replace) the address of a conversation whose person asked for an adviser."""
        row = {"channel": channel, "sealed": self._seal(address), "updated_at": time.time()}
        with self.engine.begin() as connection:
            updated = connection.execute(
                sa.update(ADDRESSES).where(ADDRESSES.c.conversation_id == conversation_id).values(**row)
            ).rowcount
            if not updated:
                connection.execute(sa.insert(ADDRESSES).values(conversation_id=conversation_id, **row))

    def refresh(self, conversation_id: str, channel: str, address: Dict[str, Any]) -> bool:
        """Renew a kept address (the person wrote again, maybe from a new number); nothing if none is kept."""
        with self.engine.begin() as connection:
            return bool(
                connection.execute(
                    sa.update(ADDRESSES)
                    .where(ADDRESSES.c.conversation_id == conversation_id)
                    .values(channel=channel, sealed=self._seal(address), updated_at=time.time())
                ).rowcount
            )

    def find(self, conversation_id: str) -> Optional[Dict[str, Any]]:
        with self.engine.connect() as connection:
            sealed = connection.execute(
                sa.select(ADDRESSES.c.sealed).where(ADDRESSES.c.conversation_id == conversation_id)
            ).scalar_one_or_none()
        if sealed is None:
            return None
        try:
            found = json.loads(self._fernet.decrypt(sealed.encode()))
        except (InvalidToken, ValueError):
            return None  # sealed with another key: as good as absent
        return found if isinstance(found, dict) else None

    def forget(self, conversation_id: str) -> None:
        with self.engine.begin() as connection:
            forget_address(connection, conversation_id)


def _has_table(connection: sa.engine.Connection) -> bool:
    return bool(sa.inspect(connection).has_table(ADDRESSES.name))


def forget_address(connection: sa.engine.Connection, conversation_id: str) -> int:
    """Delete a conversation's address inside the caller's transaction (an erasure)."""
    if not _has_table(connection):
        return 0
    return int(connection.execute(sa.delete(ADDRESSES).where(ADDRESSES.c.conversation_id == conversation_id)).rowcount)


def purge_addresses(connection: sa.engine.Connection, cutoff: float) -> int:
    """Delete addresses not renewed since ``cutoff`` (the retention purge)."""
    if not _has_table(connection):
        return 0
    return int(connection.execute(sa.delete(ADDRESSES).where(ADDRESSES.c.updated_at < cutoff)).rowcount)
