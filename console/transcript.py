"""A session's events as staff read them: each user message with its reading by the NLU, each bot reply
with the action that sent it, the time between turns, the slots at the end. Everything a person or the bot
wrote goes through the masking before it leaves this module."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

from console.indexer import REGISTERS
from console.masking import apply_mask, find_personal_data_many, mask_many, mask_with_spans
from console.tracker import StoredEvent

# Events that say nothing a reviewer needs to read.
HIDDEN_ACTIONS = {"action_listen", "action_session_start"}


def _is_arabic(ch: str) -> bool:
    code = ord(ch)
    return 0x0600 <= code <= 0x06FF or 0x0750 <= code <= 0x077F or 0x08A0 <= code <= 0x08FF or 0xFB50 <= code <= 0xFEFF


def text_direction(text: str) -> str:
    """``rtl`` when the message is mostly Arabic script, ``ltr`` otherwise (Arabizi, French, mixed)."""
    arabic = sum(1 for ch in text if _is_arabic(ch))
    latin = sum(1 for ch in text if (ch.isalpha() and ch.isascii()) or ("À" <= ch <= "ÿ"))
    return "rtl" if arabic > latin else "ltr"


@dataclass
class MaskedValue:
    index: int
    kind: str


@dataclass
class Item:
    event_id: int
    kind: str  # user | bot | action | slot | session | other
    timestamp: float
    seconds_since_previous: Optional[float] = None
    text: str = ""
    direction: str = "ltr"
    intent: Optional[str] = None
    confidence: Optional[float] = None
    entities: List[Dict[str, Any]] = field(default_factory=list)
    register: Optional[str] = None
    masked_values: List[MaskedValue] = field(default_factory=list)
    action: Optional[str] = None
    buttons: List[Dict[str, str]] = field(default_factory=list)
    name: Optional[str] = None
    value: Optional[str] = None


def _register_of(parse_data: Dict[str, Any]) -> Optional[str]:
    for entity in parse_data.get("entities") or []:
        # Only the detector's values: a person can set any entity value (`/greet{"register": "…"}`).
        if isinstance(entity, dict) and entity.get("entity") == "register" and entity.get("value") in REGISTERS:
            return str(entity.get("value"))
    return None


def _value_text(value: Any) -> str:
    if isinstance(value, (dict, list)):
        import json

        return json.dumps(value, ensure_ascii=False)
    return "" if value is None else str(value)


def build_items(events: Sequence[StoredEvent], previous_timestamp: Optional[float] = None) -> List[Item]:
    """The events of one page of a session, masked, in order. ``previous_timestamp`` is the time of the event
    just before the page, so the first item's delay is right too."""
    items: List[Item] = []
    last_action: Optional[str] = None
    pending_mask: List[tuple] = []  # (item, attribute or entity index, raw text) masked together below
    user_items: List[Item] = []
    last_time = previous_timestamp
    for event in events:
        data = event.data
        item = Item(event_id=event.id, kind="other", timestamp=event.timestamp)
        if event.type_name == "user":
            parse_data = data.get("parse_data") or {}
            intent = parse_data.get("intent") or {}
            raw = str(data.get("text") or "")
            item.kind = "user"
            item.text = raw  # masked below, with the page's other messages
            item.direction = text_direction(raw)
            user_items.append(item)
            item.intent = event.intent_name or intent.get("name")
            confidence = intent.get("confidence")
            item.confidence = float(confidence) if isinstance(confidence, (int, float)) else None
            item.register = _register_of(parse_data)
            for entity in parse_data.get("entities") or []:
                if not isinstance(entity, dict) or entity.get("entity") == "register":
                    continue
                shown = {"entity": str(entity.get("entity")), "value": ""}
                item.entities.append(shown)
                pending_mask.append((shown, "value", _value_text(entity.get("value"))))
            last_action = None
        elif event.type_name == "bot":
            item.kind = "bot"
            raw = str(data.get("text") or "")
            item.direction = text_direction(raw)
            item.action = ((data.get("metadata") or {}).get("utter_action")) or last_action
            pending_mask.append((item, "text", raw))
            for button in (data.get("data") or {}).get("buttons") or []:
                if isinstance(button, dict):
                    shown = {"title": "", "payload": ""}
                    item.buttons.append(shown)
                    pending_mask.append((shown, "title", _value_text(button.get("title"))))
                    pending_mask.append((shown, "payload", _value_text(button.get("payload"))))
        elif event.type_name == "action":
            last_action = event.action_name
            if event.action_name in HIDDEN_ACTIONS:
                continue
            item.kind = "action"
            item.action = event.action_name
        elif event.type_name == "slot":
            item.kind = "slot"
            item.name = str(data.get("name"))
            pending_mask.append((item, "value", _value_text(data.get("value"))))
        elif event.type_name == "session_started":
            item.kind = "session"
        else:
            item.kind = "other"
            item.name = event.type_name
        if item.kind in ("user", "bot") and last_time is not None:
            item.seconds_since_previous = max(0.0, event.timestamp - last_time)
        if item.kind in ("user", "bot"):
            last_time = event.timestamp
        items.append(item)
    for item, spans in zip(user_items, find_personal_data_many([item.text for item in user_items]), strict=True):
        item.masked_values = [MaskedValue(i, str(span.kind)) for i, span in enumerate(spans)]
        item.text = apply_mask(item.text, spans)
    masked = mask_many([raw for _, _, raw in pending_mask])
    for (target, attribute, _raw), value in zip(pending_mask, masked, strict=True):
        if isinstance(target, dict):
            target[attribute] = value
        else:
            setattr(target, attribute, value)
    return items


def final_slots(slot_events: Sequence[StoredEvent]) -> Dict[str, str]:
    """The slots' values at the end of the session, masked; slots reset to nothing are left out."""
    values: Dict[str, Any] = {}
    for event in slot_events:
        name = event.data.get("name")
        if isinstance(name, str):
            values[name] = event.data.get("value")
    kept = {name: _value_text(value) for name, value in sorted(values.items()) if value not in (None, "", [])}
    return dict(zip(kept, mask_many(list(kept.values())), strict=True))


def reveal(raw_text: str, index: int) -> Optional[tuple]:
    """The ``index``-th masked value of a message as written, with its kind; None when there is no such value."""
    _masked, spans = mask_with_spans(raw_text)
    if not 0 <= index < len(spans):
        return None
    span = spans[index]
    return str(span.kind), raw_text[span.start : span.end]
