"""The server-rendered pages (Jinja2, plain forms). They call the same code as the JSON API (``views`` and the
``do_*`` functions of ``v1``); every form carries the CSRF token."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Dict, List, Optional

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from console import views
from console.annotations import AnnotationError
from console.api import v1
from console.api.deps import Console, NotFound, console, db, require
from console.auth import UserError, add_user, disable_user, has_role
from console.filters import MAX_PAGE
from console.masking import mask_many
from console.models import REVIEW_STATUSES, ROLES, User
from console.review import ReviewError, tags_in_use, update_review
from console.stats import StatsError
from console.tracker import TrackerUnavailable

router = APIRouter(include_in_schema=False)


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> Response:
    user = getattr(request.state, "user", None)
    base = {
        "request": request,
        "user": user,
        "is_supervisor": bool(user and has_role(user.role, "supervisor")),
        "is_admin": bool(user and has_role(user.role, "admin")),
        "flash": request.query_params.get("done"),
    }
    return request.app.state.templates.TemplateResponse(template, {**base, **context}, status_code=status_code)  # type: ignore[no-any-return]


@router.get("/")
def home(user: User = Depends(require())) -> Response:
    return RedirectResponse("/conversations", status_code=303)


@router.get("/conversations")
def conversation_list(
    request: Request, user: User = Depends(require()), session: Session = Depends(db), ctx: Console = Depends(console)
) -> Response:
    listing = views.list_conversations(ctx, session, request.query_params)
    found = listing["_filter"]
    return render(
        request,
        "list.html",
        listing=listing,
        found=found,
        statuses=REVIEW_STATUSES,
        intents=(*ctx.choices.intents, "nlu_fallback"),
        tags=tags_in_use(session),
        prev_url=f"/conversations?{found.query_string(page=listing['page'] - 1)}" if listing["page"] > 1 else None,
        next_url=f"/conversations?{found.query_string(page=listing['page'] + 1)}"
        if listing["page"] < listing["pages"]
        else None,
    )


def _conversation_page(
    request: Request,
    ctx: Console,
    session: Session,
    session_id: int,
    page: int = 1,
    message: Optional[str] = None,
    revealed: Optional[Dict[str, Any]] = None,
    status_code: int = 200,
) -> Response:
    detail = views.conversation_detail(ctx, session, session_id, page)
    return render(
        request,
        "conversation.html",
        status_code=status_code,
        detail=detail,
        session_id=session_id,
        statuses=REVIEW_STATUSES,
        intents=ctx.choices.intents,
        entities=ctx.choices.entities,
        tags=tags_in_use(session),
        message=message,
        revealed=revealed,
    )


@router.get("/conversations/{session_id}")
def conversation_page(
    request: Request,
    session_id: int,
    page: int = Query(1, ge=1),
    user: User = Depends(require()),
    session: Session = Depends(db),
    ctx: Console = Depends(console),
) -> Response:
    return _conversation_page(request, ctx, session, session_id, page)


@router.post("/conversations/{session_id}/review")
def review_form(
    request: Request,
    session_id: int,
    status: str = Form("new"),
    tags: str = Form(""),
    note: str = Form(""),
    user: User = Depends(require()),
    session: Session = Depends(db),
    ctx: Console = Depends(console),
) -> Response:
    views.get_session(session, session_id)
    try:
        update_review(session, session_id, user.username, status, tags.split(","), note)
    except ReviewError as error:
        session.rollback()
        return _conversation_page(request, ctx, session, session_id, message=str(error), status_code=422)
    session.commit()
    return RedirectResponse(f"/conversations/{session_id}?done=review", status_code=303)


def _entities_from_form(raw: str) -> List[Dict[str, str]]:
    """One entity a line, ``entity=text as it appears in the message``."""
    found = []
    for line in raw.splitlines():
        if not line.strip():
            continue
        name, separator, text = line.partition("=")
        if not separator:
            raise AnnotationError("Write each entity as entity=text, one a line.")
        found.append({"entity": name.strip(), "text": text.strip()})
    return found


@router.post("/conversations/{session_id}/annotations")
def annotation_form(
    request: Request,
    session_id: int,
    event_id: int = Form(...),
    intent: str = Form(...),
    entities: str = Form(""),
    page: int = Form(1),
    user: User = Depends(require()),
    session: Session = Depends(db),
    ctx: Console = Depends(console),
) -> Response:
    try:
        v1.do_annotate(ctx, session, user, session_id, event_id, intent, _entities_from_form(entities))
    except AnnotationError as error:
        session.rollback()
        return _conversation_page(request, ctx, session, session_id, page, message=str(error), status_code=422)
    return RedirectResponse(
        f"/conversations/{session_id}?page={page}&done=annotation#event-{event_id}", status_code=303
    )


@router.post("/conversations/{session_id}/reveal")
def reveal_form(
    request: Request,
    session_id: int,
    event_id: int = Form(...),
    index: int = Form(...),
    reason: str = Form(""),
    page: int = Form(1),
    user: User = Depends(require("supervisor")),
    session: Session = Depends(db),
    ctx: Console = Depends(console),
) -> Response:
    if len(reason.strip()) < 5:
        return _conversation_page(
            request,
            ctx,
            session,
            session_id,
            page,
            message="Donne une raison (5 caractères au moins).",
            status_code=422,
        )
    found = v1.do_reveal(ctx, session, user, session_id, event_id, index, reason.strip()[:500])
    revealed = {"event_id": event_id, "index": index, **found}
    response = _conversation_page(request, ctx, session, session_id, page, revealed=revealed)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/conversations/{session_id}/person-export")
def person_export_form(
    session_id: int,
    user: User = Depends(require("supervisor")),
    session: Session = Depends(db),
    ctx: Console = Depends(console),
) -> Response:
    return v1.do_person_export(ctx, session, user, session_id)


@router.get("/conversations/{session_id}/erase")
def erase_confirmation(
    request: Request,
    session_id: int,
    user: User = Depends(require("supervisor")),
    session: Session = Depends(db),
    ctx: Console = Depends(console),
) -> Response:
    row = views.get_session(session, session_id)
    others = session.execute(
        sa.select(sa.func.count()).where(views.ConversationSession.sender_id == row.sender_id)
    ).scalar_one()
    return render(request, "erase.html", session_id=session_id, sessions=others)


@router.post("/conversations/{session_id}/erase")
def erase_form(
    request: Request,
    session_id: int,
    confirm: str = Form(""),
    user: User = Depends(require("supervisor")),
    session: Session = Depends(db),
    ctx: Console = Depends(console),
) -> Response:
    if confirm.strip().upper() != "EFFACER":
        return render(
            request,
            "erase.html",
            status_code=422,
            session_id=session_id,
            sessions=None,
            message="Écris EFFACER pour confirmer.",
        )
    counts = v1.do_erase(ctx, session, user, session_id)
    return RedirectResponse(f"/conversations?done=erased-{counts['sessions']}", status_code=303)


@router.get("/conversations/{session_id}/story.yml")
def story_file(
    session_id: int, user: User = Depends(require()), session: Session = Depends(db), ctx: Console = Depends(console)
) -> Response:
    return v1.story(session_id, user, session, ctx)


@router.get("/export/nlu.yml")
def nlu_file(
    since: Optional[dt.date] = Query(None),
    user: User = Depends(require()),
    session: Session = Depends(db),
    ctx: Console = Depends(console),
) -> Response:
    return v1.export_nlu(since, user, session, ctx)


@router.get("/analytics")
def analytics(
    request: Request,
    from_: Optional[str] = Query(None, alias="from"),
    to: Optional[str] = Query(None),
    user: User = Depends(require()),
    session: Session = Depends(db),
    ctx: Console = Depends(console),
) -> Response:
    try:
        figures = v1.stats_for(ctx, session, from_, to)
        message = None
    except StatsError as error:
        figures, message = v1.stats_for(ctx, session, None, None), str(error)
    return render(
        request,
        "analytics.html",
        status_code=400 if message else 200,
        figures=figures,
        message=message,
    )


@router.get("/audit")
def audit_page(
    request: Request,
    page: int = Query(1, ge=1, le=MAX_PAGE),
    user: User = Depends(require("supervisor")),
    session: Session = Depends(db),
    ctx: Console = Depends(console),
) -> Response:
    rows = views.audit_entries(session, page)
    details = mask_many([json.dumps(r.detail, ensure_ascii=False) for r in rows])
    entries = [
        {"at": views.when(r.at, ctx.tz), "by": r.username, "action": r.action, "session_id": r.session_id, "detail": d}
        for r, d in zip(rows, details, strict=True)
    ]
    return render(request, "audit.html", entries=entries, page=page)


@router.get("/users")
def users_page(
    request: Request,
    user: User = Depends(require("admin")),
    session: Session = Depends(db),
    message: Optional[str] = None,
) -> Response:
    users = session.execute(sa.select(User).order_by(User.username)).scalars().all()
    from console.api.handoff_pages import region_choices, regions_by_user  # imports this module

    return render(
        request,
        "users.html",
        users=users,
        roles=ROLES,
        message=message,
        regions=regions_by_user(session),
        region_choices=region_choices(),
    )


@router.post("/users")
def add_user_form(
    request: Request,
    username: str = Form(...),
    role: str = Form(...),
    password: str = Form(...),
    user: User = Depends(require("admin")),
    session: Session = Depends(db),
) -> Response:
    try:
        add_user(session, username, role, password)
    except UserError as error:
        session.rollback()
        return users_page(request, user, session, message=str(error))
    session.commit()
    return RedirectResponse("/users?done=added", status_code=303)


@router.post("/users/{username}/disable")
def disable_user_form(
    username: str, user: User = Depends(require("admin")), session: Session = Depends(db)
) -> Response:
    try:
        disable_user(session, username)
    except UserError as error:
        raise NotFound(str(error)) from None
    session.commit()
    return RedirectResponse("/users?done=disabled", status_code=303)


__all__ = ["TrackerUnavailable", "router"]
