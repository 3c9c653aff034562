"""The advisers' pages: the inbox, one handoff, the canned replies. Server-rendered shells whose scripts read and
write through the JSON API (``/api/v1/handoffs``), so that the browser and the API do exactly the same thing."""

from __future__ import annotations

import functools
from typing import Any, Dict, List, Tuple

import sqlalchemy as sa
import yaml
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from console.api.deps import Forbidden, NotFound, db, require
from console.api.pages import render
from console.auth import HANDOFF_ROLES, may_handle_handoffs
from console.handoff.service import can_see, known_regions
from console.models import ALL_REGIONS, AdviserRegion, Handoff, User
from language.catalogue import DEFAULT_CATALOGUE

router = APIRouter(include_in_schema=False)

REGISTER_NAMES = (
    ("french", "Français"),
    ("darija_latin", "Darija (lettres latines)"),
    ("darija_arabic", "Darija (arabe)"),
)


def adviser(user: User = Depends(require())) -> User:
    """An adviser or above: a reviewer ranks like an adviser but has no inbox."""
    if not may_handle_handoffs(user.role):
        raise Forbidden("Cette page est réservée aux conseillers.")
    return user


@functools.lru_cache(maxsize=1)
def catalogue_names() -> Dict[str, Dict[str, str]]:
    """French names of regions, cities, programmes and education levels by slug, so that pages show names, not ids."""
    with DEFAULT_CATALOGUE.open(encoding="utf-8") as handle:
        catalogue: Dict[str, Any] = yaml.safe_load(handle) or {}
    return {
        "regions": {r["id"]: r.get("name_fr") or r["id"] for r in catalogue.get("regions") or []},
        "cities": {c["id"]: c.get("name") or c["id"] for c in catalogue.get("cities") or []},
        "programmes": {p["id"]: p.get("name_fr") or p["id"] for p in catalogue.get("programmes") or []},
        "levels": {e["id"]: e.get("name_fr") or e["id"] for e in catalogue.get("education_levels") or []},
    }


def region_choices() -> List[Tuple[str, str]]:
    """Where a request can be routed: every region of the catalogue, by name, and ``all``."""
    names = catalogue_names()["regions"]
    regions = sorted(((slug, names.get(slug, slug)) for slug in known_regions()), key=lambda item: item[1])
    return [(ALL_REGIONS, "Toutes les régions"), *regions]


def regions_by_user(session: Session) -> Dict[int, List[str]]:
    found: Dict[int, List[str]] = {}
    for row in session.execute(sa.select(AdviserRegion).order_by(AdviserRegion.region)).scalars():
        found.setdefault(row.user_id, []).append(row.region)
    return found


def _advisers(session: Session) -> List[Dict[str, Any]]:
    regions = regions_by_user(session)
    users = session.execute(
        sa.select(User).where(User.role.in_(HANDOFF_ROLES), User.disabled.is_(False)).order_by(User.username)
    ).scalars()
    return [{"id": u.id, "username": u.username, "regions": regions.get(u.id, [])} for u in users]


@router.get("/handoffs")
def inbox(request: Request, user: User = Depends(adviser), session: Session = Depends(db)) -> Response:
    names = dict(region_choices())
    regions = [names.get(region, region) for region in regions_by_user(session).get(user.id, [])]
    return render(request, "inbox.html", regions=regions, names=catalogue_names())


@router.get("/handoffs/replies")
def canned_replies(request: Request, user: User = Depends(require("supervisor"))) -> Response:
    return render(request, "canned_replies.html", registers=REGISTER_NAMES)


@router.get("/handoffs/{handoff_id}")
def handoff_page(
    request: Request, handoff_id: int, user: User = Depends(adviser), session: Session = Depends(db)
) -> Response:
    handoff = session.get(Handoff, handoff_id) if 0 < handoff_id < 2**31 else None
    if handoff is None or not can_see(session, user, handoff):
        raise NotFound("Cette demande n'existe pas, plus, ou n'est pas dans tes régions.")
    return render(
        request,
        "handoff.html",
        handoff_id=handoff_id,
        advisers=[a for a in _advisers(session) if a["id"] != user.id],
        # A request goes to one region's advisers ("all" is for advisers, not for requests).
        regions=[choice for choice in region_choices() if choice[0] != ALL_REGIONS],
        names=catalogue_names(),
    )
