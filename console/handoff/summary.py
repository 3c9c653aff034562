"""What an adviser reads before answering: the request's context, and the person's last messages before it,
masked like everything else in the console (kept in the request's summary by the watcher, so that the inbox
does not read the tracker store for each request it lists)."""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional, Sequence, Tuple

from console.masking import mask_many
from console.models import Handoff
from console.tracker import StoredEvent

LAST_MESSAGES = 3
# What the adviser sees instead of a payload: never the coordinates of a shared location.
MEDIA = {
    "audio": ("voice", "🎤 note vocale"),
    "voice": ("voice", "🎤 note vocale"),
    "image": ("image", "🖼️ image"),
    "video": ("video", "🎬 vidéo"),
    "document": ("document", "📄 document"),
    "sticker": ("sticker", "🙂 sticker"),
}
LOCATION = ("location", "📍 position partagée")


def what_was_sent(text: str) -> Tuple[str, Optional[str]]:
    """The kind of a message and, for media and locations (our channels' payloads), the note shown instead of
    the text; None means the text itself is shown (masked)."""
    stripped = text.strip()
    if stripped.startswith("/share_location"):
        return LOCATION
    if stripped.startswith("/send_media"):
        try:
            entities: Any = json.loads(stripped[len("/send_media") :] or "{}")
        except ValueError:
            entities = {}
        media = str(entities.get("media") or "") if isinstance(entities, dict) else ""
        return MEDIA.get(media, MEDIA["document"])
    return "text", None


def text_of(event: StoredEvent) -> str:
    text = event.data.get("text")
    return text if isinstance(text, str) else ""


def remember_before(handoff: Handoff, events: Sequence[StoredEvent]) -> None:
    """Add the person's messages written before the request (masked) to its summary, keeping the last few."""
    summary = dict(handoff.summary or {})
    kept: List[Dict[str, Any]] = list(summary.get("last_messages") or [])
    known = {m.get("event_id") for m in kept}
    new = [e for e in events if e.type_name == "user" and e.id not in known]
    if not new:
        return
    shown = [what_was_sent(text_of(e)) for e in new]
    masked = mask_many([text_of(e) if note is None else "" for e, (_, note) in zip(new, shown, strict=True)])
    for event, (kind, note), text in zip(new, shown, masked, strict=True):
        kept.append({"event_id": event.id, "at": event.timestamp, "kind": kind, "text": note or text})
    summary["last_messages"] = sorted(kept, key=lambda m: m["event_id"])[-LAST_MESSAGES:]
    handoff.summary = summary  # a new dict: SQLAlchemy does not see changes inside a JSON value


def context_of(handoff: Handoff) -> Dict[str, Any]:
    summary = handoff.summary or {}
    return {
        "register": handoff.register,
        "programme": handoff.programme,
        "city": handoff.city,
        "region": handoff.region,
        "eligibility": summary.get("eligibility") or {},
        "verdict": summary.get("verdict"),
        "reason": summary.get("reason"),
        "last_messages": list(summary.get("last_messages") or []),
    }
