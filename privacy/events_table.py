"""Rasa's SQL tracker store's ``events`` table, as Tawjih's own queries read and delete it: one row per
event, with its conversation, type, time and JSON. Rasa creates the table; this is only its description."""

from __future__ import annotations

import sqlalchemy as sa

EVENTS = sa.table(
    "events",
    sa.column("id", sa.BigInteger),
    sa.column("sender_id", sa.String),
    sa.column("type_name", sa.String),
    sa.column("timestamp", sa.Float),
    sa.column("intent_name", sa.String),
    sa.column("action_name", sa.String),
    sa.column("data", sa.Text),
)
