"""The handoff API: the advisers' inbox (``/api/v1/handoffs``, same login and CSRF rules as the rest of the
API; advisers, supervisors and admins, not reviewers), its live stream, canned replies, advisers' regions, and
the internal route the action server calls when a person asks for an adviser (``/internal/v1/handoffs``,
with HANDOFF_SERVICE_TOKEN as a Bearer token).

Every read of a request and every change is written to the audit log, with ids only."""

from __future__ import annotations

import asyncio
import datetime as dt
import hmac
import json
import logging
import time
from dataclasses import dataclass
from typing import Any, AsyncIterator, Dict, List, Optional, Tuple

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, Field, validator
from sqlalchemy.orm import Session, sessionmaker

from console.api.deps import Console, Forbidden, NotFound, NotLoggedIn, check_csrf, console, current_user, db
from console.api.deps import pseudonym as conversation_pseudonym
from console.auth import HANDOFF_ROLES, has_role, may_handle_handoffs, user_for_login
from console.handoff import service
from console.handoff.hours import OpeningHours
from console.handoff.rasa_api import RasaClient
from console.handoff.summary import context_of
from console.handoff.watcher import HandoffWatcher
from console.masking import mask_many
from console.models import (
    ALL_REGIONS,
    OPEN_STATUSES,
    REGISTERS,
    CannedReply,
    ConversationSession,
    Handoff,
    HandoffLogEntry,
    HandoffMessage,
    User,
)
from console.people import audit

logger = logging.getLogger("console.handoff")
router = APIRouter(prefix="/api/v1", tags=["handoffs"])
internal = APIRouter(prefix="/internal/v1", tags=["internal"])

HEARTBEAT_SECONDS = 15.0
# A stream ends after this; EventSource reconnects by itself with Last-Event-ID, losing nothing.
STREAM_SECONDS = 600.0
STREAM_BATCH = 200
LIST_LIMIT = 200
LAST_SHOWN = 3  # the person's last messages on each request of the inbox


@dataclass
class HandoffContext:
    """What the handoff routes share, built once by ``create_app``."""

    rasa: RasaClient
    hours: OpeningHours
    wait_minutes: float
    service_token: str
    poll_seconds: float
    watcher: HandoffWatcher


def handoff_context(request: Request) -> HandoffContext:
    return request.app.state.handoffs  # type: ignore[no-any-return]


def problem(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"detail": message, **extra}, status_code=status)


def refused(error: service.HandoffError) -> JSONResponse:
    return problem(error.status, error.message, **error.extra)


def adviser() -> Any:
    """A signed-in adviser, supervisor or admin (not a reviewer); a state-changing request carries the CSRF
    token."""

    async def dependency(request: Request, user: User = Depends(current_user)) -> User:
        if not may_handle_handoffs(user.role):
            raise Forbidden("This needs the adviser role (or supervisor).")
        await check_csrf(request)
        return user

    return dependency


def staff(role: str) -> Any:
    async def dependency(request: Request, user: User = Depends(current_user)) -> User:
        if not has_role(user.role, role):
            raise Forbidden(f"This needs the {role} role.")
        await check_csrf(request)
        return user

    return dependency


# --- bodies ---------------------------------------------------------------------------------------------------
class HandoffRequestIn(BaseModel):
    conversation_id: str = Field(..., min_length=1, max_length=255)
    channel: Optional[str] = Field(None, max_length=64)
    # "register" is a name pydantic keeps for itself: read under an alias.
    register_: Optional[str] = Field(None, alias="register", max_length=32)
    region: Optional[str] = Field(None, max_length=64)
    city: Optional[str] = Field(None, max_length=64)
    programme: Optional[str] = Field(None, max_length=128)
    eligibility: Dict[str, Any] = Field(default_factory=dict)
    verdict: Optional[str] = Field(None, max_length=16)
    reason: Optional[str] = Field(None, max_length=32)

    @validator("eligibility")
    def _small(cls, value: Dict[str, Any]) -> Dict[str, Any]:
        if len(value) > 30 or len(json.dumps(value, default=str)) > 4000:
            raise ValueError("too large")
        return value

    @validator("register_")
    def _known_register(cls, value: Optional[str]) -> Optional[str]:
        return value if value in REGISTERS else None

    @validator("region")
    def _slug(cls, value: Optional[str]) -> Optional[str]:
        return value if value and service.SLUG.match(value) else None


class MessageIn(BaseModel):
    text: Optional[str] = Field(None, max_length=4096)
    template: Optional[str] = Field(None, max_length=64)


class NoteIn(BaseModel):
    text: str = Field(..., min_length=1, max_length=4000)


class TransferIn(BaseModel):
    adviser_id: Optional[int] = None
    region: Optional[str] = Field(None, max_length=64)


class CloseIn(BaseModel):
    outcome: str = Field(..., description="answered, referred or no_reply")


class CannedIn(BaseModel):
    register_: str = Field(..., alias="register")
    title: str = Field(..., min_length=1, max_length=80)
    text: str = Field(..., min_length=1, max_length=4096)

    @validator("register_")
    def _known_register(cls, value: str) -> str:
        if value not in REGISTERS:
            raise ValueError(f"one of {', '.join(REGISTERS)}")
        return value


class RegionsIn(BaseModel):
    regions: List[str]


# --- the internal API (the action server) ---------------------------------------------------------------------
def service_token_ok(given: Optional[str], expected: str) -> bool:
    scheme, _, token = (given or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), expected.encode())


def service_caller(
    authorization: Optional[str] = Header(None), hctx: HandoffContext = Depends(handoff_context)
) -> None:
    """The action server, by its Bearer token (checked before the body is read: a stranger learns nothing)."""
    if not service_token_ok(authorization, hctx.service_token):
        raise HTTPException(401, "A valid service token is needed.", headers={"WWW-Authenticate": "Bearer"})


@internal.post("/handoffs", include_in_schema=False, dependencies=[Depends(service_caller)])
def request_adviser(
    body: HandoffRequestIn,
    session: Session = Depends(db),
    hctx: HandoffContext = Depends(handoff_context),
) -> Any:
    """A person asked for an adviser (the action server): queued, or the request already open for them."""
    now = time.time()
    at = dt.datetime.fromtimestamp(now, hctx.hours.tz)
    open_now = hctx.hours.is_open(at)
    next_opening = None if open_now else hctx.hours.next_opening(at)
    request = service.Request(
        conversation_id=body.conversation_id,
        channel=body.channel,
        register=body.register_,
        region=body.region,
        city=body.city,
        programme=body.programme,
        eligibility=body.eligibility,
        verdict=body.verdict,
        reason=body.reason,
    )
    handoff, created = service.request_handoff(session, request, open_now, now, prepare=hctx.watcher.begin_now)
    position = service.queue_position(session, handoff)
    return JSONResponse(
        {
            "id": handoff.id,
            "status": handoff.status,
            "open_now": open_now,
            "position": position,
            "estimate_minutes": service.estimate_minutes(session, handoff, position, now) if open_now else None,
            # None when open now, and when no opening is set at all ("closed").
            "next_opening": next_opening.isoformat(timespec="minutes") if next_opening else None,
            "wait_minutes": hctx.wait_minutes,
        },
        status_code=201 if created else 200,
    )


# --- what the inbox shows -------------------------------------------------------------------------------------
def _when(timestamp: Optional[float], ctx: Console) -> Optional[str]:
    return service.when(timestamp, ctx.tz)


def item(session: Session, ctx: Console, handoff: Handoff, names: Dict[int, str], now: float) -> Dict[str, Any]:
    summary = handoff.summary or {}
    return {
        "id": handoff.id,
        "status": handoff.status,
        "urgent": bool(handoff.urgent),
        "conversation": conversation_pseudonym(handoff.conversation_id),
        "channel": handoff.channel,
        "register": handoff.register,
        "region": handoff.region,
        "city": handoff.city,
        "programme": handoff.programme,
        "verdict": summary.get("verdict"),
        "reason": summary.get("reason"),
        "eligibility": summary.get("eligibility") or {},
        "last_messages": last_messages(session, ctx, handoff),
        "created_at": _when(handoff.created_at, ctx),
        "waited_seconds": round(_waited_until(handoff, now) - handoff.created_at, 1),
        "within_hours": bool(handoff.within_hours),
        "bot_active": bool(handoff.bot_active),
        "timed_out": handoff.timed_out_at is not None,
        "adviser": {"id": handoff.adviser_id, "username": names.get(handoff.adviser_id)}
        if handoff.adviser_id
        else None,
        "unread": handoff.unread or 0,
        "position": service.queue_position(session, handoff) if handoff.status == "queued" else None,
        "last_inbound_at": _when(handoff.last_inbound_at, ctx),
        "claimed_at": _when(handoff.claimed_at, ctx),
        "first_reply_at": _when(handoff.first_reply_at, ctx),
        "closed_at": _when(handoff.closed_at, ctx),
        "outcome": handoff.outcome,
    }


def last_messages(session: Session, ctx: Console, handoff: Handoff) -> List[Dict[str, Any]]:
    """The person's last few messages, before the request and since (all masked when stored)."""
    since = session.execute(
        sa.select(HandoffMessage.at, HandoffMessage.kind, HandoffMessage.text)
        .where(HandoffMessage.handoff_id == handoff.id, HandoffMessage.direction == "in")
        .order_by(HandoffMessage.id.desc())
        .limit(LAST_SHOWN)
    ).all()
    before = [(m["at"], m["kind"], m["text"]) for m in (handoff.summary or {}).get("last_messages") or []]
    found = before + list(reversed(since))
    return [{"at": _when(at, ctx), "kind": kind, "text": text} for at, kind, text in found[-LAST_SHOWN:]]


def told(not_told: Optional[service.RasaError]) -> Dict[str, Any]:
    """Whether the person was told (an adviser is here, the bot is back), and if not, why: their channel could
    not take the notice (a closed tab, WhatsApp's 24 hours); the change was made all the same."""
    if not_told is None:
        return {"person_told": True, "not_told_reason": None, "not_told_code": None}
    return {"person_told": False, "not_told_reason": not_told.reason, "not_told_code": not_told.code}


def _waited_until(handoff: Handoff, now: float) -> float:
    """Until an adviser took it, or it was closed untaken, or now."""
    if handoff.status == "queued":
        return now
    return float(handoff.claimed_at or handoff.closed_at or now)


def visible_handoff(session: Session, user: User, handoff_id: int) -> Handoff:
    handoff = session.get(Handoff, handoff_id) if 0 < handoff_id < 2**31 else None
    if handoff is None or not service.can_see(session, user, handoff):
        raise NotFound("No such handoff (or it is not in your regions, or the person erased their data).")
    return handoff


@router.get("/handoffs/stream")
async def stream(
    request: Request,
    last_event_id: Optional[str] = Header(None),
    after: Optional[int] = Query(None, ge=0, description="Start after this log id (else Last-Event-ID, else now)"),
) -> Any:
    """Server-sent events: one per new ``handoff_log`` entry this user may see (``id:`` is the entry's id, so
    EventSource resumes with Last-Event-ID), ``data:`` a JSON object without any text anyone wrote; a comment
    every 15 s keeps proxies from closing the connection."""
    ctx: Console = console(request)
    hctx = handoff_context(request)
    login = request.state.cookie.login
    user, regions = await run_in_threadpool(_stream_user, ctx.factory, login)
    start = after
    if last_event_id and last_event_id.strip().isdigit():
        start = int(last_event_id.strip())
    if start is None:
        start = await run_in_threadpool(_newest_log_id, ctx.factory)

    async def events() -> AsyncIterator[str]:
        cursor = int(start or 0)
        opened = last_beat = last_check = time.monotonic()
        yield "retry: 3000\n\n"
        nonlocal user, regions
        while time.monotonic() - opened < STREAM_SECONDS:
            if await request.is_disconnected():
                return
            rows = await run_in_threadpool(_log_after, ctx.factory, cursor)
            for row in rows:
                cursor = row.id
                if service.log_visible_to(user, regions, row):
                    yield f"id: {row.id}\ndata: {json.dumps(_log_item(row, ctx), ensure_ascii=False)}\n\n"
            now = time.monotonic()
            if now - last_check >= HEARTBEAT_SECONDS:
                last_check = now
                try:
                    user, regions = await run_in_threadpool(_stream_user, ctx.factory, login)
                except (NotLoggedIn, Forbidden):
                    yield "event: logout\ndata: {}\n\n"
                    return
            if now - last_beat >= HEARTBEAT_SECONDS:
                last_beat = now
                yield ": keepalive\n\n"
            await asyncio.sleep(hctx.poll_seconds if not rows else 0.05)

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def _stream_user(factory: sessionmaker, login: Optional[str]) -> Tuple[User, List[str]]:
    """Checked with a session of its own, closed at once: a stream must not hold a database connection."""
    with factory() as session:
        user = user_for_login(session, login)
        if user is None:
            raise NotLoggedIn()
        if not may_handle_handoffs(user.role):
            raise Forbidden("This needs the adviser role (or supervisor).")
        regions = service.regions_of(session, user.id)
        session.expunge(user)
        return user, regions


def _newest_log_id(factory: sessionmaker) -> int:
    with factory() as session:
        return int(session.execute(sa.select(sa.func.max(HandoffLogEntry.id))).scalar() or 0)


def _log_after(factory: sessionmaker, cursor: int) -> List[HandoffLogEntry]:
    with factory() as session:
        rows = list(
            session.execute(
                sa.select(HandoffLogEntry)
                .where(HandoffLogEntry.id > cursor)
                .order_by(HandoffLogEntry.id)
                .limit(STREAM_BATCH)
            ).scalars()
        )
        session.expunge_all()
        return rows


def _log_item(row: HandoffLogEntry, ctx: Console) -> Dict[str, Any]:
    return {
        "id": row.id,
        "at": _when(row.at, ctx),
        "kind": row.kind,
        "handoff_id": row.handoff_id,
        "region": row.region,
        "actor_id": row.actor_id,
        "detail": row.detail or {},
    }


@router.get("/handoffs")
def list_handoffs(
    status: Optional[str] = Query(None, regex="^(queued|assigned|closed)$"),
    user: User = Depends(adviser()),
    session: Session = Depends(db),
    ctx: Console = Depends(console),
) -> Any:
    """The requests this user may see: open ones by default (urgent first, then the oldest), or one status;
    closed ones newest first (the last 200)."""
    query = sa.select(Handoff)
    clause = service.visible_clause(session, user)
    if clause is not None:
        query = query.where(clause)
    if status is None:
        query = query.where(Handoff.status.in_(OPEN_STATUSES)).order_by(*service.listing_order())
    elif status == "closed":
        query = query.where(Handoff.status == "closed").order_by(Handoff.closed_at.desc(), Handoff.id.desc())
    else:
        query = query.where(Handoff.status == status).order_by(*service.listing_order())
    rows = list(session.execute(query.limit(LIST_LIMIT)).scalars())
    names = service.advisers_by_id(session, {r.adviser_id for r in rows})
    now = time.time()
    return {
        "data": [item(session, ctx, r, names, now) for r in rows],
        "count": len(rows),
        "regions": service.regions_of(session, user.id),
        "sees_everything": service.visible_clause(session, user) is None,
    }


@router.get("/handoffs/{handoff_id}")
def get_handoff(
    handoff_id: int,
    user: User = Depends(adviser()),
    session: Session = Depends(db),
    ctx: Console = Depends(console),
) -> Any:
    """One request: its context, the person's last messages before it, everything said since (masked), and
    whether a reply can go out now (and why not)."""
    handoff = visible_handoff(session, user, handoff_id)
    messages = list(
        session.execute(
            sa.select(HandoffMessage)
            .where(HandoffMessage.handoff_id == handoff.id)
            .order_by(HandoffMessage.at, HandoffMessage.id)
        ).scalars()
    )
    names = service.advisers_by_id(session, {handoff.adviser_id} | {m.author_id for m in messages})
    # Stored masked: the person's messages and Tawjih's. Staff's own (replies, notes) are masked when shown.
    staff_texts = [i for i, m in enumerate(messages) if m.author_id is not None]
    masked = dict(zip(staff_texts, mask_many([messages[i].text for i in staff_texts]), strict=True))
    session_id = session.execute(
        sa.select(sa.func.max(ConversationSession.id)).where(
            ConversationSession.sender_id == handoff.conversation_id, ConversationSession.erased.is_(False)
        )
    ).scalar()
    now = time.time()
    summary = context_of(handoff)
    detail = {
        **item(session, ctx, handoff, names, now),
        "summary": {**summary, "last_messages": [{**m, "at": _when(m["at"], ctx)} for m in summary["last_messages"]]},
        "session_id": session_id,
        "messages": [
            {
                "id": m.id,
                "at": _when(m.at, ctx),
                "direction": m.direction,
                "kind": m.kind,
                "text": masked.get(i, m.text),
                "author": {"id": m.author_id, "username": names.get(m.author_id)} if m.author_id else None,
                "state": m.state,
                "reason": m.reason,
                "code": m.code,
            }
            for i, m in enumerate(messages)
        ],
        "reply": service.reply_options(handoff, now),
    }
    service.mark_read(session, handoff, user)
    audit(session, user.username, "handoff_read", None, handoff_id=handoff.id)
    session.commit()
    return detail


@router.post("/handoffs/{handoff_id}/claim")
def claim(
    handoff_id: int,
    user: User = Depends(adviser()),
    session: Session = Depends(db),
    ctx: Console = Depends(console),
    hctx: HandoffContext = Depends(handoff_context),
) -> Any:
    """Take a queued request. Atomic: of two advisers at once, one gets it, the other 409. The person is told
    through Rasa; if Rasa cannot, the request goes back to the queue (503)."""
    handoff = visible_handoff(session, user, handoff_id)
    if handoff.status != "queued":
        message = "Already taken by another adviser." if handoff.status == "assigned" else "This request is closed."
        return problem(409, message)
    try:
        taken, not_told = service.claim_and_tell(session, hctx.rasa, handoff, user, user)
    except service.HandoffError as error:
        if isinstance(error, service.RasaFailed):
            logger.warning("Handoff %d could not be taken: Rasa failed (%s).", handoff_id, error.extra.get("reason"))
        return refused(error)
    audit(session, user.username, "handoff_claim", None, handoff_id=taken.id)
    session.commit()
    return {**item(session, ctx, taken, {user.id: user.username}, time.time()), **told(not_told)}


@router.post("/handoffs/{handoff_id}/messages")
def send_message(
    handoff_id: int,
    body: MessageIn,
    user: User = Depends(adviser()),
    session: Session = Depends(db),
    hctx: HandoffContext = Depends(handoff_context),
) -> Any:
    """A reply to the person on their channel: ``{"text": ...}`` or ``{"template": "handoff"}``. Answers the
    delivery state: 200 ``sent``; 502 ``failed`` with the reason (and the platform's code), retry later."""
    if (body.text is None) == (body.template is None):
        return problem(422, 'Send either {"text": ...} or {"template": "handoff"}.')
    handoff = visible_handoff(session, user, handoff_id)
    try:
        message = service.start_reply(session, handoff, user, body.text, body.template, time.time())
    except service.HandoffError as error:
        return refused(error)
    return _deliver(session, hctx, handoff, message, user, "handoff_reply")


def _deliver(
    session: Session, hctx: HandoffContext, handoff: Handoff, message: HandoffMessage, user: User, action: str
) -> JSONResponse:
    service.deliver(session, hctx.rasa, handoff, message, user)
    audit(session, user.username, action, None, handoff_id=handoff.id, message_id=message.id, state=message.state)
    session.commit()
    answer = {"id": message.id, "state": message.state, "reason": message.reason, "code": message.code}
    if message.state != "sent":
        return JSONResponse(
            {**answer, "detail": f"The message was not delivered ({message.reason}); you can try again."},
            status_code=502,
        )
    return JSONResponse(answer)


@router.post("/handoffs/{handoff_id}/messages/{message_id}/retry")
def retry_message(
    handoff_id: int,
    message_id: int,
    user: User = Depends(adviser()),
    session: Session = Depends(db),
    hctx: HandoffContext = Depends(handoff_context),
) -> Any:
    handoff = visible_handoff(session, user, handoff_id)
    try:
        message = service.start_retry(session, handoff, message_id, user, time.time())
    except service.HandoffError as error:
        return refused(error)
    return _deliver(session, hctx, handoff, message, user, "handoff_retry")


@router.post("/handoffs/{handoff_id}/notes")
def add_note(
    handoff_id: int,
    body: NoteIn,
    user: User = Depends(adviser()),
    session: Session = Depends(db),
) -> Any:
    """An internal note: seen by staff only, never sent."""
    handoff = visible_handoff(session, user, handoff_id)
    try:
        note = service.add_note(session, handoff, user, body.text, time.time())
    except service.HandoffError as error:
        return refused(error)
    audit(session, user.username, "handoff_note", None, handoff_id=handoff.id, message_id=note.id)
    session.commit()
    return {"id": note.id, "direction": "note"}


@router.post("/handoffs/{handoff_id}/transfer")
def transfer(
    handoff_id: int,
    body: TransferIn,
    user: User = Depends(adviser()),
    session: Session = Depends(db),
    ctx: Console = Depends(console),
    hctx: HandoffContext = Depends(handoff_context),
) -> Any:
    """``{"region": slug}``: back to the queue for that region's advisers; ``{"adviser_id": id}``: to that
    adviser (a queued request is taken for them, and the person told, as a claim is)."""
    if (body.adviser_id is None) == (body.region is None):
        return problem(422, 'Send either {"adviser_id": ...} or {"region": ...}.')
    handoff = visible_handoff(session, user, handoff_id)
    if handoff.status == "assigned" and not service.may_write(user, handoff):
        return problem(403, "Only the adviser who took this request, or a supervisor, may transfer it.")
    if handoff.status == "closed":
        return problem(409, "This request is closed.")
    try:
        if body.region is not None:
            handoff = service.transfer_to_region(session, handoff, user, body.region.strip().lower(), time.time())
        else:
            target = session.get(User, body.adviser_id)
            if target is None or target.disabled or not may_handle_handoffs(target.role):
                return problem(422, "No such adviser (or they are disabled).")
            if handoff.status == "queued":
                handoff, _ = service.claim_and_tell(session, hctx.rasa, handoff, target, user)
            else:
                handoff = service.reassign(session, handoff, user, target, time.time())
    except service.HandoffError as error:
        return refused(error)
    audit(
        session,
        user.username,
        "handoff_transfer",
        None,
        handoff_id=handoff.id,
        to_adviser_id=body.adviser_id,
        to_region=body.region,
    )
    session.commit()
    names = service.advisers_by_id(session, {handoff.adviser_id})
    return item(session, ctx, handoff, names, time.time())


@router.post("/handoffs/{handoff_id}/close")
def close(
    handoff_id: int,
    body: CloseIn,
    user: User = Depends(adviser()),
    session: Session = Depends(db),
    ctx: Console = Depends(console),
    hctx: HandoffContext = Depends(handoff_context),
) -> Any:
    """Close with an outcome; Rasa tells the person the bot is back. If Rasa cannot, it stays open (503)."""
    handoff = visible_handoff(session, user, handoff_id)
    if not service.may_write(user, handoff):
        return problem(403, "Only the adviser who took this request, or a supervisor, may close it.")
    try:
        handoff, not_told = service.close_and_tell(session, hctx.rasa, handoff, user, body.outcome, time.time())
    except service.HandoffError as error:
        if isinstance(error, service.RasaFailed):
            logger.warning("Handoff %d could not be closed: Rasa failed (%s).", handoff_id, error.extra.get("reason"))
        return refused(error)
    audit(session, user.username, "handoff_close", None, handoff_id=handoff.id, outcome=body.outcome)
    session.commit()
    names = service.advisers_by_id(session, {handoff.adviser_id})
    return {**item(session, ctx, handoff, names, time.time()), **told(not_told)}


# --- canned replies, advisers and regions ---------------------------------------------------------------------
def _canned(row: CannedReply, ctx: Console) -> Dict[str, Any]:
    return {
        "id": row.id,
        "register": row.register,
        "title": row.title,
        "text": row.text,
        "updated_by": row.updated_by,
        "updated_at": _when(row.updated_at, ctx),
    }


@router.get("/canned-replies")
def canned_replies(
    register: Optional[str] = Query(None),
    user: User = Depends(adviser()),
    session: Session = Depends(db),
    ctx: Console = Depends(console),
) -> Any:
    query = sa.select(CannedReply).order_by(CannedReply.register, CannedReply.title, CannedReply.id)
    if register:
        query = query.where(CannedReply.register == register)
    return {"data": [_canned(r, ctx) for r in session.execute(query).scalars()]}


@router.post("/canned-replies", status_code=201)
def add_canned_reply(
    body: CannedIn,
    user: User = Depends(staff("supervisor")),
    session: Session = Depends(db),
    ctx: Console = Depends(console),
) -> Any:
    row = CannedReply(
        register=body.register_, title=body.title.strip(), text=body.text.strip(), updated_by=user.username
    )
    row.updated_at = time.time()
    session.add(row)
    session.flush()
    audit(session, user.username, "canned_reply_add", None, canned_reply_id=row.id)
    session.commit()
    return _canned(row, ctx)


@router.put("/canned-replies/{reply_id}")
def change_canned_reply(
    reply_id: int,
    body: CannedIn,
    user: User = Depends(staff("supervisor")),
    session: Session = Depends(db),
    ctx: Console = Depends(console),
) -> Any:
    row = session.get(CannedReply, reply_id) if 0 < reply_id < 2**31 else None
    if row is None:
        raise NotFound("No such canned reply.")
    row.register, row.title, row.text = body.register_, body.title.strip(), body.text.strip()
    row.updated_by, row.updated_at = user.username, time.time()
    audit(session, user.username, "canned_reply_change", None, canned_reply_id=row.id)
    session.commit()
    return _canned(row, ctx)


@router.delete("/canned-replies/{reply_id}")
def delete_canned_reply(
    reply_id: int,
    user: User = Depends(staff("supervisor")),
    session: Session = Depends(db),
) -> Any:
    row = session.get(CannedReply, reply_id) if 0 < reply_id < 2**31 else None
    if row is None:
        raise NotFound("No such canned reply.")
    session.delete(row)
    audit(session, user.username, "canned_reply_delete", None, canned_reply_id=reply_id)
    session.commit()
    return {"deleted": reply_id}


@router.get("/regions")
def regions(user: User = Depends(adviser())) -> Any:
    """The regions a request can be routed to (the registry's catalogue), and ``all``."""
    return {"data": list(service.known_regions()), "all": ALL_REGIONS}


@router.get("/advisers")
def advisers(user: User = Depends(adviser()), session: Session = Depends(db)) -> Any:
    """Who can take requests (advisers, supervisors, admins), with their regions and whether they are logged in."""
    now = time.time()
    rows = session.execute(
        sa.select(User).where(User.role.in_(HANDOFF_ROLES), User.disabled.is_(False)).order_by(User.username)
    ).scalars()
    online = set(service.online_user_ids(session, now))
    return {
        "data": [
            {
                "id": u.id,
                "username": u.username,
                "role": u.role,
                "regions": service.regions_of(session, u.id),
                "online": u.id in online,
            }
            for u in rows
        ]
    }


@router.put("/users/{user_id}/regions")
def set_user_regions(
    user_id: int,
    body: RegionsIn,
    user: User = Depends(staff("admin")),
    session: Session = Depends(db),
) -> Any:
    """Admins: the regions whose requests this user answers (``["all"]`` for every region)."""
    target = session.get(User, user_id) if 0 < user_id < 2**31 else None
    if target is None:
        raise NotFound("No such user.")
    try:
        wanted = service.parse_regions(",".join(body.regions))
    except ValueError as error:
        return problem(422, str(error))
    found = service.set_regions(session, target, wanted)
    audit(session, user.username, "adviser_regions", None, user_id=target.id, regions=found)
    session.commit()
    return {"user_id": target.id, "username": target.username, "regions": found}
