"""Where the person is: the city or region in focus, and the centres nearest to a point.

The city and region slots carry across turns; the latest message wins, and naming a
region replaces an earlier city (and the other way round). Every value read from a message
or a slot goes through ``language.slot_rules`` first: only a catalogue place is ever used or shown."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet

from actions.registry_client import call_registry, registry_client
from language import slot_rules
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


def latest_entity(tracker: Tracker, entity: str) -> Optional[Any]:
    """The canonical value of the last ``entity`` in the latest message that passes the slot rules."""
    for found in reversed(tracker.latest_message.get("entities") or []):
        if found.get("entity") == entity:
            value = slot_rules.clean(entity, found.get("value"))
            if value is not None:
                return value
    return None


def slot_value(tracker: Tracker, slot: str) -> Optional[Any]:
    """A slot's value if it passes the slot rules (a slot set before they existed, or by a payload, may not)."""
    return slot_rules.clean(slot, tracker.get_slot(slot))


def place_in_focus(tracker: Tracker) -> Optional[Place]:
    """The place named in the latest message, else the one remembered from earlier turns."""
    for kind in ("city", "region"):
        value = latest_entity(tracker, kind)
        if value:
            return Place(kind, value)
    for kind in ("city", "region"):
        value = slot_value(tracker, kind)
        if value:
            return Place(kind, value)
    return None


def find_record(entity: str, records: List[Dict[str, Any]], said: Any) -> Optional[Dict[str, Any]]:
    """The registry record (city, region or education level) a person's words name, in any spelling
    the catalogue lists: the slot rules' matcher finds the value, the registry holds the record."""
    value = slot_rules.clean(entity, said)
    field = "name" if entity == "city" else "id"
    return next((record for record in records if value is not None and record.get(field) == value), None)


def find_city(cities: List[Dict[str, Any]], said: Any) -> Optional[Dict[str, Any]]:
    return find_record("city", cities, said)


def find_region(regions: List[Dict[str, Any]], said: Any) -> Optional[Dict[str, Any]]:
    return find_record("region", regions, said)


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
