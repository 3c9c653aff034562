"""Trackers for action tests: one turn of a conversation, with what the NLU found in it."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from rasa_sdk import Tracker


def turn(
    text: str,
    intent: str,
    register: str = "french",
    entities: Optional[List[Dict[str, Any]]] = None,
    slots: Optional[Dict[str, Any]] = None,
    events: Optional[List[Dict[str, Any]]] = None,
    active_loop: Optional[str] = None,
    ranking: Optional[List[Tuple[str, float]]] = None,
) -> Tracker:
    """``ranking``: the classifier's (intent, confidence) pairs, as the FallbackClassifier keeps them."""
    found = [{"entity": "register", "value": register}, *(entities or [])]
    latest: Dict[str, Any] = {"text": text, "intent": {"name": intent, "confidence": 0.95}, "entities": found}
    if ranking is not None:
        latest["intent_ranking"] = [{"name": intent, "confidence": 0.95}] + [
            {"name": name, "confidence": confidence} for name, confidence in ranking
        ]
    return Tracker(
        sender_id="test-user",
        slots={"register": register, **(slots or {})},
        latest_message=latest,
        events=[*(events or []), {"event": "user", "text": text, "parse_data": latest}],
        paused=False,
        followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name="action_listen",
    )
