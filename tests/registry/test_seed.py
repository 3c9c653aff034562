"""Seeding inserts what is missing and never overwrites what staff changed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from registry.db import create_engine, migrate, session_factory
from registry.models import Programme, TrainingSession
from registry.seed import counts, seed


def test_seed_is_idempotent_and_keeps_staff_edits(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'r.db'}")
    migrate(engine)
    migrate(engine)  # a second upgrade is a no-op
    with session_factory(engine)() as session:
        first = seed(session, today=dt.date(2026, 11, 23))
        assert first["centres"] == 16 and first["regions"] == 12
        session.get(Programme, "digital-offshoring").name_fr = "Offshoring (renamed by staff)"
        session.commit()
        before = counts(session)
        assert seed(session, today=dt.date(2027, 1, 1)) == dict.fromkeys(first, 0)
        assert counts(session) == before
        assert session.get(Programme, "digital-offshoring").name_fr == "Offshoring (renamed by staff)"


def test_sample_sessions_are_dated_from_the_seeding_day(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'r.db'}")
    migrate(engine)
    today = dt.date(2026, 11, 23)
    with session_factory(engine)() as session:
        seed(session, today=today)
        sessions = session.query(TrainingSession).all()
        assert all(today < s.application_deadline < s.start_date for s in sessions)
        assert all(0 <= s.seats_left <= s.seats_total for s in sessions)
        assert all((s.status == "full") == (s.seats_left == 0) for s in sessions)
