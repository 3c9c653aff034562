"""Create the PostgreSQL databases `make cluster` uses, when they do not exist yet.

    python scripts/cluster_databases.py postgresql://user@host:5432/tawjih_tracker ...

Each URL's database is created through the server's `postgres` database; an existing one is left as it is.
Nothing but the database's name is printed (a URL may carry a password)."""

from __future__ import annotations

import sys

import sqlalchemy as sa


def ensure_database(url: str) -> bool:
    """Create the URL's database if it is missing; True when it was created."""
    target = sa.engine.make_url(url)
    if not target.drivername.startswith("postgresql") or not target.database:
        raise ValueError("a postgresql:// URL naming its database is needed")
    server = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT", future=True)
    try:
        with server.connect() as connection:
            found = connection.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": target.database}
            )
            if found.first():
                return False
            connection.exec_driver_sql(f'CREATE DATABASE "{target.database}"')
            return True
    finally:
        server.dispose()


def main(urls: list) -> int:
    for url in urls:
        try:
            created = ensure_database(url)
        except (sa.exc.SQLAlchemyError, ValueError) as error:
            print(
                f"Cannot prepare a cluster database ({type(error).__name__}): is PostgreSQL running?", file=sys.stderr
            )
            return 1
        if created:
            print(f"Created the database {sa.engine.make_url(url).database}.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
