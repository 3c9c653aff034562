"""The staff write API. Every route needs the bearer token from ``REGISTRY_ADMIN_TOKEN``.

A field that staff set is real data from then on, so it leaves ``sample_fields``."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

import sqlalchemy as sa
from fastapi import APIRouter, Depends, HTTPException, status
from sqlalchemy.orm import Session

from registry.api.deps import db_session, require_staff
from registry.models import Centre, City, Programme, Region, TrainingSession, utcnow
from registry.schemas import (
    CentreCreate,
    CentreOut,
    CentreUpdate,
    ProgrammeCreate,
    ProgrammeOut,
    ProgrammeUpdate,
    SessionCreate,
    SessionOut,
    SessionStatus,
    SessionUpdate,
)
from registry.text import fold

router = APIRouter(prefix="/api/v1", tags=["write (staff)"], dependencies=[Depends(require_staff)])

ELIGIBILITY_COLUMNS = ("min_age", "max_age", "min_education_level", "other_conditions")


def _unprocessable(message: str) -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, message)


def _apply(record: Any, changes: Dict[str, Any]) -> None:
    """Write the changed columns, and drop them from the sample list unless the payload sets it."""
    explicit_sample_fields = changes.pop("sample_fields", None)
    for column, value in changes.items():
        setattr(record, column, _not_null(record, column, value))
    if explicit_sample_fields is not None:
        record.sample_fields = explicit_sample_fields
    else:
        record.sample_fields = [f for f in (record.sample_fields or []) if f not in changes]
    record.updated_at = utcnow()


def _not_null(record: Any, column: str, value: Any) -> Any:
    """A ``null`` for a required column: an empty list where a list is kept, else a clear refusal."""
    definition: Optional[sa.Column] = record.__table__.columns.get(column)
    if value is not None or definition is None or definition.nullable:
        return value
    if isinstance(definition.type, sa.JSON):
        return []
    raise _unprocessable(f"{column} cannot be null.")


def _programme_columns(payload: Dict[str, Any]) -> Dict[str, Any]:
    eligibility = payload.pop("eligibility", None)
    if eligibility is not None:
        payload.update({column: eligibility.get(column) for column in ELIGIBILITY_COLUMNS})
        payload["other_conditions"] = payload["other_conditions"] or []
    return payload


@router.post("/programmes", response_model=ProgrammeOut, status_code=status.HTTP_201_CREATED)
def create_programme(body: ProgrammeCreate, db: Session = Depends(db_session)) -> ProgrammeOut:
    if db.get(Programme, body.id) is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, f"Programme '{body.id}' already exists.")
    programme = Programme(
        id=body.id,
        aliases=[],
        sample_fields=[],
        other_conditions=[],
        required_documents=[],
        application_steps=[],
        careers=[],
    )
    _apply(programme, _programme_columns(body.dict(exclude={"id"}, exclude_unset=True)))
    db.add(programme)
    db.commit()
    return ProgrammeOut.from_orm(programme)


@router.patch("/programmes/{programme_id}", response_model=ProgrammeOut)
def update_programme(programme_id: str, body: ProgrammeUpdate, db: Session = Depends(db_session)) -> ProgrammeOut:
    programme = db.get(Programme, programme_id)
    if programme is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"No programme '{programme_id}'.")
    _apply(programme, _programme_columns(body.dict(exclude_unset=True)))
    db.commit()
    return ProgrammeOut.from_orm(programme)


def resolve_city(db: Session, text: str) -> City:
    """The registry's city that staff named: its id, its name or one of its spellings, accents and case aside."""
    city = db.get(City, text)
    if city is not None:
        return city
    wanted = fold(text)
    candidates = db.query(City).filter(City.name_key == wanted).all()
    if not candidates:
        candidates = [
            c for c in db.query(City).order_by(City.id) if wanted in {fold(a) for a in [c.id, *(c.aliases or [])]}
        ]
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise _unprocessable(
            f"Unknown city '{text}': a centre's city must be one of /api/v1/cities (its id, name or a spelling)."
        )
    raise _unprocessable(f"City '{text}' could be {', '.join(c.id for c in candidates)}: give the city's id.")


def _centre_city(db: Session, centre: Optional[Centre], payload: Dict[str, Any]) -> None:
    """A centre's region is its city's: a ``region`` in the payload is checked against it, never stored."""
    region_id = payload.pop("region", None)
    if "city" in payload:
        if payload["city"] is None:
            raise _unprocessable("city cannot be null.")
        payload["city"] = resolve_city(db, payload["city"])
    city: Optional[City] = payload.get("city") or (centre.city if centre is not None else None)
    if region_id is None:
        return
    if db.get(Region, region_id) is None:
        raise _unprocessable(f"Unknown region '{region_id}'; see /api/v1/regions.")
    if city is not None and city.region_id != region_id:
        raise _unprocessable(
            f"City '{city.name}' is in region '{city.region_id}', not '{region_id}': a centre's region is its city's."
        )


def _centre_columns(db: Session, centre: Optional[Centre], payload: Dict[str, Any]) -> Dict[str, Any]:
    _centre_city(db, centre, payload)
    if "kind" in payload and payload["kind"] is not None:
        payload["kind"] = payload["kind"].value
    if "programmes" in payload:
        ids: List[str] = payload.pop("programmes") or []
        programmes = [db.get(Programme, pid) for pid in ids]
        missing = [pid for pid, p in zip(ids, programmes, strict=True) if p is None]
        if missing:
            raise _unprocessable(f"Unknown programme(s): {', '.join(missing)}.")
        payload["programmes"] = programmes
    return payload


@router.post("/centres", response_model=CentreOut, status_code=status.HTTP_201_CREATED)
def create_centre(body: CentreCreate, db: Session = Depends(db_session)) -> CentreOut:
    if db.get(Centre, body.id) is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, f"Centre '{body.id}' already exists.")
    centre = Centre(id=body.id, sample_fields=[])
    _apply(centre, _centre_columns(db, None, body.dict(exclude={"id"}, exclude_unset=True)))
    db.add(centre)
    db.commit()
    return CentreOut.from_orm(centre)


@router.patch("/centres/{centre_id}", response_model=CentreOut)
def update_centre(centre_id: str, body: CentreUpdate, db: Session = Depends(db_session)) -> CentreOut:
    centre = db.get(Centre, centre_id)
    if centre is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"No centre '{centre_id}'.")
    _apply(centre, _centre_columns(db, centre, body.dict(exclude_unset=True)))
    db.commit()
    return CentreOut.from_orm(centre)


def _check_session(record: TrainingSession) -> None:
    if record.seats_left > record.seats_total:
        raise _unprocessable("seats_left cannot exceed seats_total.")
    if record.application_deadline > record.start_date:
        raise _unprocessable("application_deadline must be on or before start_date.")
    if record.status == SessionStatus.open.value and record.seats_left == 0:
        raise _unprocessable("A session with no seats left cannot be 'open': set status to 'full' or 'closed'.")


def _session_columns(payload: Dict[str, Any]) -> Dict[str, Any]:
    if payload.get("status") is not None:
        payload["status"] = payload["status"].value
    return payload


@router.post("/sessions", response_model=SessionOut, status_code=status.HTTP_201_CREATED)
def create_session(body: SessionCreate, db: Session = Depends(db_session)) -> SessionOut:
    centre = db.get(Centre, body.centre_id)
    if db.get(Programme, body.programme_id) is None:
        raise _unprocessable(f"Unknown programme '{body.programme_id}'.")
    if centre is None:
        raise _unprocessable(f"Unknown centre '{body.centre_id}'.")
    session_id = body.id or f"{body.programme_id}--{body.centre_id}--{body.start_date.isoformat()}"
    if db.get(TrainingSession, session_id) is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, f"Session '{session_id}' already exists.")
    record = TrainingSession(id=session_id, sample_fields=[])
    _apply(record, _session_columns(body.dict(exclude={"id"})))
    _check_session(record)
    db.add(record)
    db.commit()
    return SessionOut.from_orm(record)


@router.patch("/sessions/{session_id}", response_model=SessionOut)
def update_session(session_id: str, body: SessionUpdate, db: Session = Depends(db_session)) -> SessionOut:
    record = db.get(TrainingSession, session_id)
    if record is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"No session '{session_id}'.")
    _apply(record, _session_columns(body.dict(exclude_unset=True)))
    try:
        _check_session(record)
    except HTTPException:
        db.rollback()
        raise
    db.commit()
    return SessionOut.from_orm(record)
