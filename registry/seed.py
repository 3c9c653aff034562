"""Idempotent seeding: inserts what is missing from the catalogue, never overwrites staff edits."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Dict, List, Optional

import yaml
from sqlalchemy.orm import Session

from registry.models import Centre, City, EducationLevel, Programme, Region, TrainingSession

CATALOGUE_PATH = Path(__file__).parent / "catalogue.yml"

CENTRE_KIND_LABELS = {"cmc": "Cité des Métiers et des Compétences", "code212": "Code 212"}
SAMPLE_OPENING_HOURS = "Lundi–vendredi, 8h30–16h30"
SESSIONS_PER_CENTRE = 2
SESSION_SAMPLE_FIELDS = ["start_date", "application_deadline", "seats_total", "seats_left", "status"]


def load_catalogue(path: Path = CATALOGUE_PATH) -> Dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def seed(
    session: Session, today: Optional[dt.date] = None, catalogue: Optional[Dict[str, Any]] = None
) -> Dict[str, int]:
    """Insert every catalogue record that is not there yet; return how many of each were added."""
    catalogue = catalogue or load_catalogue()
    today = today or dt.date.today()
    added = {"regions": 0, "cities": 0, "education_levels": 0, "programmes": 0, "centres": 0, "sessions": 0}

    def add_missing(model: Any, key: str, record_id: str, build: Any) -> Optional[Any]:
        if session.get(model, record_id) is not None:
            return None
        record = build()
        session.add(record)
        added[key] += 1
        return record

    for region in catalogue["regions"]:
        add_missing(
            Region,
            "regions",
            region["id"],
            lambda r=region: Region(
                id=r["id"],
                name_fr=r["name_fr"],
                name_ar=r["name_ar"],
                aliases=r["aliases"],
                sample_fields=[],
                source_note=None,
            ),
        )
    session.flush()

    cities = {city["id"]: city for city in catalogue["cities"]}
    for city in catalogue["cities"]:
        add_missing(
            City,
            "cities",
            city["id"],
            lambda c=city: City(
                id=c["id"],
                name=c["name"],
                name_ar=c["name_ar"],
                region_id=c["region"],
                latitude=c["lat"],
                longitude=c["lon"],
                aliases=c["aliases"],
                sample_fields=[],
            ),
        )

    for level in catalogue["education_levels"]:
        add_missing(
            EducationLevel,
            "education_levels",
            level["id"],
            lambda lv=level: EducationLevel(
                id=lv["id"],
                rank=lv["rank"],
                name_fr=lv["name_fr"],
                name_ar=lv["name_ar"],
                aliases=lv["aliases"],
                sample_fields=[],
            ),
        )
    session.flush()

    for programme in catalogue["programmes"]:
        fields = {k: v for k, v in programme.items()}
        add_missing(Programme, "programmes", programme["id"], lambda f=fields: Programme(**f))
    session.flush()

    regions = {region["id"]: region for region in catalogue["regions"]}
    for centre in catalogue["centres"]:
        city = cities[centre["city"]]
        record = add_missing(
            Centre, "centres", centre["id"], lambda c=centre, city=city: _build_centre(c, city, regions)
        )
        if record is not None:
            record.programmes = [session.get(Programme, pid) for pid in centre["programmes"]]
    session.flush()

    for index, (centre_id, programme_id) in enumerate(
        (c["id"], pid) for c in catalogue["centres"] for pid in c["programmes"]
    ):
        for number in range(1, SESSIONS_PER_CENTRE + 1):
            session_id = f"{programme_id}--{centre_id}--{number}"
            add_missing(
                TrainingSession,
                "sessions",
                session_id,
                lambda sid=session_id, i=index, n=number, c=centre_id, p=programme_id: _build_session(
                    sid, p, c, i, n, today
                ),
            )
    session.commit()
    return added


def _build_centre(centre: Dict[str, Any], city: Dict[str, Any], regions: Dict[str, Any]) -> Centre:
    kind = centre["kind"]
    if kind == "cmc":
        name = f"{CENTRE_KIND_LABELS[kind]} — {regions[city['region']]['name_fr']}"
        sample_fields = ["city", "address", "latitude", "longitude", "opening_hours"]
        source_note = "One Cité des Métiers et des Compétences per region (source); its city here is the regional capital, a sample value."
    else:
        name = f"{CENTRE_KIND_LABELS.get(kind, 'Centre')} — {city['name']}"
        sample_fields = ["address", "latitude", "longitude", "opening_hours"]
        source_note = "Code 212 centre named by the JobInTech source article."
    return Centre(
        id=centre["id"],
        name=name,
        kind=kind,
        city_id=city["id"],
        address=f"{city['name']} (adresse exacte à confirmer auprès du centre)",
        latitude=city["lat"],
        longitude=city["lon"],
        phone=None,
        email=None,
        opening_hours=SAMPLE_OPENING_HOURS,
        sample_fields=sample_fields,
        source_note=source_note,
    )


def _build_session(
    session_id: str, programme_id: str, centre_id: str, index: int, number: int, today: dt.date
) -> TrainingSession:
    """Sample sessions spread over the coming months, so there is always something current."""
    start = today + dt.timedelta(days=21 + 7 * (index % 6) + 84 * (number - 1))
    seats_total = 24 + 6 * (index % 3)
    full = number == 1 and index % 5 == 4
    seats_left = 0 if full else seats_total - (3 + 5 * (index % 4))
    return TrainingSession(
        id=session_id,
        programme_id=programme_id,
        centre_id=centre_id,
        start_date=start,
        application_deadline=start - dt.timedelta(days=10),
        seats_total=seats_total,
        seats_left=seats_left,
        status="full" if full else "open",
        sample_fields=SESSION_SAMPLE_FIELDS,
        source_note="Sample session computed from the seeding date.",
    )


def reset(session: Session) -> None:
    """Remove every record, for a fresh sample catalogue (development only)."""
    for model in (TrainingSession, Centre, Programme, EducationLevel, City, Region):
        if model is Centre:
            for centre in session.query(Centre).all():
                centre.programmes = []
            session.flush()
        session.query(model).delete()
    session.commit()


def counts(session: Session) -> Dict[str, int]:
    tables: List[Any] = [Region, City, EducationLevel, Programme, Centre, TrainingSession]
    return {model.__tablename__: session.query(model).count() for model in tables}
