"""The registry's public JSON shapes: what every other part of Tawjih may rely on."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Generic, List, Optional, TypeVar

from pydantic import BaseModel, Field, root_validator
from pydantic.generics import GenericModel

SLUG_PATTERN = r"^[a-z0-9][a-z0-9+-]{1,62}$"
T = TypeVar("T")


class CentreKind(str, Enum):
    cmc = "cmc"
    code212 = "code212"
    other = "other"


class SessionStatus(str, Enum):
    open = "open"
    full = "full"
    closed = "closed"


class Page(GenericModel, Generic[T]):
    data: List[T]
    count: int = Field(description="How many records match, across all pages.")
    limit: int
    offset: int


class Provenance(BaseModel):
    updated_at: dt.datetime
    sample_fields: List[str] = Field(
        description="Fields holding sample data that no source states: confirm them with the centre."
    )
    source_note: Optional[str] = None


class RegionOut(Provenance):
    id: str
    name_fr: str
    name_ar: str
    aliases: List[str]


class CityOut(Provenance):
    id: str
    name: str
    name_ar: str
    region: str
    latitude: float
    longitude: float
    aliases: List[str]


class EducationLevelOut(Provenance):
    id: str
    rank: int
    name_fr: str
    name_ar: str
    aliases: List[str]


class Eligibility(BaseModel):
    min_age: Optional[int] = Field(None, ge=0, le=120)
    max_age: Optional[int] = Field(None, ge=0, le=120)
    min_education_level: Optional[str] = Field(None, description="An education level id, see /api/v1/education-levels.")
    other_conditions: List[str] = []

    @root_validator(skip_on_failure=True)
    def _age_range_is_ordered(cls, values):  # type: ignore[no-untyped-def]
        low, high = values.get("min_age"), values.get("max_age")
        if low is not None and high is not None and low > high:
            raise ValueError("min_age must not exceed max_age")
        return values


class StaffInput(BaseModel):
    class Config:
        anystr_strip_whitespace = True
        extra = "forbid"


class ProgrammeFields(StaffInput):
    name_fr: Optional[str] = Field(None, min_length=2, max_length=200)
    name_ar: Optional[str] = Field(None, min_length=2, max_length=200)
    aliases: Optional[List[str]] = Field(
        None, description="Other ways people name it, in French, Arabizi and Arabic script."
    )
    track: Optional[str] = Field(None, max_length=200)
    description_fr: Optional[str] = None
    description_ar: Optional[str] = None
    duration_months: Optional[int] = Field(None, ge=1, le=72)
    format: Optional[str] = Field(None, max_length=32)
    teaching_language: Optional[str] = Field(None, max_length=64)
    diploma: Optional[str] = Field(None, max_length=200)
    cost_mad: Optional[int] = Field(None, ge=0, description="0 means free.")
    stipend_mad: Optional[int] = Field(None, ge=0)
    eligibility: Optional[Eligibility] = None
    required_documents: Optional[List[str]] = None
    application_steps: Optional[List[str]] = None
    application_url: Optional[str] = Field(None, max_length=500)
    careers: Optional[List[str]] = None
    sample_fields: Optional[List[str]] = None
    source_note: Optional[str] = None


class ProgrammeCreate(ProgrammeFields):
    id: str = Field(..., regex=SLUG_PATTERN)
    name_fr: str = Field(..., min_length=2, max_length=200)
    name_ar: str = Field(..., min_length=2, max_length=200)
    track: str = Field(..., max_length=200)


class ProgrammeUpdate(ProgrammeFields):
    pass


class ProgrammeOut(Provenance):
    id: str
    name_fr: str
    name_ar: str
    aliases: List[str]
    track: str
    description_fr: str
    description_ar: str
    duration_months: Optional[int]
    format: Optional[str]
    teaching_language: Optional[str]
    diploma: Optional[str]
    cost_mad: Optional[int]
    stipend_mad: Optional[int]
    eligibility: Eligibility
    required_documents: List[str]
    application_steps: List[str]
    application_url: Optional[str]
    careers: List[str]
    centre_ids: List[str]


class CentreFields(StaffInput):
    name: Optional[str] = Field(None, min_length=2, max_length=200)
    kind: Optional[CentreKind] = None
    city: Optional[str] = Field(None, min_length=2, max_length=128)
    region: Optional[str] = Field(None, description="A region id, see /api/v1/regions.")
    address: Optional[str] = Field(None, max_length=300)
    latitude: Optional[float] = Field(None, ge=-90, le=90)
    longitude: Optional[float] = Field(None, ge=-180, le=180)
    phone: Optional[str] = Field(None, max_length=64)
    email: Optional[str] = Field(None, max_length=200)
    opening_hours: Optional[str] = Field(None, max_length=200)
    programmes: Optional[List[str]] = None
    sample_fields: Optional[List[str]] = None
    source_note: Optional[str] = None


class CentreCreate(CentreFields):
    id: str = Field(..., regex=SLUG_PATTERN)
    name: str = Field(..., min_length=2, max_length=200)
    kind: CentreKind
    city: str = Field(..., min_length=2, max_length=128)
    region: str


class CentreUpdate(CentreFields):
    pass


class CentreOut(Provenance):
    id: str
    name: str
    kind: CentreKind
    city: str
    region: str
    region_name: str
    address: Optional[str]
    latitude: Optional[float]
    longitude: Optional[float]
    phone: Optional[str]
    email: Optional[str]
    opening_hours: Optional[str]
    programmes: List[str]
    distance_km: Optional[float] = Field(None, description="Only with ?near=: distance from that point.")


class SessionFields(StaffInput):
    start_date: Optional[dt.date] = None
    application_deadline: Optional[dt.date] = None
    seats_total: Optional[int] = Field(None, ge=0, le=10000)
    seats_left: Optional[int] = Field(None, ge=0, le=10000)
    status: Optional[SessionStatus] = None
    sample_fields: Optional[List[str]] = None
    source_note: Optional[str] = None


class SessionCreate(SessionFields):
    id: Optional[str] = Field(None, regex=r"^[a-z0-9][a-z0-9+-]{1,126}$")
    programme_id: str
    centre_id: str
    start_date: dt.date
    application_deadline: dt.date
    seats_total: int = Field(..., ge=0, le=10000)
    seats_left: int = Field(..., ge=0, le=10000)
    status: SessionStatus = SessionStatus.open


class SessionUpdate(SessionFields):
    pass


class SessionOut(Provenance):
    id: str
    programme_id: str
    programme_name: str
    centre_id: str
    centre_name: str
    city: str
    region: str
    start_date: dt.date
    application_deadline: dt.date
    seats_total: int
    seats_left: int
    status: SessionStatus


class Health(BaseModel):
    status: str
    database: str
