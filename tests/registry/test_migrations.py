"""Migration 0002 turns each centre's free-text city into a reference to a city, keeping every
record that points at the centre; a centre whose city is unknown stops it before any change."""

from __future__ import annotations

import datetime as dt
from typing import Dict, Iterator, List

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Engine

from registry.db import create_engine, downgrade, migrate, session_factory
from registry.models import Base, Centre
from registry.schemas import CentreOut

NOW = dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc)
PROVENANCE = {"updated_at": NOW, "sample_fields": [], "source_note": None}

REGIONS = [
    {"id": "fes-meknes", "name_fr": "Fès-Meknès", "name_ar": "فاس مكناس", "aliases": []},
    {"id": "tanger-tetouan-al-hoceima", "name_fr": "Tanger-Tétouan-Al Hoceïma", "name_ar": "طنجة", "aliases": []},
    {"id": "rabat-sale-kenitra", "name_fr": "Rabat-Salé-Kénitra", "name_ar": "الرباط", "aliases": []},
]
CITIES = [
    {"id": "fes", "name": "Fès", "region_id": "fes-meknes", "aliases": ["fez", "fas"]},
    {"id": "tanger", "name": "Tanger", "region_id": "tanger-tetouan-al-hoceima", "aliases": ["tanja", "tangier"]},
    {"id": "kenitra", "name": "Kénitra", "region_id": "rabat-sale-kenitra", "aliases": ["knitra"]},
]


def centre_row(centre_id: str, city: str, region_id: str) -> Dict[str, object]:
    return {
        "id": centre_id,
        "name": f"Centre {centre_id}",
        "kind": "other",
        "city": city,
        "city_key": city.lower(),
        "region_id": region_id,
        **PROVENANCE,
    }


@pytest.fixture
def engine(blank_database_url: str) -> Iterator[Engine]:
    engine = create_engine(blank_database_url)
    yield engine
    engine.dispose()


def fill_revision_0001(engine: Engine, centres: List[Dict[str, object]]) -> None:
    """Records as the first schema held them: the centre's city as free text beside its region."""
    migrate(engine, "0001")
    metadata = sa.MetaData()
    metadata.reflect(bind=engine)
    tables = metadata.tables
    with engine.begin() as connection:
        connection.execute(tables["regions"].insert(), [{**r, **PROVENANCE} for r in REGIONS])
        connection.execute(
            tables["cities"].insert(),
            [{**c, "name_ar": c["name"], "latitude": 34.0, "longitude": -5.0, **PROVENANCE} for c in CITIES],
        )
        connection.execute(tables["centres"].insert(), centres)
        connection.execute(
            tables["programmes"].insert(),
            [
                {
                    "id": "prog",
                    "name_fr": "Programme",
                    "name_ar": "برنامج",
                    "aliases": [],
                    "track": "t",
                    "description_fr": "",
                    "description_ar": "",
                    "other_conditions": [],
                    "required_documents": [],
                    "application_steps": [],
                    "careers": [],
                    **PROVENANCE,
                }
            ],
        )
        connection.execute(
            tables["centre_programmes"].insert(), [{"centre_id": c["id"], "programme_id": "prog"} for c in centres]
        )
        connection.execute(
            tables["sessions"].insert(),
            [
                {
                    "id": f"prog--{c['id']}",
                    "programme_id": "prog",
                    "centre_id": c["id"],
                    "start_date": dt.date(2027, 1, 10),
                    "application_deadline": dt.date(2027, 1, 1),
                    "seats_total": 20,
                    "seats_left": 5,
                    "status": "open",
                    **PROVENANCE,
                }
                for c in centres
            ],
        )


def count(engine: Engine, table: str) -> int:
    with engine.connect() as connection:
        return int(connection.execute(sa.select(sa.func.count()).select_from(sa.table(table))).scalar_one())


def columns(engine: Engine, table: str) -> List[str]:
    return [column["name"] for column in sa.inspect(engine).get_columns(table)]


def test_each_centre_city_becomes_a_reference_and_nothing_pointing_at_centres_is_lost(engine: Engine) -> None:
    fill_revision_0001(
        engine,
        [
            centre_row("by-name", "FES", "fes-meknes"),  # case and accents aside
            centre_row("by-spelling", "tanja", "tanger-tetouan-al-hoceima"),
            centre_row("by-id", "kenitra", "rabat-sale-kenitra"),
            centre_row("disagreeing", "Kénitra", "fes-meknes"),  # the city's region wins
        ],
    )
    migrate(engine)

    assert {"city", "city_key", "region_id"}.isdisjoint(columns(engine, "centres"))
    assert count(engine, "centre_programmes") == count(engine, "sessions") == 4
    with session_factory(engine)() as session:
        shown = {c.id: CentreOut.from_orm(c) for c in session.query(Centre)}
    assert {i: (c.city, c.region) for i, c in shown.items()} == {
        "by-name": ("Fès", "fes-meknes"),
        "by-spelling": ("Tanger", "tanger-tetouan-al-hoceima"),
        "by-id": ("Kénitra", "rabat-sale-kenitra"),
        "disagreeing": ("Kénitra", "rabat-sale-kenitra"),
    }
    assert all(c.programmes == ["prog"] for c in shown.values())
    with engine.connect() as connection:
        region_keys = dict(connection.execute(sa.text("SELECT id, name_key FROM regions")).all())
    assert region_keys["fes-meknes"] == "fes meknes"


def test_a_centre_whose_city_is_unknown_stops_the_migration_before_any_change(engine: Engine) -> None:
    fill_revision_0001(engine, [centre_row("known", "Fès", "fes-meknes"), centre_row("lost", "Atlantis", "fes-meknes")])
    with pytest.raises(RuntimeError, match=r"centre 'lost' has city 'Atlantis' \(no city of the registry\)"):
        migrate(engine)
    assert {"city", "region_id"} <= set(columns(engine, "centres"))
    assert "city_id" not in columns(engine, "centres")
    assert "name_key" not in columns(engine, "cities")
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one() == "0001"


def test_downgrade_gives_back_the_city_as_text_beside_its_region(engine: Engine) -> None:
    fill_revision_0001(engine, [centre_row("tangier", "tanja", "tanger-tetouan-al-hoceima")])
    migrate(engine)
    downgrade(engine, "0001")
    with engine.connect() as connection:
        row = connection.execute(sa.text("SELECT city, city_key, region_id FROM centres")).one()
    assert tuple(row) == ("Tanger", "tanger", "tanger-tetouan-al-hoceima")
    assert count(engine, "centre_programmes") == count(engine, "sessions") == 1
    migrate(engine)
    assert "city_id" in columns(engine, "centres")


def test_the_migrated_schema_is_the_models_schema(engine: Engine) -> None:
    migrate(engine)
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
