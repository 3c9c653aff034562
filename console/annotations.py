"""Corrections of how the NLU read a message, and what they become: Rasa NLU training data (Rasa's own YAML
writer) and test stories (Rasa's story writer), both from masked text only."""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import sqlalchemy as sa
import yaml
from sqlalchemy.orm import Session

from console.masking import mask
from console.models import Annotation

# Written by the NLU itself or by the channels, never by a person: not something to annotate towards.
NOT_ANNOTATABLE_ENTITIES = {"register", "latitude", "longitude", "media"}


class AnnotationError(ValueError):
    """An annotation that cannot be kept; the message says why."""


@dataclass(frozen=True)
class DomainChoices:
    intents: Tuple[str, ...]
    entities: Tuple[str, ...]


@functools.lru_cache(maxsize=4)
def domain_choices(path: str) -> DomainChoices:
    """The intents and entities staff may pick from, as domain.yml lists them."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}

    def names(items: Any) -> Tuple[str, ...]:
        found = []
        for item in items or []:
            name = next(iter(item)) if isinstance(item, dict) else item
            if isinstance(name, str):
                found.append(name)
        return tuple(found)

    entities = tuple(e for e in names(data.get("entities")) if e not in NOT_ANNOTATABLE_ENTITIES)
    return DomainChoices(intents=names(data.get("intents")), entities=entities)


_TRAINING_TEXT = str.maketrans({"[": "(", "]": ")", "\n": " ", "\r": " ", "\t": " ", "\u2028": " ", "\u2029": " "})


def training_text(masked_text: str) -> str:
    """One line, and no brackets: Rasa's YAML reads ``[text](entity)`` as an annotation and a line break as the
    next example, so what a person typed could otherwise inject either. Offsets stay the same."""
    return masked_text.translate(_TRAINING_TEXT)


def check_entities(text: str, raw: Sequence[Dict[str, Any]], choices: DomainChoices) -> List[Dict[str, Any]]:
    """Entities as ``{entity, start, end}`` or ``{entity, text}`` (its first occurrence), checked against the
    domain and the text; returned with start, end and value."""
    checked = []
    for entity in raw:
        if not isinstance(entity, dict):
            raise AnnotationError("Each entity is an object with `entity` and `start`/`end` or `text`.")
        name = entity.get("entity")
        if name not in choices.entities:
            raise AnnotationError(f"Unknown entity {str(name)[:40]!r}: pick one of {', '.join(choices.entities)}.")
        if entity.get("text"):
            start = text.find(str(entity["text"]))
            if start < 0:
                raise AnnotationError(f"The text of entity {name} is not in the message.")
            end = start + len(str(entity["text"]))
        else:
            try:
                start, end = int(entity["start"]), int(entity["end"])
            except (KeyError, TypeError, ValueError):
                raise AnnotationError(f"Entity {name} needs `start` and `end`, or `text`.") from None
        if not 0 <= start < end <= len(text) or not text[start:end].strip():
            raise AnnotationError(f"Entity {name}'s span is outside the message.")
        # A value typed by the reviewer (the API's `value`) is masked like the text it stands for.
        value = mask(str(entity["value"])) if entity.get("value") else text[start:end]
        checked.append({"entity": name, "start": start, "end": end, "value": str(value)[:200]})
    spans = sorted((e["start"], e["end"]) for e in checked)
    if any(a_end > b_start for (_, a_end), (b_start, _) in itertools.pairwise(spans)):
        raise AnnotationError("Two entities overlap.")
    return checked


def annotate(
    session: Session,
    choices: DomainChoices,
    session_id: int,
    event_id: int,
    masked_text: str,
    predicted_intent: Optional[str],
    intent: str,
    entities: Sequence[Dict[str, Any]],
    username: str,
) -> Annotation:
    """Keep (or replace) the corrected reading of one user message."""
    if intent not in choices.intents:
        raise AnnotationError(f"Unknown intent {intent[:40]!r}: pick one of the domain's intents.")
    text = training_text(masked_text)
    if not text.strip():
        raise AnnotationError("An empty message cannot be annotated.")
    checked = check_entities(text, entities, choices)
    existing = session.execute(
        sa.select(Annotation).where(Annotation.session_id == session_id, Annotation.event_id == event_id)
    ).scalar_one_or_none()
    if existing is None:
        existing = Annotation(session_id=session_id, event_id=event_id)
        session.add(existing)
    existing.text = text
    existing.predicted_intent = predicted_intent
    existing.intent = intent
    existing.entities = checked
    existing.created_by = username
    existing.created_at = time.time()
    session.flush()
    return existing


def annotations_since(session: Session, since: Optional[dt.date], tz: Optional[dt.tzinfo] = None) -> List[Annotation]:
    query = sa.select(Annotation).order_by(Annotation.created_at, Annotation.id)
    if since is not None:
        start = dt.datetime.combine(since, dt.time.min, tzinfo=tz or dt.timezone.utc).timestamp()
        query = query.where(Annotation.created_at >= start)
    return list(session.execute(query).scalars().all())


def nlu_yaml(annotations: Sequence[Annotation]) -> str:
    """Rasa NLU training data, written by Rasa's own writer."""
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLWriter
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData

    seen = set()
    messages = []
    for annotation in annotations:
        key = (annotation.text, annotation.intent)
        if key in seen:
            continue
        seen.add(key)
        data: Dict[str, Any] = {"text": annotation.text, "intent": annotation.intent}
        if annotation.entities:
            data["entities"] = [dict(e) for e in annotation.entities]
        messages.append(Message(data=data))
    if not messages:
        return 'version: "3.1"\nnlu: []\n'
    return RasaYAMLWriter().dumps(TrainingData(training_examples=messages))


def export_nlu_yaml(session: Session, since: Optional[dt.date] = None, tz: Optional[dt.tzinfo] = None) -> str:
    return nlu_yaml(annotations_since(session, since, tz))


def story_yaml(
    name: str, events: Sequence[Any], masked_texts: Dict[int, str], corrections: Dict[int, Annotation]
) -> str:
    """One session as a test story (tests/stories/ format), with masked user text and corrected intents.
    ``events`` are the tracker store's events; ``masked_texts`` and ``corrections`` are by event id."""
    from rasa.shared.core.events import ActionExecuted, Event, SessionStarted, SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.shared.core.training_data.story_writer.yaml_story_writer import YAMLStoryWriter

    rasa_events: List[Event] = []
    for stored in events:
        if stored.type_name not in ("user", "action", "slot"):
            continue
        event = Event.from_parameters(dict(stored.data))
        if isinstance(event, UserUttered):
            parse_data = dict(event.parse_data or {})
            intent = dict(parse_data.get("intent") or {})
            entities = [e for e in event.entities if e.get("entity") != "register"]
            correction = corrections.get(stored.id)
            text = training_text(masked_texts.get(stored.id, ""))
            if correction is not None:
                intent["name"], text, entities = correction.intent, correction.text, list(correction.entities)
            else:
                # Entity values come from what the person wrote: keep only those found in the masked text.
                entities = [e for e in entities if str(e.get("value", "")) in text]
                for entity in entities:
                    entity["start"] = text.find(str(entity.get("value")))
                    entity["end"] = entity["start"] + len(str(entity.get("value")))
            event = UserUttered(text, intent, entities, parse_data, timestamp=event.timestamp)
        elif isinstance(event, ActionExecuted) and event.action_name in ("action_listen", "action_session_start"):
            continue
        elif isinstance(event, SlotSet):
            if event.key in ("register", "erasure_confirmed"):
                continue
            if isinstance(event.value, str):
                event = SlotSet(event.key, mask(event.value), timestamp=event.timestamp)
        elif isinstance(event, SessionStarted):
            continue
        rasa_events.append(event)
    tracker = DialogueStateTracker.from_events(name, rasa_events)
    story = tracker.as_story(include_source=False)
    for step in story.story_steps:
        step.block_name = name
    return YAMLStoryWriter().dumps(story.story_steps, is_test_story=True)
