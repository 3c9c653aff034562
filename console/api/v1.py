"""The JSON API, ``/api/v1``: the same data as the pages, authenticated by the same login; writes carry the
page's CSRF token in ``X-CSRF-Token``."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Dict, List, Optional

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from console import views
from console.annotations import AnnotationError, annotate, export_nlu_yaml, story_yaml
from console.api.deps import Console, NotFound, console, db, pseudonym, require
from console.filters import MAX_PAGE
from console.masking import mask, mask_many
from console.models import Annotation, User
from console.people import audit, erase_person, person_export
from console.review import ReviewError, update_review
from console.stats import StatsError, compute_stats, parse_range, stats_csv
from console.tracker import TrackerUnavailable
from console.transcript import reveal

router = APIRouter(prefix="/api/v1", tags=["console"])


def problem(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"detail": message, **extra}, status_code=status)


class ReviewIn(BaseModel):
    status: Optional[str] = Field(None, description="new, reviewed or needs_work")
    tags: Optional[List[str]] = None
    note: Optional[str] = None


class EntityIn(BaseModel):
    entity: str
    start: Optional[int] = None
    end: Optional[int] = None
    text: Optional[str] = Field(None, description="Instead of start/end: the entity's text in the masked message")
    value: Optional[str] = None


class AnnotationIn(BaseModel):
    event_id: int
    intent: str
    entities: List[EntityIn] = []


class RevealIn(BaseModel):
    event_id: int
    index: int = Field(..., ge=0, description="Which masked value of the message, from 0")
    reason: str = Field(..., min_length=5, max_length=500)


class EraseIn(BaseModel):
    confirm: bool = Field(..., description="Must be true: erasing cannot be undone")


def _public(listing: Dict[str, Any]) -> Dict[str, Any]:
    return {k: v for k, v in listing.items() if not k.startswith("_")}


@router.get("/conversations")
def conversations(
    request: Request, user: User = Depends(require()), session: Session = Depends(db), ctx: Console = Depends(console)
) -> Any:
    """Sessions, newest activity first. Filters: date_from, date_to (YYYY-MM-DD), channel, register, intent,
    had_fallback, asked_adviser, verdict_given (yes/no), status, tag, q (free text), min_length, page."""
    listing = views.list_conversations(ctx, session, request.query_params)
    if listing["errors"]:
        return problem(400, "Some filters could not be read.", errors=listing["errors"])
    return _public(listing)


@router.get("/conversations/{session_id}")
def conversation(
    session_id: int,
    page: int = Query(1, ge=1),
    user: User = Depends(require()),
    session: Session = Depends(db),
    ctx: Console = Depends(console),
) -> Any:
    return views.conversation_detail(ctx, session, session_id, page)


@router.post("/conversations/{session_id}/review")
def review(
    session_id: int,
    body: ReviewIn,
    user: User = Depends(require()),
    session: Session = Depends(db),
) -> Any:
    views.get_session(session, session_id)
    try:
        state = update_review(session, session_id, user.username, body.status, body.tags, body.note)
    except ReviewError as error:
        return problem(422, str(error))
    session.commit()
    note = mask(state.note) if state.note else ""
    return {"status": state.status, "tags": state.tags, "note": note, "updated_by": state.updated_by}


def do_annotate(
    ctx: Console,
    session: Session,
    user: User,
    session_id: int,
    event_id: int,
    intent: str,
    entities: List[Dict[str, Any]],
) -> Annotation:
    event = views.user_message(ctx, session, session_id, event_id)
    masked = mask(str(event.data.get("text") or ""))
    predicted = event.intent_name
    annotation = annotate(
        session, ctx.choices, session_id, event_id, masked, predicted, intent, entities, user.username
    )
    session.commit()
    return annotation


@router.post("/conversations/{session_id}/annotations")
def add_annotation(
    session_id: int,
    body: AnnotationIn,
    user: User = Depends(require()),
    session: Session = Depends(db),
    ctx: Console = Depends(console),
) -> Any:
    try:
        annotation = do_annotate(
            ctx,
            session,
            user,
            session_id,
            body.event_id,
            body.intent,
            [e.dict(exclude_none=True) for e in body.entities],
        )
    except AnnotationError as error:
        return problem(422, str(error))
    return {
        "event_id": annotation.event_id,
        "text": annotation.text,
        "intent": annotation.intent,
        "entities": annotation.entities,
    }


@router.get("/conversations/{session_id}/story")
def story(
    session_id: int, user: User = Depends(require()), session: Session = Depends(db), ctx: Console = Depends(console)
) -> Response:
    """The session as a test story (tests/stories/ format), masked, with the annotated intents."""
    row = views.get_session(session, session_id)
    events = ctx.reader.session_events(row.sender_id, row.id, row.last_event_id)
    users = [e for e in events if e.type_name == "user"]
    masked = dict(zip([e.id for e in users], mask_many([str(e.data.get("text") or "") for e in users]), strict=True))
    corrections = {
        a.event_id: a
        for a in session.execute(sa.select(Annotation).where(Annotation.session_id == session_id)).scalars()
    }
    body = story_yaml(f"session {session_id} ({pseudonym(row.sender_id)})", events, masked, corrections)
    return Response(
        body,
        media_type="application/x-yaml",
        headers={"Content-Disposition": f'attachment; filename="story-{session_id}.yml"'},
    )


def do_reveal(
    ctx: Console, session: Session, user: User, session_id: int, event_id: int, index: int, reason: str
) -> Dict[str, str]:
    event = views.user_message(ctx, session, session_id, event_id)
    found = reveal(str(event.data.get("text") or ""), index)
    if found is None:
        raise NotFound("That message has no such masked value.")
    kind, value = found
    audit(session, user.username, "reveal", session_id, event_id=event_id, index=index, kind=kind, reason=reason)
    session.commit()
    return {"kind": kind, "value": value}


@router.post("/conversations/{session_id}/reveal")
def reveal_value(
    session_id: int,
    body: RevealIn,
    user: User = Depends(require("supervisor")),
    session: Session = Depends(db),
    ctx: Console = Depends(console),
) -> Any:
    """Supervisors: one masked value of one message, as written; the reason goes to the audit log."""
    return do_reveal(ctx, session, user, session_id, body.event_id, body.index, body.reason.strip())


def do_person_export(ctx: Console, session: Session, user: User, session_id: int) -> Response:
    row = views.get_session(session, session_id)
    data = person_export(session, ctx.reader, row.sender_id)
    audit(session, user.username, "export_person", session_id, sessions=len(data["sessions"]))
    session.commit()
    return Response(
        json.dumps(data, ensure_ascii=False, indent=2),
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="conversation-{pseudonym(row.sender_id)}.json"',
            "Cache-Control": "no-store",
        },
    )


@router.post("/conversations/{session_id}/person-export")
def export_person(
    session_id: int,
    user: User = Depends(require("supervisor")),
    session: Session = Depends(db),
    ctx: Console = Depends(console),
) -> Response:
    """Supervisors: everything kept about the person who wrote this conversation (law 09-08 right of access).
    It is the person's own data, so it is not masked; the export is audited."""
    return do_person_export(ctx, session, user, session_id)


def do_erase(ctx: Console, session: Session, user: User, session_id: int) -> Dict[str, int]:
    row = views.get_session(session, session_id)
    counts = erase_person(session, ctx.reader.engine, row.sender_id)
    audit(session, user.username, "erase_person", None, **counts)
    session.commit()
    ctx.indexer.reconcile_soon()
    return counts


@router.post("/conversations/{session_id}/erase")
def erase(
    session_id: int,
    body: EraseIn,
    user: User = Depends(require("supervisor")),
    session: Session = Depends(db),
    ctx: Console = Depends(console),
) -> Any:
    """Supervisors: erase the person's whole conversation (every session) from the tracker store and the console."""
    if not body.confirm:
        return problem(422, "Set confirm to true: erasing cannot be undone.")
    return do_erase(ctx, session, user, session_id)


def stats_for(ctx: Console, session: Session, raw_from: Optional[str], raw_to: Optional[str]) -> Dict[str, Any]:
    today = dt.datetime.now(ctx.tz).date()
    start, end = parse_range(raw_from, raw_to, today)
    views.index_status(ctx)
    return compute_stats(session, ctx.reader, start, end, ctx.tz)


@router.get("/stats")
def stats(
    from_: Optional[str] = Query(None, alias="from"),
    to: Optional[str] = Query(None),
    format: str = Query("json", regex="^(json|csv)$"),
    user: User = Depends(require()),
    session: Session = Depends(db),
    ctx: Console = Depends(console),
) -> Any:
    """The analytics figures for from..to (YYYY-MM-DD, both included; the last 30 days by default)."""
    try:
        figures = stats_for(ctx, session, from_, to)
    except StatsError as error:
        return problem(400, str(error))
    if format == "csv":
        return Response(
            stats_csv(figures),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="tawjih-stats-{figures["from"]}-{figures["to"]}.csv"'
            },
        )
    return figures


@router.get("/stats.csv")
def stats_as_csv(
    from_: Optional[str] = Query(None, alias="from"),
    to: Optional[str] = Query(None),
    user: User = Depends(require()),
    session: Session = Depends(db),
    ctx: Console = Depends(console),
) -> Any:
    return stats(from_, to, "csv", user, session, ctx)


@router.get("/export/nlu")
def export_nlu(
    since: Optional[dt.date] = Query(None, description="Only annotations made on or after this date"),
    user: User = Depends(require()),
    session: Session = Depends(db),
    ctx: Console = Depends(console),
) -> Response:
    """The annotations as Rasa NLU training data (YAML, Rasa's writer), masked."""
    return Response(
        export_nlu_yaml(session, since, ctx.tz),
        media_type="application/x-yaml",
        headers={"Content-Disposition": 'attachment; filename="nlu-annotations.yml"'},
    )


@router.get("/audit")
def audit_log(
    page: int = Query(1, ge=1, le=MAX_PAGE),
    user: User = Depends(require("supervisor")),
    session: Session = Depends(db),
    ctx: Console = Depends(console),
) -> Any:
    rows = views.audit_entries(session, page)
    # A reason is typed by staff and may name someone: masked like everything else.
    reasons = mask_many([str(r.detail.get("reason", "")) for r in rows])
    return {
        "data": [
            {
                "at": views.when(r.at, ctx.tz),
                "by": r.username,
                "action": r.action,
                "session_id": r.session_id,
                "detail": {**r.detail, "reason": reason} if "reason" in r.detail else r.detail,
            }
            for r, reason in zip(rows, reasons, strict=True)
        ],
        "page": page,
    }


__all__ = ["TrackerUnavailable", "router"]
