"""The read API the assistant relies on. Lists answer ``{"data": [...], "count": n}`` with paging."""

from __future__ import annotations

import datetime as dt
import math
from typing import List, Optional, Sequence, Tuple, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Query, status
from sqlalchemy.orm import Session

from registry.api.deps import db_session
from registry.api.serialize import (
    centre_out,
    city_out,
    education_level_out,
    programme_out,
    region_out,
    session_out,
)
from registry.models import Centre, City, EducationLevel, Programme, Region, TrainingSession
from registry.schemas import (
    CentreOut,
    CityOut,
    EducationLevelOut,
    Page,
    ProgrammeOut,
    RegionOut,
    SessionOut,
    SessionStatus,
)
from registry.text import fold

router = APIRouter(prefix="/api/v1", tags=["read"])
T = TypeVar("T")
EARTH_RADIUS_KM = 6371.0


class Paging:
    def __init__(self, limit: int = Query(50, ge=1, le=200), offset: int = Query(0, ge=0)) -> None:
        self.limit = limit
        self.offset = offset

    def page(self, items: Sequence[T]) -> Page[T]:
        return Page[T](
            data=list(items[self.offset : self.offset + self.limit]),
            count=len(items),
            limit=self.limit,
            offset=self.offset,
        )


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


def region_ids_matching(db: Session, region: str) -> List[str]:
    """A region filter accepts its id or its French or Arabic name, accents and case aside."""
    wanted = fold(region)
    return [r.id for r in db.query(Region).all() if wanted in (fold(r.id), fold(r.name_fr), fold(r.name_ar))]


@router.get("/regions", response_model=Page[RegionOut])
def list_regions(paging: Paging = Depends(), db: Session = Depends(db_session)) -> Page[RegionOut]:
    return paging.page([region_out(r) for r in db.query(Region).order_by(Region.name_fr).all()])


@router.get("/cities", response_model=Page[CityOut])
def list_cities(
    region: Optional[str] = None, paging: Paging = Depends(), db: Session = Depends(db_session)
) -> Page[CityOut]:
    query = db.query(City).order_by(City.name)
    if region:
        query = query.filter(City.region_id.in_(region_ids_matching(db, region)))
    return paging.page([city_out(c) for c in query.all()])


@router.get("/education-levels", response_model=Page[EducationLevelOut])
def list_education_levels(paging: Paging = Depends(), db: Session = Depends(db_session)) -> Page[EducationLevelOut]:
    return paging.page([education_level_out(lv) for lv in db.query(EducationLevel).order_by(EducationLevel.rank).all()])


@router.get("/programmes", response_model=Page[ProgrammeOut])
def list_programmes(paging: Paging = Depends(), db: Session = Depends(db_session)) -> Page[ProgrammeOut]:
    return paging.page([programme_out(p) for p in db.query(Programme).order_by(Programme.id).all()])


@router.get("/programmes/{programme_id}", response_model=ProgrammeOut)
def get_programme(programme_id: str, db: Session = Depends(db_session)) -> ProgrammeOut:
    programme = db.get(Programme, programme_id)
    if programme is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"No programme '{programme_id}'.")
    return programme_out(programme)


@router.get("/centres", response_model=Page[CentreOut])
def list_centres(
    city: Optional[str] = Query(None, description="Matches regardless of case and accents: Fès = fes = FES."),
    region: Optional[str] = Query(None, description="A region id or name."),
    programme: Optional[str] = Query(None, description="Only centres offering this programme id."),
    near: Optional[str] = Query(None, description="'latitude,longitude': nearest first, with distance_km."),
    paging: Paging = Depends(),
    db: Session = Depends(db_session),
) -> Page[CentreOut]:
    query = db.query(Centre).order_by(Centre.name)
    if city:
        query = query.filter(Centre.city_key == fold(city))
    if region:
        query = query.filter(Centre.region_id.in_(region_ids_matching(db, region)))
    if programme:
        query = query.filter(Centre.programmes.any(Programme.id == programme))
    centres = query.all()
    if not near:
        return paging.page([centre_out(c) for c in centres])
    point = parse_point(near)
    located = [
        (distance_km(point, (c.latitude, c.longitude)), c)
        for c in centres
        if c.latitude is not None and c.longitude is not None
    ]
    located.sort(key=lambda pair: (pair[0], pair[1].name))
    return paging.page([centre_out(c, distance_km=d) for d, c in located])


@router.get("/centres/{centre_id}", response_model=CentreOut)
def get_centre(centre_id: str, db: Session = Depends(db_session)) -> CentreOut:
    centre = db.get(Centre, centre_id)
    if centre is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"No centre '{centre_id}'.")
    return centre_out(centre)


@router.get("/sessions", response_model=Page[SessionOut])
def list_sessions(
    programme: Optional[str] = None,
    centre: Optional[str] = None,
    city: Optional[str] = Query(None, description="Matches regardless of case and accents."),
    region: Optional[str] = None,
    status_: Optional[SessionStatus] = Query(None, alias="status"),
    from_: Optional[dt.date] = Query(None, alias="from", description="Only sessions starting on or after this date."),
    paging: Paging = Depends(),
    db: Session = Depends(db_session),
) -> Page[SessionOut]:
    query = db.query(TrainingSession).join(Centre, TrainingSession.centre_id == Centre.id)
    if programme:
        query = query.filter(TrainingSession.programme_id == programme)
    if centre:
        query = query.filter(TrainingSession.centre_id == centre)
    if city:
        query = query.filter(Centre.city_key == fold(city))
    if region:
        query = query.filter(Centre.region_id.in_(region_ids_matching(db, region)))
    if status_:
        query = query.filter(TrainingSession.status == status_.value)
    if from_:
        query = query.filter(TrainingSession.start_date >= from_)
    sessions = query.order_by(TrainingSession.start_date, TrainingSession.id).all()
    return paging.page([session_out(s) for s in sessions])


@router.get("/sessions/{session_id}", response_model=SessionOut)
def get_session(session_id: str, db: Session = Depends(db_session)) -> SessionOut:
    record = db.get(TrainingSession, session_id)
    if record is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"No session '{session_id}'.")
    return session_out(record)
