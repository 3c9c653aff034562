"""a centre's city is a reference to a city; its region is that city's

The free-text ``centres.city`` (with ``city_key``) and the separate ``centres.region_id``
could disagree; they become ``centres.city_id``, a foreign key to ``cities``. Each existing
centre's city text is matched to a city by id, name or spelling (accents and case aside,
the centre's old region breaking ties); a centre whose city matches none stops the
migration before anything is changed, naming the centre. Regions and cities also get their
folded names stored and indexed, so the read API's filters are indexed lookups.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List

import sqlalchemy as sa
from alembic import op

from registry.text import fold

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

logger = logging.getLogger("registry.migrations")

regions = sa.table(
    "regions",
    sa.column("id", sa.String),
    sa.column("name_fr", sa.String),
    sa.column("name_ar", sa.String),
    sa.column("name_key", sa.String),
    sa.column("name_ar_key", sa.String),
)
cities = sa.table(
    "cities",
    sa.column("id", sa.String),
    sa.column("name", sa.String),
    sa.column("region_id", sa.String),
    sa.column("aliases", sa.JSON),
    sa.column("name_key", sa.String),
)
centres = sa.table(
    "centres",
    sa.column("id", sa.String),
    sa.column("city", sa.String),
    sa.column("city_key", sa.String),
    sa.column("region_id", sa.String),
    sa.column("city_id", sa.String),
)


def _city_of_each_centre(bind: Any) -> Dict[str, str]:
    """Each centre's city id, or a RuntimeError naming every centre whose city is unknown or ambiguous."""
    known = bind.execute(sa.select(cities.c.id, cities.c.name, cities.c.region_id, cities.c.aliases)).all()
    by_id = {city.id: city for city in known}
    by_name: Dict[str, List[Any]] = {}
    by_spelling: Dict[str, List[Any]] = {}
    for city in known:
        by_name.setdefault(fold(city.name), []).append(city)
        for spelling in {city.id, *(city.aliases or [])}:
            by_spelling.setdefault(fold(spelling), []).append(city)

    chosen: Dict[str, str] = {}
    problems: List[str] = []
    for centre in bind.execute(sa.select(centres.c.id, centres.c.city, centres.c.region_id)).all():
        text = (centre.city or "").strip()
        candidates = [by_id[text]] if text in by_id else by_name.get(fold(text)) or by_spelling.get(fold(text)) or []
        in_region = [city for city in candidates if city.region_id == centre.region_id]
        matches = in_region or candidates
        if len({city.id for city in matches}) != 1:
            reason = "no city of the registry" if not matches else "ambiguous: " + ", ".join(c.id for c in matches)
            problems.append(f"centre '{centre.id}' has city '{text}' ({reason})")
            continue
        city = matches[0]
        if city.region_id != centre.region_id:
            logger.warning(
                "Centre '%s': its city '%s' is in region '%s', not '%s' as recorded; the city's region now applies.",
                centre.id,
                city.id,
                city.region_id,
                centre.region_id,
            )
        chosen[centre.id] = city.id
    if problems:
        raise RuntimeError(
            "Cannot make each centre's city a reference to a city: "
            + "; ".join(problems)
            + ". Add the missing city to the registry or correct the centre's city, then migrate again."
        )
    return chosen


def upgrade() -> None:
    bind = op.get_bind()
    city_of_centre = _city_of_each_centre(bind)  # before any change: a failure leaves the schema as it was

    op.add_column("regions", sa.Column("name_key", sa.String(length=128), nullable=True))
    op.add_column("regions", sa.Column("name_ar_key", sa.String(length=128), nullable=True))
    for region in bind.execute(sa.select(regions.c.id, regions.c.name_fr, regions.c.name_ar)).all():
        bind.execute(
            regions.update()
            .where(regions.c.id == region.id)
            .values(name_key=fold(region.name_fr), name_ar_key=fold(region.name_ar))
        )
    with op.batch_alter_table("regions") as batch_op:
        batch_op.alter_column("name_key", existing_type=sa.String(length=128), nullable=False)
        batch_op.alter_column("name_ar_key", existing_type=sa.String(length=128), nullable=False)
        batch_op.create_index("ix_regions_name_key", ["name_key"], unique=False)
        batch_op.create_index("ix_regions_name_ar_key", ["name_ar_key"], unique=False)

    op.add_column("cities", sa.Column("name_key", sa.String(length=128), nullable=True))
    for city in bind.execute(sa.select(cities.c.id, cities.c.name)).all():
        bind.execute(cities.update().where(cities.c.id == city.id).values(name_key=fold(city.name)))
    with op.batch_alter_table("cities") as batch_op:
        batch_op.alter_column("name_key", existing_type=sa.String(length=128), nullable=False)
        batch_op.create_index("ix_cities_name_key", ["name_key"], unique=False)

    op.add_column("centres", sa.Column("city_id", sa.String(length=64), nullable=True))
    for centre_id, city_id in city_of_centre.items():
        bind.execute(centres.update().where(centres.c.id == centre_id).values(city_id=city_id))
    with op.batch_alter_table("centres") as batch_op:
        batch_op.alter_column("city_id", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_foreign_key("fk_centres_city_id_cities", "cities", ["city_id"], ["id"])
        batch_op.create_index("ix_centres_city_id", ["city_id"], unique=False)
        batch_op.drop_index("ix_centres_city_key")
        batch_op.drop_column("city_key")
        batch_op.drop_column("city")
        batch_op.drop_column("region_id")  # its foreign key goes with it


def downgrade() -> None:
    bind = op.get_bind()
    op.add_column("centres", sa.Column("city", sa.String(length=128), nullable=True))
    op.add_column("centres", sa.Column("city_key", sa.String(length=128), nullable=True))
    op.add_column("centres", sa.Column("region_id", sa.String(length=64), nullable=True))
    located = sa.select(centres.c.id, cities.c.name, cities.c.region_id).join(cities, centres.c.city_id == cities.c.id)
    for centre in bind.execute(located).all():
        bind.execute(
            centres.update()
            .where(centres.c.id == centre.id)
            .values(city=centre.name, city_key=fold(centre.name), region_id=centre.region_id)
        )
    with op.batch_alter_table("centres") as batch_op:
        batch_op.alter_column("city", existing_type=sa.String(length=128), nullable=False)
        batch_op.alter_column("city_key", existing_type=sa.String(length=128), nullable=False)
        batch_op.alter_column("region_id", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_foreign_key("centres_region_id_fkey", "regions", ["region_id"], ["id"])
        batch_op.create_index("ix_centres_city_key", ["city_key"], unique=False)
        batch_op.drop_index("ix_centres_city_id")
        batch_op.drop_constraint("fk_centres_city_id_cities", type_="foreignkey")
        batch_op.drop_column("city_id")

    with op.batch_alter_table("cities") as batch_op:
        batch_op.drop_index("ix_cities_name_key")
        batch_op.drop_column("name_key")
    with op.batch_alter_table("regions") as batch_op:
        batch_op.drop_index("ix_regions_name_ar_key")
        batch_op.drop_index("ix_regions_name_key")
        batch_op.drop_column("name_ar_key")
        batch_op.drop_column("name_key")
