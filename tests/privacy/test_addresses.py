"""Sealed addresses for a handoff: unreadable without the key, gone with an erasure and with the purge."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from privacy.addresses import ADDRESSES, AddressBook
from privacy.retention import erase_conversation, purge_expired

NUMBER = "+212612345678"


@pytest.fixture()
def engine(tmp_path: Path) -> sa.engine.Engine:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'tracker.db'}", future=True)
    with engine.begin() as connection:  # the events table, as Rasa makes it (the part the purge reads)
        connection.exec_driver_sql("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id TEXT, timestamp REAL)")
    return engine


def test_an_address_is_kept_sealed_and_read_back_only_with_the_key(engine: sa.engine.Engine) -> None:
    book = AddressBook(engine, "the-conversation-id-key")
    book.keep("whatsapp-abc", "whatsapp", {"phone": NUMBER, "user_id": ""})
    with engine.connect() as connection:
        stored = connection.execute(sa.select(ADDRESSES.c.sealed)).scalar_one()
    assert "612345678" not in stored and "212" not in stored
    assert book.find("whatsapp-abc") == {"phone": NUMBER, "user_id": ""}
    assert AddressBook(engine, "another-key").find("whatsapp-abc") is None
    assert book.find("whatsapp-unknown") is None


def test_refresh_renews_only_a_kept_address(engine: sa.engine.Engine) -> None:
    book = AddressBook(engine, "key")
    book.refresh("whatsapp-new", "whatsapp", {"phone": NUMBER})
    assert book.find("whatsapp-new") is None  # nobody asked for an adviser: nothing is kept
    book.keep("whatsapp-new", "whatsapp", {"phone": NUMBER})
    book.refresh("whatsapp-new", "whatsapp", {"phone": "+212700000000"})
    assert book.find("whatsapp-new") == {"phone": "+212700000000"}
    book.forget("whatsapp-new")
    assert book.find("whatsapp-new") is None


def test_an_erasure_takes_the_address_with_the_events(engine: sa.engine.Engine) -> None:
    book = AddressBook(engine, "key")
    book.keep("whatsapp-a", "whatsapp", {"phone": NUMBER})
    book.keep("whatsapp-b", "whatsapp", {"phone": "+212700000001"})
    erase_conversation(engine, "whatsapp-a")
    assert book.find("whatsapp-a") is None
    assert book.find("whatsapp-b") is not None


def test_the_purge_takes_addresses_not_renewed_within_the_retention(engine: sa.engine.Engine) -> None:
    book = AddressBook(engine, "key")
    book.keep("whatsapp-old", "whatsapp", {"phone": NUMBER})
    book.keep("whatsapp-recent", "whatsapp", {"phone": "+212700000001"})
    with engine.begin() as connection:
        connection.execute(
            sa.update(ADDRESSES).where(ADDRESSES.c.conversation_id == "whatsapp-old").values(updated_at=0.0)
        )
    purge_expired(engine, days=90, now=time.time())
    assert book.find("whatsapp-old") is None
    assert book.find("whatsapp-recent") is not None


def test_without_a_key_nothing_is_sealed(engine: sa.engine.Engine) -> None:
    with pytest.raises(ValueError, match="TAWJIH_CONVERSATION_ID_KEY"):
        AddressBook(engine, "")
