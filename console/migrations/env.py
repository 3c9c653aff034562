"""Alembic runs on the connection that ``console.db.migrate`` hands it."""

from alembic import context

from console.models import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only via console.db.migrate
    raise RuntimeError("Run migrations with `python -m console migrate`.")

context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
