"""Where the person is: the city or region in focus, and the centres nearest to a point.

The city and region slots carry across turns; the latest message wins, and naming a
region replaces an earlier city (and the other way round)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet

from actions.registry_client import call_registry, registry_client
from language.normaliser import normalise
from language.register import DARIJA_ARABIC

Point = Tuple[float, float]
NEAREST_COUNT = 3


@dataclass(frozen=True)
class Place:
    """A city (its registry name) or a region (its registry id)."""

    kind: str  # "city" or "region"
    value: str

    def slot_events(self) -> List[Dict[str, Any]]:
        other = "region" if self.kind == "city" else "city"
        return [SlotSet(self.kind, self.value), SlotSet(other, None)]


def latest_entity(tracker: Tracker, entity: str) -> Optional[str]:
    for found in reversed(tracker.latest_message.get("entities") or []):
        if found.get("entity") == entity and found.get("value") not in (None, ""):
            return str(found["value"])
    return None


def place_in_focus(tracker: Tracker) -> Optional[Place]:
    """The place named in the latest message, else the one remembered from earlier turns."""
    for kind in ("city", "region"):
        value = latest_entity(tracker, kind)
        if value:
            return Place(kind, value)
    for kind in ("city", "region"):
        value = tracker.get_slot(kind)
        if value:
            return Place(kind, str(value))
    return None


def _spelling_key(text: str) -> str:
    return " ".join(normalise(text).replace("-", " ").split())


def find_city(cities: List[Dict[str, Any]], said: str) -> Optional[Dict[str, Any]]:
    """The registry city a person's word names: its name, Arabic name, id or any listed spelling."""
    wanted = _spelling_key(said)
    for city in cities:
        spellings = [city.get("name"), city.get("name_ar"), city.get("id"), *(city.get("aliases") or [])]
        if any(s and _spelling_key(str(s)) == wanted for s in spellings):
            return city
    return None


def find_region(regions: List[Dict[str, Any]], said: str) -> Optional[Dict[str, Any]]:
    wanted = _spelling_key(said)
    for region in regions:
        spellings = [region.get("id"), region.get("name_fr"), region.get("name_ar"), *(region.get("aliases") or [])]
        if any(s and _spelling_key(str(s)) == wanted for s in spellings):
            return region
    return None


async def city_record(name: str) -> Optional[Dict[str, Any]]:
    cities = await call_registry(registry_client().cities)
    return find_city(cities, name)


async def nearest_centres(point: Point, programme: Optional[str] = None) -> List[Dict[str, Any]]:
    """The centres closest to a point (a city's centre or a shared location), nearest first."""
    centres = await call_registry(registry_client().centres, programme=programme, near=point)
    return centres[:NEAREST_COUNT]


async def place_label(place: Place, register: str) -> str:
    """The place as the person reads it: its Arabic name for Arabic-script readers, its French name otherwise."""
    arabic = register == DARIJA_ARABIC
    if place.kind == "city":
        city = await city_record(place.value)
        if city is None:
            return place.value
        return str(city.get("name_ar") if arabic and city.get("name_ar") else city.get("name") or place.value)
    region = find_region(await call_registry(registry_client().regions), place.value)
    if region is None:
        return place.value
    return str(region.get("name_ar") if arabic and region.get("name_ar") else region.get("name_fr") or place.value)


def city_point(city: Dict[str, Any]) -> Point:
    return float(city["latitude"]), float(city["longitude"])
