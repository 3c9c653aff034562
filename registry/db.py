"""Engine, sessions and migrations. Nothing connects at import time."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Dict, Iterator

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def create_engine(database_url: str) -> Engine:
    if database_url.startswith("sqlite"):
        path = sa.engine.make_url(database_url).database
        pooling: Dict[str, Any] = {}
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            # Kept open and reused: SQLAlchemy 1.4 would open (and set up) a new connection per request.
            pooling = {"poolclass": sa.pool.QueuePool, "pool_size": 8, "max_overflow": 8}
        engine = sa.create_engine(
            database_url, connect_args={"check_same_thread": False, "timeout": 10}, future=True, **pooling
        )

        @sa.event.listens_for(engine, "connect")
        def _enable_foreign_keys(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        return engine
    return sa.create_engine(database_url, pool_pre_ping=True, future=True)


def session_factory(engine: Engine) -> sessionmaker:
    """Sessions that raise the catalogue's version in the transaction of any change they flush."""
    factory = sessionmaker(bind=engine, expire_on_commit=False, future=True)
    sa.event.listen(factory, "before_flush", _raise_catalogue_version)
    sa.event.listen(factory, "do_orm_execute", _raise_catalogue_version_on_bulk_change)
    return factory


def _raise_catalogue_version(session: Session, _context: Any, _instances: Any) -> None:
    if session.new or session.dirty or session.deleted:
        session.execute(sa.text("UPDATE catalogue_version SET version = version + 1 WHERE id = 1"))


def _raise_catalogue_version_on_bulk_change(state: Any) -> None:
    """``query(...).delete()`` and ``.update()`` change rows without a flush."""
    if state.is_delete or state.is_update:
        state.session.execute(sa.text("UPDATE catalogue_version SET version = version + 1 WHERE id = 1"))


def catalogue_version(connection: sa.engine.Connection) -> int:
    """The number the read cache compares (0 before migration 0003 has filled it)."""
    return int(connection.execute(sa.text("SELECT version FROM catalogue_version WHERE id = 1")).scalar() or 0)


def session_scope(factory: sessionmaker) -> Iterator[Session]:
    session: Session = factory()
    try:
        yield session
    finally:
        session.close()


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision``, the newest by default; a no-op when it is already there."""
    _run_alembic(engine, command.upgrade, revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Take the schema back to an older ``revision`` (development and tests of the migrations)."""
    _run_alembic(engine, command.downgrade, revision)


def _run_alembic(engine: Engine, action: Callable[[Config, str], None], revision: str) -> None:
    """Run Alembic in one transaction. On SQLite, foreign keys are off meanwhile: batch mode copies
    a table, drops it and renames the copy, and with them on, dropping ``centres`` would cascade to
    ``centre_programmes``. They are checked once the copies are in place."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")  # a no-op inside a transaction: before it
            connection.commit()
        try:
            with connection.begin():
                config.attributes["connection"] = connection
                action(config, revision)
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if broken:
                        raise RuntimeError(f"Migration left {len(broken)} broken references, e.g. {tuple(broken[0])}.")
        finally:
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()
