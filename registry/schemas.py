"""The registry's public JSON shapes: what every other part of Tawjih may rely on.

Output shapes read the ORM records directly (pydantic's ``orm_mode``); a field that sits
elsewhere on the record names its path in ``Config.getter_dict``."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Any, ClassVar, Dict, Generic, List, Optional, Tuple, Type, TypeVar

from pydantic import BaseModel, Field, root_validator, validator
from pydantic.generics import GenericModel
from pydantic.utils import GetterDict

SLUG_PATTERN = r"^[a-z0-9][a-z0-9+-]{1,62}$"
T = TypeVar("T")


class RecordGetter(GetterDict):
    """Reads a field from an ORM record, along the dotted path its schema names for it."""

    paths: ClassVar[Dict[str, Tuple[str, ...]]] = {}

    def get(self, key: Any, default: Any = None) -> Any:
        path = self.paths.get(key)
        if path is None:
            return getattr(self._obj, key, default)
        value = self._obj
        for name in path:
            value = getattr(value, name)
        return value


def read_along(**paths: str) -> Type[GetterDict]:
    """A getter for a schema whose fields sit elsewhere on the record, e.g. ``city="city.name"``;
    an empty path is the record itself (a nested shape read from the same record)."""
    return type(
        "RecordGetter", (RecordGetter,), {"paths": {k: tuple(filter(None, v.split("."))) for k, v in paths.items()}}
    )


def empty_if_none(value: Any) -> Any:
    """A JSON column may hold ``null`` where the shape promises a list (an older staff write)."""
    return [] if value is None else value


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

    class Config:
        orm_mode = True

    _lists = validator("sample_fields", "aliases", pre=True, allow_reuse=True, check_fields=False)(empty_if_none)

    @validator("updated_at")
    def _in_utc(cls, value: dt.datetime) -> dt.datetime:
        """SQLite drops the zone; every timestamp is stored in UTC."""
        return value if value.tzinfo is not None else value.replace(tzinfo=dt.timezone.utc)


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

    class Config:
        getter_dict = read_along(region="region_id")


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

    class Config:
        orm_mode = True  # read from the programme record's own columns

    _lists = validator("other_conditions", pre=True, allow_reuse=True)(empty_if_none)

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

    class Config:
        getter_dict = read_along(eligibility="")

    _more_lists = validator("required_documents", "application_steps", "careers", pre=True, allow_reuse=True)(
        empty_if_none
    )

    @validator("description_fr", "description_ar", pre=True)
    def _empty_text_if_none(cls, value: Optional[str]) -> str:
        return value or ""


class CentreFields(StaffInput):
    name: Optional[str] = Field(None, min_length=2, max_length=200)
    kind: Optional[CentreKind] = None
    city: Optional[str] = Field(
        None, min_length=2, max_length=128, description="A city of /api/v1/cities: its id, name or a spelling of it."
    )
    region: Optional[str] = Field(
        None, description="Optional: the region is the city's. If given, it must be that region's id."
    )
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

    class Config:
        getter_dict = read_along(
            city="city.name", region="city.region_id", region_name="city.region.name_fr", programmes="programme_ids"
        )


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

    class Config:
        getter_dict = read_along(
            programme_name="programme.name_fr",
            centre_name="centre.name",
            city="centre.city.name",
            region="centre.city.region_id",
        )


class Health(BaseModel):
    status: str
    database: str


# Every page shape, built once here: a generic model built while serving is both slow and not
# thread-safe (pydantic caches it before its fields are ready; issue 17).
RegionPage = Page[RegionOut]
CityPage = Page[CityOut]
EducationLevelPage = Page[EducationLevelOut]
ProgrammePage = Page[ProgrammeOut]
CentrePage = Page[CentreOut]
SessionPage = Page[SessionOut]
