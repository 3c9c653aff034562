"""The handoff's state machine: queued → assigned → closed, each transition one function that writes the row and
its ``handoff_log`` entry together, so that the live stream and the figures see every step. Steps that must tell
the person (claim, close, timeout) call Rasa between two short transactions, never inside one: a slow Rasa must
not hold a database lock.

The log holds ids, counts, reasons and outcomes, never what anyone wrote, nor a conversation id.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
import secrets
import statistics
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Set, Tuple

import sqlalchemy as sa
import yaml
from sqlalchemy.orm import Session

from console.auth import has_role
from console.handoff.rasa_api import RasaClient, RasaError
from console.models import (
    ALL_REGIONS,
    OPEN_STATUSES,
    AdviserRegion,
    Handoff,
    HandoffLogEntry,
    HandoffMessage,
    Login,
    User,
)

WHATSAPP_CHANNELS = frozenset({"whatsapp", "twilio_whatsapp"})
PUSHLESS_CHANNELS = frozenset({"rest"})
WINDOW_SECONDS = 24 * 3600
TEMPLATES = ("handoff",)
CLOSING_OUTCOMES = ("answered", "referred", "no_reply")
# The estimate's assumption when there is no recent claim to learn from.
DEFAULT_MINUTES_PER_REQUEST = 5.0
ESTIMATE_LOOKBACK_SECONDS = 14 * 86400
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


class HandoffError(Exception):
    """A refusal the API answers as is: ``status`` and a message for the adviser (no personal data)."""

    status = 409

    def __init__(self, message: str, status: Optional[int] = None, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        self.extra = extra


class NotVisible(HandoffError):
    status = 404


class RasaFailed(HandoffError):
    """Rasa could not tell the person: nothing changed."""

    status = 503


# --- who sees what --------------------------------------------------------------------------------------------
def sees_everything(user: User) -> bool:
    return has_role(user.role, "supervisor")


def regions_of(session: Session, user_id: int) -> List[str]:
    return sorted(session.execute(sa.select(AdviserRegion.region).where(AdviserRegion.user_id == user_id)).scalars())


def visible_clause(session: Session, user: User) -> Optional[Any]:
    """The WHERE clause of the handoffs this user sees, None for all: an adviser sees their regions' requests,
    those whose region is unknown, and those assigned to them; ``all`` and supervisors see every one."""
    if sees_everything(user):
        return None
    regions = regions_of(session, user.id)
    if ALL_REGIONS in regions:
        return None
    return sa.or_(Handoff.region.is_(None), Handoff.region.in_(regions), Handoff.adviser_id == user.id)


def can_see(session: Session, user: User, handoff: Handoff) -> bool:
    if sees_everything(user) or handoff.region is None or handoff.adviser_id == user.id:
        return True
    regions = regions_of(session, user.id)
    return ALL_REGIONS in regions or handoff.region in regions


def log_visible_to(user: User, regions: Sequence[str], entry: HandoffLogEntry) -> bool:
    """Whether a log entry is for this user's stream (the same rule as the handoffs themselves)."""
    if sees_everything(user) or ALL_REGIONS in regions or entry.region is None or entry.region in regions:
        return True
    detail = entry.detail or {}
    return user.id in (entry.actor_id, detail.get("adviser_id"), detail.get("from_adviser_id"))


@functools.lru_cache(maxsize=1)
def known_regions() -> Tuple[str, ...]:
    """The regions' slugs, from the registry's catalogue (the registry has no API to add regions)."""
    from language.catalogue import DEFAULT_CATALOGUE

    with DEFAULT_CATALOGUE.open(encoding="utf-8") as handle:
        catalogue: Dict[str, Any] = yaml.safe_load(handle) or {}
    return tuple(str(record["id"]) for record in catalogue.get("regions") or [] if record.get("id"))


def parse_regions(value: str) -> List[str]:
    """``casablanca-settat,oriental`` or ``all``; raises ValueError naming what is not a region."""
    regions = sorted({part.strip().lower() for part in value.split(",") if part.strip()})
    if not regions:
        raise ValueError("Give at least one region, or all.")
    if ALL_REGIONS in regions:
        return [ALL_REGIONS]
    unknown = [r for r in regions if r not in known_regions()]
    if unknown:
        raise ValueError(f"Unknown region(s): {', '.join(unknown)}. Known: {', '.join(known_regions())}, or all.")
    return regions


def set_regions(session: Session, user: User, regions: Iterable[str]) -> List[str]:
    wanted = sorted(set(regions))
    session.execute(sa.delete(AdviserRegion).where(AdviserRegion.user_id == user.id))
    for region in wanted:
        session.add(AdviserRegion(user_id=user.id, region=region))
    return wanted


# --- the log --------------------------------------------------------------------------------------------------
def record(
    session: Session,
    handoff: Handoff,
    kind: str,
    actor_id: Optional[int] = None,
    at: Optional[float] = None,
    **detail: Any,
) -> HandoffLogEntry:
    entry = HandoffLogEntry(
        at=time.time() if at is None else at,
        handoff_id=handoff.id,
        handoff_key=handoff.key,
        kind=kind,
        actor_id=actor_id,
        region=handoff.region,
        within_hours=handoff.within_hours,
        detail=detail,
    )
    session.add(entry)
    return entry


# --- a request comes in ---------------------------------------------------------------------------------------
@dataclass
class Request:
    conversation_id: str
    channel: Optional[str]
    register: Optional[str]
    region: Optional[str]
    city: Optional[str]
    programme: Optional[str]
    eligibility: Dict[str, Any]
    verdict: Optional[str]
    reason: Optional[str]


def open_handoff(session: Session, conversation_id: str) -> Optional[Handoff]:
    return session.execute(
        sa.select(Handoff).where(Handoff.conversation_id == conversation_id, Handoff.status.in_(OPEN_STATUSES))
    ).scalar_one_or_none()


def request_handoff(
    session: Session,
    request: Request,
    open_now: bool,
    now: float,
    prepare: Optional[Callable[[Session, Handoff], None]] = None,
) -> Tuple[Handoff, bool]:
    """The person asked for an adviser: a new queued request, or the one already open for this conversation
    (the action server may ask twice). ``prepare`` adds what is known of a new one before it is committed, so
    that the inbox hears of it complete. Returns the handoff and whether it is new; commits."""
    existing = open_handoff(session, request.conversation_id)
    if existing is not None:
        return existing, False
    handoff = Handoff(
        key=secrets.token_hex(16),
        conversation_id=request.conversation_id,
        channel=request.channel,
        register=request.register,
        region=request.region,
        city=request.city,
        programme=request.programme,
        summary={"eligibility": request.eligibility, "verdict": request.verdict, "reason": request.reason},
        status="queued",
        urgent=False,
        created_at=now,
        within_hours=open_now,
        bot_active=not open_now,
        # The person is asking now, in a message of theirs: WhatsApp's 24-hour window starts here.
        last_inbound_at=now,
        last_event_id=0,
        unread=0,
    )
    session.add(handoff)
    try:
        session.flush()
    except sa.exc.IntegrityError:
        # Another request for the same conversation won the race (the partial unique index): that one it is.
        session.rollback()
        existing = open_handoff(session, request.conversation_id)
        if existing is None:
            raise
        return existing, False
    record(session, handoff, "requested", at=now, channel=request.channel, reason=request.reason)
    if prepare is not None:
        prepare(session, handoff)
    session.commit()
    return handoff, True


def _ahead_clause(handoff: Handoff) -> Any:
    """Queued requests that the same advisers would take before this one (urgent first, then the oldest)."""
    earlier = sa.or_(
        Handoff.created_at < handoff.created_at,
        sa.and_(Handoff.created_at == handoff.created_at, Handoff.id < handoff.id),
    )
    order = (
        sa.or_(Handoff.urgent.is_(True), earlier) if not handoff.urgent else sa.and_(Handoff.urgent.is_(True), earlier)
    )
    same_queue = (
        sa.true() if handoff.region is None else sa.or_(Handoff.region == handoff.region, Handoff.region.is_(None))
    )
    return sa.and_(Handoff.status == "queued", Handoff.id != handoff.id, order, same_queue)


def queue_position(session: Session, handoff: Handoff) -> int:
    """1 = next to be taken; 0 once an adviser has it."""
    if handoff.status != "queued":
        return 0
    ahead = session.execute(sa.select(sa.func.count()).select_from(Handoff).where(_ahead_clause(handoff))).scalar_one()
    return int(ahead) + 1


def online_user_ids(session: Session, now: float) -> List[int]:
    """Users with a login that has not ended (nor been revoked)."""
    return list(
        session.execute(
            sa.select(sa.distinct(Login.user_id)).where(Login.revoked.is_(False), Login.expires_at > now)
        ).scalars()
    )


def live_advisers(session: Session, region: Optional[str], now: float) -> int:
    """Advisers of this region (or of all regions) with a login that has not ended."""
    query = (
        sa.select(sa.func.count(sa.distinct(User.id)))
        .select_from(User)
        .join(Login, Login.user_id == User.id)
        .where(User.role == "adviser", User.disabled.is_(False), Login.revoked.is_(False), Login.expires_at > now)
    )
    if region is not None:
        covered = sa.select(AdviserRegion.user_id).where(AdviserRegion.region.in_([region, ALL_REGIONS]))
        query = query.where(User.id.in_(covered))
    return int(session.execute(query).scalar_one())


def estimate_minutes(session: Session, handoff: Handoff, position: int, now: float) -> int:
    """How long until an adviser takes it, roughly: the median time advisers took to claim a request within
    opening hours over the last two weeks (5 minutes when there is none yet), times the requests ahead of it
    and this one (its position), shared among the advisers of its region who are logged in now (at least one,
    so that an empty office does not promise "right away"). Rounded up, at least one minute."""
    if position <= 0:
        return 0
    waits = [
        claimed - created
        for created, claimed in session.execute(
            sa.select(Handoff.created_at, Handoff.claimed_at).where(
                Handoff.claimed_at.is_not(None),
                Handoff.within_hours.is_(True),
                Handoff.created_at >= now - ESTIMATE_LOOKBACK_SECONDS,
            )
        )
        if claimed >= created
    ]
    per_request = statistics.median(waits) / 60 if waits else DEFAULT_MINUTES_PER_REQUEST
    advisers = max(1, live_advisers(session, handoff.region, now))
    return max(1, math.ceil(position * per_request / advisers))


# --- the adviser takes it -------------------------------------------------------------------------------------
def claim(session: Session, handoff_id: int, adviser: User, now: float) -> Handoff:
    """Atomic: only a queued request can be taken, by one adviser; the other is told. Commits."""
    won = session.execute(
        sa.update(Handoff)
        .where(Handoff.id == handoff_id, Handoff.status == "queued")
        .values(
            status="assigned",
            adviser_id=adviser.id,
            claimed_at=sa.func.coalesce(Handoff.claimed_at, now),
            bot_active=False,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    session.commit()
    if won != 1:
        raise HandoffError("Already taken by another adviser.", status=409)
    handoff = session.get(Handoff, handoff_id, populate_existing=True)
    assert handoff is not None
    return handoff


def undo_claim(
    session: Session, handoff_id: int, adviser_id: int, claimed_at: Optional[float], bot_active: bool
) -> None:
    """Rasa could not tell the person: the request goes back to the queue as it was. Commits."""
    session.execute(
        sa.update(Handoff)
        .where(Handoff.id == handoff_id, Handoff.status == "assigned", Handoff.adviser_id == adviser_id)
        .values(status="queued", adviser_id=None, claimed_at=claimed_at, bot_active=bot_active)
        .execution_options(synchronize_session=False)
    )
    session.commit()


def claim_and_tell(
    session: Session, rasa: RasaClient, handoff: Handoff, adviser: User, actor: User
) -> Tuple[Handoff, Optional[RasaError]]:
    """Take the request for ``adviser`` and have Rasa tell the person (``action_handoff_taken``). When the
    person's channel cannot take the notice (a closed tab, WhatsApp's 24 hours), the request is taken all the
    same and the refusal is returned (the adviser is told the person was not); when Rasa fails, the request
    goes back to the queue and ``RasaFailed`` says so."""
    claimed_at, bot_active = handoff.claimed_at, bool(handoff.bot_active)
    taken = claim(session, handoff.id, adviser, time.time())
    try:
        not_told = rasa.notify(taken.conversation_id, "action_handoff_taken", taken.channel)
    except RasaError as error:
        undo_claim(session, taken.id, adviser.id, claimed_at, bot_active)
        raise RasaFailed(
            "The person could not be told that an adviser is here (Rasa: "
            f"{error.reason}); the request stays in the queue.",
            reason=error.reason,
            code=error.code,
        ) from None
    taken = session.get(Handoff, handoff.id, populate_existing=True) or taken
    record(session, taken, "claimed", actor_id=actor.id, adviser_id=adviser.id, told=not_told is None)
    session.commit()
    return taken, not_told


# --- replies ---------------------------------------------------------------------------------------------------
def reply_options(handoff: Handoff, now: float) -> Dict[str, Any]:
    """Whether free text can go out now, and if not why, and which templates can (WhatsApp's 24-hour rule)."""
    templates: List[str] = list(TEMPLATES) if handoff.channel in WHATSAPP_CHANNELS else []
    why: Optional[str] = None
    if handoff.status == "closed":
        why = "closed"
    elif handoff.status != "assigned":
        why = "not_taken"
    elif handoff.channel in PUSHLESS_CHANNELS:
        why = "rest_channel"
    elif handoff.channel in WHATSAPP_CHANNELS and (
        handoff.last_inbound_at is None or now - handoff.last_inbound_at > WINDOW_SECONDS
    ):
        why = "outside_window"
    return {
        "can_reply": why is None,
        "why_not": why,
        "why_not_text": WHY_NOT.get(why or ""),
        "templates": templates if handoff.status == "assigned" else [],
        "window_ends_at": (handoff.last_inbound_at + WINDOW_SECONDS)
        if handoff.channel in WHATSAPP_CHANNELS and handoff.last_inbound_at
        else None,
    }


WHY_NOT = {
    "closed": "Cette demande est close.",
    "not_taken": "Prends d'abord la demande.",
    "rest_channel": "Cette conversation passe par l'API REST, qui ne peut pas recevoir de message envoyé par le "
    "conseiller : rien ne serait remis.",
    "outside_window": "Plus de 24 heures depuis le dernier message de la personne : WhatsApp n'accepte qu'un "
    "modèle de message approuvé.",
}


def may_write(user: User, handoff: Handoff) -> bool:
    return handoff.adviser_id == user.id or sees_everything(user)


def start_reply(
    session: Session, handoff: Handoff, author: User, text: Optional[str], template: Optional[str], now: float
) -> HandoffMessage:
    """Check the reply may go out, and write it as ``sending`` (committed) before Rasa is called: whatever
    happens next, the adviser sees it, and it is never shown as sent before it was."""
    from console.handoff.contact_details import contact_details_in

    if not may_write(author, handoff):
        raise HandoffError("Only the adviser who took this request, or a supervisor, may write here.", status=403)
    if handoff.status != "assigned":
        raise HandoffError(WHY_NOT["closed" if handoff.status == "closed" else "not_taken"], status=409)
    if handoff.channel in PUSHLESS_CHANNELS:
        raise HandoffError(WHY_NOT["rest_channel"], status=409, why_not="rest_channel")
    if template is not None:
        if template not in TEMPLATES:
            raise HandoffError(f"Unknown template; known: {', '.join(TEMPLATES)}.", status=422)
        if handoff.channel not in WHATSAPP_CHANNELS:
            raise HandoffError("Templates are for WhatsApp conversations.", status=422)
        body, kind = template, "template"
    else:
        body = (text or "").strip()
        if not body:
            raise HandoffError("The message is empty.", status=422)
        if len(body) > 4096:
            raise HandoffError("The message is longer than 4,096 characters (WhatsApp's limit).", status=422)
        options = reply_options(handoff, now)
        if options["why_not"] == "outside_window":
            raise HandoffError(WHY_NOT["outside_window"], status=409, why_not="outside_window", templates=["handoff"])
        found = contact_details_in(body)
        if found and not sees_everything(author):
            raise HandoffError(
                "Refused: the message contains contact details ("
                + ", ".join(sorted(set(found)))
                + "). Advisers do not move people off the platform; a supervisor may send it if it is needed.",
                status=422,
                contact_details=sorted(set(found)),
            )
        kind = "text"
    message = HandoffMessage(
        handoff_id=handoff.id, at=now, direction="out", kind=kind, text=body, author_id=author.id, state="sending"
    )
    session.add(message)
    session.commit()
    return message


def deliver(session: Session, rasa: RasaClient, handoff: Handoff, message: HandoffMessage, author: User) -> None:
    """Hand the message to Rasa and record what became of it (``sent`` or ``failed`` with the reason). Commits."""
    template = message.text if message.kind == "template" else None
    try:
        rasa.send(
            handoff.conversation_id,
            handoff.channel,
            author.id,
            text=None if template else message.text,
            template=template,
        )
    except RasaError as error:
        message.state, message.reason, message.code = "failed", error.reason[:64], (error.code or None)
        record(session, handoff, "reply_failed", actor_id=author.id, message_id=message.id, reason=error.reason)
        session.commit()
        return
    now = time.time()
    message.state, message.reason, message.code = "sent", None, None
    session.flush()
    first = (
        session.execute(
            sa.update(Handoff)
            .where(Handoff.id == handoff.id, Handoff.first_reply_at.is_(None))
            .values(first_reply_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        == 1
    )
    session.refresh(handoff)
    record(
        session,
        handoff,
        "reply_sent",
        actor_id=author.id,
        at=now,
        message_id=message.id,
        first=first,
        message_kind=message.kind,
    )
    session.commit()


def start_retry(session: Session, handoff: Handoff, message_id: int, author: User, now: float) -> HandoffMessage:
    """A failed reply goes again (the same row), once at a time: only one of two clicks wins."""
    message = session.get(HandoffMessage, message_id)
    if message is None or message.handoff_id != handoff.id or message.direction != "out":
        raise NotVisible("No such message in this request.")
    if message.author_id != author.id and not sees_everything(author):
        raise HandoffError("Only its author or a supervisor may send this message again.", status=403)
    if handoff.status != "assigned":
        raise HandoffError(WHY_NOT["closed" if handoff.status == "closed" else "not_taken"], status=409)
    if message.kind == "text" and reply_options(handoff, now)["why_not"] == "outside_window":
        raise HandoffError(WHY_NOT["outside_window"], status=409, why_not="outside_window", templates=["handoff"])
    won = session.execute(
        sa.update(HandoffMessage)
        .where(HandoffMessage.id == message_id, HandoffMessage.state == "failed")
        .values(state="sending", reason=None, code=None, at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.commit()
    if won != 1:
        raise HandoffError("Only a failed message can be sent again.", status=409)
    session.refresh(message)
    return message


def add_note(session: Session, handoff: Handoff, author: User, text: str, now: float) -> HandoffMessage:
    body = text.strip()
    if not body:
        raise HandoffError("The note is empty.", status=422)
    note = HandoffMessage(handoff_id=handoff.id, at=now, direction="note", kind="text", text=body, author_id=author.id)
    session.add(note)
    session.flush()
    record(session, handoff, "note", actor_id=author.id, at=now, message_id=note.id)
    session.commit()
    return note


def system_message(session: Session, handoff: Handoff, text: str, at: float) -> None:
    session.add(HandoffMessage(handoff_id=handoff.id, at=at, direction="system", kind="text", text=text))


# --- transfer and close ---------------------------------------------------------------------------------------
def transfer_to_region(session: Session, handoff: Handoff, actor: User, region: str, now: float) -> Handoff:
    """Back to the queue, for another region's advisers (the person stays with the advisers, the bot silent)."""
    if handoff.status not in OPEN_STATUSES:
        raise HandoffError(WHY_NOT["closed"], status=409)
    if region not in known_regions():
        raise HandoffError(f"Unknown region; known: {', '.join(known_regions())}.", status=422)
    previous_adviser, previous_region = handoff.adviser_id, handoff.region
    handoff.status, handoff.adviser_id, handoff.region = "queued", None, region
    system_message(session, handoff, f"Transférée à la région {region}.", now)
    record(
        session,
        handoff,
        "transferred",
        actor_id=actor.id,
        at=now,
        to_region=region,
        from_region=previous_region,
        from_adviser_id=previous_adviser,
    )
    session.commit()
    return handoff


def reassign(session: Session, handoff: Handoff, actor: User, adviser: User, now: float) -> Handoff:
    """An assigned request changes hands (the person already knows an adviser has it)."""
    previous = handoff.adviser_id
    won = session.execute(
        sa.update(Handoff)
        .where(Handoff.id == handoff.id, Handoff.status == "assigned", Handoff.adviser_id == previous)
        .values(adviser_id=adviser.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    if won != 1:
        session.rollback()
        raise HandoffError("The request changed meanwhile: reload it.", status=409)
    handoff = session.get(Handoff, handoff.id, populate_existing=True) or handoff
    system_message(session, handoff, f"Transférée à {adviser.username}.", now)
    record(session, handoff, "transferred", actor_id=actor.id, at=now, adviser_id=adviser.id, from_adviser_id=previous)
    session.commit()
    return handoff


def close_and_tell(
    session: Session, rasa: RasaClient, handoff: Handoff, actor: User, outcome: str, now: float
) -> Tuple[Handoff, Optional[RasaError]]:
    """Rasa tells the person the bot is back (``action_handoff_closed``), then the request is closed; when the
    person's channel cannot take the notice, it is closed all the same and the refusal is returned; when Rasa
    fails, it stays open and ``RasaFailed`` says so."""
    if handoff.status not in OPEN_STATUSES:
        raise HandoffError(WHY_NOT["closed"], status=409)
    if outcome not in CLOSING_OUTCOMES:
        raise HandoffError(f"The outcome is one of: {', '.join(CLOSING_OUTCOMES)}.", status=422)
    try:
        not_told = rasa.notify(handoff.conversation_id, "action_handoff_closed", handoff.channel)
    except RasaError as error:
        raise RasaFailed(
            f"The person could not be told that the conversation is closed (Rasa: {error.reason}); it stays open.",
            reason=error.reason,
            code=error.code,
        ) from None
    return finish(session, handoff, "closed", outcome, actor.id, time.time()), not_told


def finish(session: Session, handoff: Handoff, kind: str, outcome: str, actor_id: Optional[int], at: float) -> Handoff:
    """Close an open request and commit (an adviser closed it)."""
    close_now(session, handoff, kind, outcome, actor_id, at)
    session.commit()
    return handoff


def close_now(session: Session, handoff: Handoff, kind: str, outcome: str, actor_id: Optional[int], at: float) -> bool:
    """Close an open request (an adviser closed it, or the person ended it): whichever comes first wins, the
    other changes nothing. Does not commit."""
    session.flush()
    done = session.execute(
        sa.update(Handoff)
        .where(Handoff.id == handoff.id, Handoff.status.in_(OPEN_STATUSES))
        .values(status="closed", outcome=outcome, closed_at=at, bot_active=False)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(handoff)
    if done == 1:
        record(session, handoff, kind, actor_id=actor_id, at=at, outcome=outcome, adviser_id=handoff.adviser_id)
    return bool(done == 1)


# --- what the watcher records ---------------------------------------------------------------------------------
def message_in(
    session: Session, handoff: Handoff, event_id: int, at: float, kind: str, masked_text: str
) -> HandoffMessage:
    message = HandoffMessage(
        handoff_id=handoff.id, at=at, direction="in", kind=kind, text=masked_text, event_id=event_id
    )
    session.add(message)
    session.flush()
    handoff.unread = (handoff.unread or 0) + 1
    handoff.last_inbound_at = max(handoff.last_inbound_at or 0.0, at)
    record(
        session,
        handoff,
        "message_in",
        at=time.time(),
        message_id=message.id,
        message_kind=kind,
        adviser_id=handoff.adviser_id,
    )
    return message


def make_urgent(session: Session, handoff: Handoff, categories: Sequence[str]) -> None:
    if handoff.urgent:
        return
    handoff.urgent = True
    record(session, handoff, "urgent", categories=sorted(set(categories)), adviser_id=handoff.adviser_id)


def timed_out(session: Session, handoff_id: int, now: float) -> None:
    """Rasa told the person that no adviser answered in time: the bot answers again, the request stays queued."""
    done = session.execute(
        sa.update(Handoff)
        .where(Handoff.id == handoff_id, Handoff.status == "queued", Handoff.timed_out_at.is_(None))
        .values(bot_active=True, timed_out_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    handoff = session.get(Handoff, handoff_id, populate_existing=True)
    if done == 1 and handoff is not None:
        system_message(
            session, handoff, "Personne n'a pris la demande à temps : Tawjih répond de nouveau en attendant.", now
        )
        record(session, handoff, "timeout", at=now, waited_seconds=round(now - handoff.created_at, 1))
    session.commit()


def erase(session: Session, handoff: Handoff, why: str) -> None:
    """The person's conversation left the tracker store: the request and its messages go; the log keeps that
    it happened, under the key only."""
    session.execute(
        sa.update(HandoffLogEntry)
        .where(HandoffLogEntry.handoff_id == handoff.id)
        .values(handoff_id=None)
        .execution_options(synchronize_session=False)
    )
    record(session, handoff, "erased", why=why, status=handoff.status).handoff_id = None
    session.execute(sa.delete(HandoffMessage).where(HandoffMessage.handoff_id == handoff.id))
    session.execute(sa.delete(Handoff).where(Handoff.id == handoff.id))


def mark_read(session: Session, handoff: Handoff, reader: User) -> None:
    if handoff.adviser_id == reader.id and handoff.unread:
        handoff.unread = 0


# --- what the API shows ----------------------------------------------------------------------------------------
def when(timestamp: Optional[float], tz: dt.tzinfo) -> Optional[str]:
    if timestamp is None:
        return None
    return dt.datetime.fromtimestamp(timestamp, tz).isoformat(timespec="seconds")


def listing_order() -> List[Any]:
    return [Handoff.urgent.desc(), Handoff.created_at, Handoff.id]


def advisers_by_id(session: Session, ids: Set[Optional[int]]) -> Dict[int, str]:
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    return dict(session.execute(sa.select(User.id, User.username).where(User.id.in_(wanted))).all())
