"""Where the centres are: in a city or region, or the nearest ones when a city has none."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import wording
from actions.base import TawjihAction
from actions.places import (
    city_point,
    city_record,
    latest_entity,
    nearest_centres,
    place_in_focus,
    place_label,
)
from actions.programme_facts import known_programme
from actions.registry_client import call_registry, registry_client


async def centre_listing(centres: List[Dict[str, Any]], register: str) -> Dict[str, str]:
    """The `centre_lines` and `sample_note` of a response that lists centres."""
    names = await programme_names(register)
    return {
        "centre_lines": "\n".join(wording.centre_line(c, names, register) for c in centres),
        "sample_note": sample_note_for(centres, register),
    }


async def programme_names(register: str) -> Dict[str, str]:
    programmes = await call_registry(registry_client().programmes)
    return {p["id"]: wording.programme_name(p, register) for p in programmes}


def sample_note_for(records: List[Dict[str, Any]], register: str) -> str:
    return wording.SAMPLE_NOTE[register] if any(r.get("sample_fields") for r in records) else ""


async def describe_nearest(
    dispatcher: CollectingDispatcher, point: Any, register: str, place_name: str, programme: Optional[str] = None
) -> None:
    """Say that a place has no centre, then name the nearest ones with their distance."""
    centres = await nearest_centres(point, programme)
    dispatcher.utter_message(
        response="utter_centres_nearest", place=place_name, **await centre_listing(centres, register)
    )


class ActionListCentres(TawjihAction):
    def name(self) -> str:
        return "action_list_centres"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        register = wording.register_of(tracker)
        place = place_in_focus(tracker)
        if place is None:
            dispatcher.utter_message(response="utter_ask_city_for_centres")
            return []
        # A programme named in this very message narrows the list ("fin kayn code 212 dyal jobintech?").
        programme = await known_programme(latest_entity(tracker, "programme"))
        client = registry_client()
        if place.kind == "region":
            centres = await call_registry(client.centres, region=place.value, programme=programme)
        else:
            centres = await call_registry(client.centres, city=place.value, programme=programme)
        if centres:
            dispatcher.utter_message(
                response="utter_centres_in_place",
                place=await place_label(place, register),
                **await centre_listing(centres, register),
            )
            return place.slot_events()
        city = await city_record(place.value) if place.kind == "city" else None
        if city is None:
            dispatcher.utter_message(response="utter_place_unknown", place=await place_label(place, register))
            return []
        await describe_nearest(dispatcher, city_point(city), register, await place_label(place, register), programme)
        return place.slot_events()


class ActionCentresNearLocation(TawjihAction):
    """A location shared on WhatsApp: the nearest centres, with their distance."""

    def name(self) -> str:
        return "action_centres_near_location"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        register = wording.register_of(tracker)
        point = shared_point(tracker)
        if point is None:
            dispatcher.utter_message(response="utter_ask_city_for_centres")
            return []
        centres = await nearest_centres(point)
        dispatcher.utter_message(response="utter_centres_near_you", **await centre_listing(centres, register))
        return []


def shared_point(tracker: Tracker) -> Optional[Tuple[float, float]]:
    """The latitude and longitude the channel put in the message, if they are a real point."""
    latitude, longitude = latest_entity(tracker, "latitude"), latest_entity(tracker, "longitude")
    if latitude is None or longitude is None:
        return None
    return latitude, longitude
