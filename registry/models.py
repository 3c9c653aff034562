"""The registry's tables. Every record carries ``updated_at``; seeded values that no
source states are listed in ``sample_fields`` so nobody mistakes them for official facts."""

from __future__ import annotations

import datetime as dt
from typing import Any, List

import sqlalchemy as sa
from sqlalchemy.orm import declarative_base, relationship, validates

from registry.text import fold

Base: Any = declarative_base()  # typed as Any: SQLAlchemy 1.4 has no typed declarative base


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


class TimestampedMixin:
    updated_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow, onupdate=utcnow)
    sample_fields = sa.Column(sa.JSON, nullable=False, default=list)
    source_note = sa.Column(sa.Text, nullable=True)


class Region(TimestampedMixin, Base):
    """A region filter matches its id or either name, accents and case aside: the folded names are
    stored (``name_key``, ``name_ar_key``) so the database finds it by index, not Python by scan."""

    __tablename__ = "regions"

    id = sa.Column(sa.String(64), primary_key=True)
    name_fr = sa.Column(sa.String(128), nullable=False)
    name_ar = sa.Column(sa.String(128), nullable=False)
    aliases = sa.Column(sa.JSON, nullable=False, default=list)
    name_key = sa.Column(sa.String(128), nullable=False, index=True)
    name_ar_key = sa.Column(sa.String(128), nullable=False, index=True)

    @validates("name_fr")
    def _fold_name_fr(self, _key: str, value: str) -> str:
        self.name_key = fold(value)
        return value

    @validates("name_ar")
    def _fold_name_ar(self, _key: str, value: str) -> str:
        self.name_ar_key = fold(value)
        return value


class City(TimestampedMixin, Base):
    """A place people name; centres sit in some of them, the others let us find the nearest."""

    __tablename__ = "cities"

    id = sa.Column(sa.String(64), primary_key=True)
    name = sa.Column(sa.String(128), nullable=False)
    name_ar = sa.Column(sa.String(128), nullable=False)
    region_id = sa.Column(sa.String(64), sa.ForeignKey("regions.id"), nullable=False)
    latitude = sa.Column(sa.Float, nullable=False)
    longitude = sa.Column(sa.Float, nullable=False)
    aliases = sa.Column(sa.JSON, nullable=False, default=list)
    name_key = sa.Column(sa.String(128), nullable=False, index=True)

    region = relationship(Region, lazy="joined", innerjoin=True)

    @validates("name")
    def _fold_name(self, _key: str, value: str) -> str:
        """City filters compare folded names (``Fès`` = ``fes``), by index."""
        self.name_key = fold(value)
        return value


class EducationLevel(TimestampedMixin, Base):
    """An ordered scale, so eligibility compares levels as data, not as code."""

    __tablename__ = "education_levels"

    id = sa.Column(sa.String(32), primary_key=True)
    rank = sa.Column(sa.Integer, nullable=False, unique=True)
    name_fr = sa.Column(sa.String(128), nullable=False)
    name_ar = sa.Column(sa.String(128), nullable=False)
    aliases = sa.Column(sa.JSON, nullable=False, default=list)


centre_programmes = sa.Table(
    "centre_programmes",
    Base.metadata,
    sa.Column("centre_id", sa.String(64), sa.ForeignKey("centres.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("programme_id", sa.String(64), sa.ForeignKey("programmes.id", ondelete="CASCADE"), primary_key=True),
)


class Programme(TimestampedMixin, Base):
    __tablename__ = "programmes"

    id = sa.Column(sa.String(64), primary_key=True)
    name_fr = sa.Column(sa.String(200), nullable=False)
    name_ar = sa.Column(sa.String(200), nullable=False)
    aliases = sa.Column(sa.JSON, nullable=False, default=list)
    track = sa.Column(sa.String(200), nullable=False)
    description_fr = sa.Column(sa.Text, nullable=False, default="")
    description_ar = sa.Column(sa.Text, nullable=False, default="")
    duration_months = sa.Column(sa.Integer, nullable=True)
    format = sa.Column(sa.String(32), nullable=True)
    teaching_language = sa.Column(sa.String(64), nullable=True)
    diploma = sa.Column(sa.String(200), nullable=True)
    cost_mad = sa.Column(sa.Integer, nullable=True)
    stipend_mad = sa.Column(sa.Integer, nullable=True)
    min_age = sa.Column(sa.Integer, nullable=True)
    max_age = sa.Column(sa.Integer, nullable=True)
    min_education_level = sa.Column(sa.String(32), sa.ForeignKey("education_levels.id"), nullable=True)
    other_conditions = sa.Column(sa.JSON, nullable=False, default=list)
    required_documents = sa.Column(sa.JSON, nullable=False, default=list)
    application_steps = sa.Column(sa.JSON, nullable=False, default=list)
    application_url = sa.Column(sa.String(500), nullable=True)
    careers = sa.Column(sa.JSON, nullable=False, default=list)

    centres = relationship("Centre", secondary=centre_programmes, back_populates="programmes")

    @property
    def centre_ids(self) -> List[str]:
        return sorted(centre.id for centre in self.centres)


class Centre(TimestampedMixin, Base):
    """A centre sits in a city of the registry; its region is that city's, never stated apart."""

    __tablename__ = "centres"

    id = sa.Column(sa.String(64), primary_key=True)
    name = sa.Column(sa.String(200), nullable=False)
    kind = sa.Column(sa.String(16), nullable=False)
    city_id = sa.Column(
        sa.String(64), sa.ForeignKey("cities.id", name="fk_centres_city_id_cities"), nullable=False, index=True
    )
    address = sa.Column(sa.String(300), nullable=True)
    latitude = sa.Column(sa.Float, nullable=True)
    longitude = sa.Column(sa.Float, nullable=True)
    phone = sa.Column(sa.String(64), nullable=True)
    email = sa.Column(sa.String(200), nullable=True)
    opening_hours = sa.Column(sa.String(200), nullable=True)

    city = relationship(City, lazy="joined", innerjoin=True)
    programmes = relationship(Programme, secondary=centre_programmes, back_populates="centres", lazy="selectin")

    @property
    def programme_ids(self) -> List[str]:
        return sorted(programme.id for programme in self.programmes)


class TrainingSession(TimestampedMixin, Base):
    __tablename__ = "sessions"

    id = sa.Column(sa.String(128), primary_key=True)
    programme_id = sa.Column(sa.String(64), sa.ForeignKey("programmes.id"), nullable=False, index=True)
    centre_id = sa.Column(sa.String(64), sa.ForeignKey("centres.id"), nullable=False, index=True)
    start_date = sa.Column(sa.Date, nullable=False, index=True)
    application_deadline = sa.Column(sa.Date, nullable=False)
    seats_total = sa.Column(sa.Integer, nullable=False)
    seats_left = sa.Column(sa.Integer, nullable=False)
    status = sa.Column(sa.String(16), nullable=False)

    programme = relationship(Programme, lazy="joined", innerjoin=True)
    centre = relationship(Centre, lazy="joined", innerjoin=True)


class CatalogueVersion(Base):
    """One row, one number: raised in the transaction of every change to the catalogue (the
    ``before_flush`` hook of ``registry.db.session_factory``). The read cache keeps an answer only
    as long as this number has not moved, so a write is seen by the next read of every replica."""

    __tablename__ = "catalogue_version"

    id = sa.Column(sa.Integer, primary_key=True)
    version = sa.Column(sa.BigInteger, nullable=False, default=0)
