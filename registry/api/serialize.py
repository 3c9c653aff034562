"""ORM records to the public shapes of ``registry.schemas``."""

from __future__ import annotations

import datetime as dt
from typing import Optional

from registry.models import Centre, City, EducationLevel, Programme, Region, TrainingSession
from registry.schemas import (
    CentreOut,
    CityOut,
    EducationLevelOut,
    Eligibility,
    ProgrammeOut,
    RegionOut,
    SessionOut,
)


def _provenance(record: object) -> dict:
    updated_at = record.updated_at  # type: ignore[attr-defined]
    if updated_at.tzinfo is None:  # SQLite drops the zone; every timestamp is stored in UTC
        updated_at = updated_at.replace(tzinfo=dt.timezone.utc)
    return {
        "updated_at": updated_at,
        "sample_fields": list(record.sample_fields or []),  # type: ignore[attr-defined]
        "source_note": record.source_note,  # type: ignore[attr-defined]
    }


def region_out(region: Region) -> RegionOut:
    return RegionOut(
        id=region.id, name_fr=region.name_fr, name_ar=region.name_ar, aliases=region.aliases, **_provenance(region)
    )


def city_out(city: City) -> CityOut:
    return CityOut(
        id=city.id,
        name=city.name,
        name_ar=city.name_ar,
        region=city.region_id,
        latitude=city.latitude,
        longitude=city.longitude,
        aliases=city.aliases,
        **_provenance(city),
    )


def education_level_out(level: EducationLevel) -> EducationLevelOut:
    return EducationLevelOut(
        id=level.id,
        rank=level.rank,
        name_fr=level.name_fr,
        name_ar=level.name_ar,
        aliases=level.aliases,
        **_provenance(level),
    )


def programme_out(programme: Programme) -> ProgrammeOut:
    return ProgrammeOut(
        id=programme.id,
        name_fr=programme.name_fr,
        name_ar=programme.name_ar,
        aliases=programme.aliases or [],
        track=programme.track,
        description_fr=programme.description_fr or "",
        description_ar=programme.description_ar or "",
        duration_months=programme.duration_months,
        format=programme.format,
        teaching_language=programme.teaching_language,
        diploma=programme.diploma,
        cost_mad=programme.cost_mad,
        stipend_mad=programme.stipend_mad,
        eligibility=Eligibility(
            min_age=programme.min_age,
            max_age=programme.max_age,
            min_education_level=programme.min_education_level,
            other_conditions=programme.other_conditions or [],
        ),
        required_documents=programme.required_documents or [],
        application_steps=programme.application_steps or [],
        application_url=programme.application_url,
        careers=programme.careers or [],
        centre_ids=sorted(centre.id for centre in programme.centres),
        **_provenance(programme),
    )


def centre_out(centre: Centre, distance_km: Optional[float] = None) -> CentreOut:
    return CentreOut(
        id=centre.id,
        name=centre.name,
        kind=centre.kind,
        city=centre.city,
        region=centre.region_id,
        region_name=centre.region.name_fr,
        address=centre.address,
        latitude=centre.latitude,
        longitude=centre.longitude,
        phone=centre.phone,
        email=centre.email,
        opening_hours=centre.opening_hours,
        programmes=sorted(p.id for p in centre.programmes),
        distance_km=None if distance_km is None else round(distance_km, 1),
        **_provenance(centre),
    )


def session_out(session: TrainingSession) -> SessionOut:
    return SessionOut(
        id=session.id,
        programme_id=session.programme_id,
        programme_name=session.programme.name_fr,
        centre_id=session.centre_id,
        centre_name=session.centre.name,
        city=session.centre.city,
        region=session.centre.region_id,
        start_date=session.start_date,
        application_deadline=session.application_deadline,
        seats_total=session.seats_total,
        seats_left=session.seats_left,
        status=session.status,
        **_provenance(session),
    )
