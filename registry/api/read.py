"""The read API the assistant relies on. Lists answer ``{"data": [...], "count": n}`` with paging.

Every shape is built once at import (``registry.schemas``), filters are indexed subqueries, and
only the page asked for is loaded and validated: a read costs a few small queries, whatever the load."""

from __future__ import annotations

import datetime as dt
import math
from typing import Optional, Sequence, Tuple, Type, TypeVar

import sqlalchemy as sa
from fastapi import APIRouter, Depends, HTTPException, Query, Response, status
from pydantic import BaseModel
from sqlalchemy.orm import Query as OrmQuery
from sqlalchemy.orm import Session, joinedload, lazyload, selectinload

from registry.api.deps import db_session
from registry.models import Centre, City, EducationLevel, Programme, Region, TrainingSession
from registry.schemas import (
    CentreOut,
    CentrePage,
    CityPage,
    EducationLevelPage,
    ProgrammeOut,
    ProgrammePage,
    RegionPage,
    SessionOut,
    SessionPage,
    SessionStatus,
)
from registry.text import fold

router = APIRouter(prefix="/api/v1", tags=["read"])
P = TypeVar("P", bound=BaseModel)
T = TypeVar("T")
EARTH_RADIUS_KM = 6371.0


def answer(shape: BaseModel) -> Response:
    """The JSON of a shape already validated from the records, encoded here in the worker thread:
    handed back as a model, FastAPI would validate it again and encode it on the event loop."""
    return Response(shape.json(ensure_ascii=False, separators=(",", ":")), media_type="application/json")


# Loader options: each read loads, in a fixed number of queries, only the columns its shape shows.
CENTRE_ROW = (
    joinedload(Centre.city).load_only(City.name, City.region_id).joinedload(City.region).load_only(Region.name_fr),
    selectinload(Centre.programmes).load_only(Programme.id),
)
PROGRAMME_ROW = (selectinload(Programme.centres).load_only(Centre.id).lazyload("*"),)
SESSION_ROW = (
    joinedload(TrainingSession.programme).load_only(Programme.name_fr),
    joinedload(TrainingSession.centre).load_only(Centre.name, Centre.city_id).lazyload(Centre.programmes),
    joinedload(TrainingSession.centre)
    .joinedload(Centre.city)
    .load_only(City.name, City.region_id)
    .lazyload(City.region),
)


class Paging:
    def __init__(self, limit: int = Query(50, ge=1, le=200), offset: int = Query(0, ge=0)) -> None:
        self.limit = limit
        self.offset = offset

    def page(self, shape: Type[P], query: OrmQuery) -> P:
        """Count in the database, then load and validate only the records of this page."""
        count = query.order_by(None).count()
        records = query.limit(self.limit).offset(self.offset).all() if count > self.offset else []
        return shape(data=records, count=count, limit=self.limit, offset=self.offset)

    def window(self, items: Sequence[T]) -> Sequence[T]:
        """This page's part of items already ordered in Python (by distance)."""
        return items[self.offset : self.offset + self.limit]


def distance_km(a: Tuple[float, float], b: Tuple[float, float]) -> float:
    """Great-circle (haversine) distance."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def parse_point(near: str) -> Tuple[float, float]:
    try:
        lat_text, lon_text = near.split(",")
        lat, lon = float(lat_text), float(lon_text)
    except ValueError:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_ENTITY, "near must be 'latitude,longitude', e.g. near=34.02,-6.84"
        ) from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or math.isnan(lat) or math.isnan(lon):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, "near is outside valid latitude/longitude ranges")
    return lat, lon


def regions_named(region: str) -> sa.sql.Select:
    """A region filter accepts its id or its French or Arabic name, accents and case aside."""
    wanted = fold(region)
    return sa.select(Region.id).where(
        sa.or_(Region.id == wanted.replace(" ", "-"), Region.name_key == wanted, Region.name_ar_key == wanted)
    )


def cities_where(city: Optional[str], region: Optional[str]) -> sa.sql.Select:
    """The ids of the cities a city and/or region filter names (``Fès`` = ``fes`` = ``FES``)."""
    query = sa.select(City.id)
    if city:
        query = query.where(City.name_key == fold(city))
    if region:
        query = query.where(City.region_id.in_(regions_named(region)))
    return query


@router.get("/regions", response_model=RegionPage)
def list_regions(paging: Paging = Depends(), db: Session = Depends(db_session)) -> Response:
    return answer(paging.page(RegionPage, db.query(Region).order_by(Region.name_fr)))


@router.get("/cities", response_model=CityPage)
def list_cities(
    region: Optional[str] = None, paging: Paging = Depends(), db: Session = Depends(db_session)
) -> Response:
    query = db.query(City).options(lazyload(City.region)).order_by(City.name)
    if region:
        query = query.filter(City.region_id.in_(regions_named(region)))
    return answer(paging.page(CityPage, query))


@router.get("/education-levels", response_model=EducationLevelPage)
def list_education_levels(paging: Paging = Depends(), db: Session = Depends(db_session)) -> Response:
    return answer(paging.page(EducationLevelPage, db.query(EducationLevel).order_by(EducationLevel.rank)))


@router.get("/programmes", response_model=ProgrammePage)
def list_programmes(paging: Paging = Depends(), db: Session = Depends(db_session)) -> Response:
    return answer(paging.page(ProgrammePage, db.query(Programme).options(*PROGRAMME_ROW).order_by(Programme.id)))


@router.get("/programmes/{programme_id}", response_model=ProgrammeOut)
def get_programme(programme_id: str, db: Session = Depends(db_session)) -> Response:
    programme = db.get(Programme, programme_id, options=PROGRAMME_ROW)
    if programme is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"No programme '{programme_id}'.")
    return answer(ProgrammeOut.from_orm(programme))


@router.get("/centres", response_model=CentrePage)
def list_centres(
    city: Optional[str] = Query(None, description="Matches regardless of case and accents: Fès = fes = FES."),
    region: Optional[str] = Query(None, description="A region id or name."),
    programme: Optional[str] = Query(None, description="Only centres offering this programme id."),
    near: Optional[str] = Query(None, description="'latitude,longitude': nearest first, with distance_km."),
    paging: Paging = Depends(),
    db: Session = Depends(db_session),
) -> Response:
    point = parse_point(near) if near else None
    query = db.query(Centre).options(*CENTRE_ROW).order_by(Centre.name, Centre.id)
    if city or region:
        query = query.filter(Centre.city_id.in_(cities_where(city, region)))
    if programme:
        query = query.filter(Centre.programmes.any(Programme.id == programme))
    if point is None:
        return answer(paging.page(CentrePage, query))
    located = sorted(
        (
            (distance_km(point, (c.latitude, c.longitude)), c)
            for c in query.all()
            if c.latitude is not None and c.longitude is not None
        ),
        key=lambda pair: (pair[0], pair[1].name),
    )
    page = [CentreOut.from_orm(c).copy(update={"distance_km": round(d, 1)}) for d, c in paging.window(located)]
    return answer(CentrePage(data=page, count=len(located), limit=paging.limit, offset=paging.offset))


@router.get("/centres/{centre_id}", response_model=CentreOut)
def get_centre(centre_id: str, db: Session = Depends(db_session)) -> Response:
    centre = db.get(Centre, centre_id, options=CENTRE_ROW)
    if centre is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"No centre '{centre_id}'.")
    return answer(CentreOut.from_orm(centre))


@router.get("/sessions", response_model=SessionPage)
def list_sessions(
    programme: Optional[str] = None,
    centre: Optional[str] = None,
    city: Optional[str] = Query(None, description="Matches regardless of case and accents."),
    region: Optional[str] = None,
    status_: Optional[SessionStatus] = Query(None, alias="status"),
    from_: Optional[dt.date] = Query(None, alias="from", description="Only sessions starting on or after this date."),
    paging: Paging = Depends(),
    db: Session = Depends(db_session),
) -> Response:
    query = db.query(TrainingSession).options(*SESSION_ROW)
    if programme:
        query = query.filter(TrainingSession.programme_id == programme)
    if centre:
        query = query.filter(TrainingSession.centre_id == centre)
    if city or region:
        query = query.filter(
            TrainingSession.centre_id.in_(sa.select(Centre.id).where(Centre.city_id.in_(cities_where(city, region))))
        )
    if status_:
        query = query.filter(TrainingSession.status == status_.value)
    if from_:
        query = query.filter(TrainingSession.start_date >= from_)
    return answer(paging.page(SessionPage, query.order_by(TrainingSession.start_date, TrainingSession.id)))


@router.get("/sessions/{session_id}", response_model=SessionOut)
def get_session(session_id: str, db: Session = Depends(db_session)) -> Response:
    record = db.get(TrainingSession, session_id, options=SESSION_ROW)
    if record is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"No session '{session_id}'.")
    return answer(SessionOut.from_orm(record))
