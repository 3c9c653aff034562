"""Upcoming sessions for the programme and place in focus, or the nearest alternatives."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import wording
from actions.base import TawjihAction
from actions.centres import programme_names, sample_note_for
from actions.places import Place, city_point, city_record, nearest_centres, place_in_focus, place_label, slot_value
from actions.registry_client import call_registry, registry_client
from language.register import DARIJA_ARABIC

SHOWN_AT_MOST = 5


def is_open(session: Dict[str, Any]) -> bool:
    return session.get("status") == "open" and int(session.get("seats_left") or 0) > 0


class ActionListSessions(TawjihAction):
    def name(self) -> str:
        return "action_list_sessions"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        register = wording.register_of(tracker)
        programme: Optional[str] = slot_value(tracker, "programme")
        place = place_in_focus(tracker)
        client = registry_client()
        names = await programme_names(register)
        if programme and programme not in names:
            programme = None  # a stale or invented id: sessions of every programme instead
        filters = {"programme": programme}
        if place is not None:
            filters[place.kind] = place.value
        sessions = await call_registry(client.upcoming_sessions, **filters)
        events = place.slot_events() if place else []
        place_name = await place_label(place, register) if place else None
        scope = describe_scope(names.get(programme or ""), place_name, register)

        if any(is_open(s) for s in sessions):
            self._say(dispatcher, "utter_sessions_list", sessions, names, register, scope=scope)
            return events
        alternatives = await self._alternatives(programme, place, sessions)
        if alternatives:
            self._say(dispatcher, "utter_sessions_alternatives", alternatives, names, register, scope=scope)
        else:
            dispatcher.utter_message(response="utter_sessions_none", scope=scope)
        return events

    async def _alternatives(
        self, programme: Optional[str], place: Optional[Place], here: List[Dict[str, Any]]
    ) -> List[Dict[str, Any]]:
        """Open sessions of the same programme: at the nearest centres first, else the soonest anywhere."""
        client = registry_client()
        everywhere = [s for s in await call_registry(client.upcoming_sessions, programme=programme) if is_open(s)]
        if place is not None and place.kind == "city":
            city = await city_record(place.value)
            if city is not None:
                order = [c["id"] for c in await nearest_centres(city_point(city), programme)]
                nearby = [s for s in everywhere if s["centre_id"] in order]
                nearby.sort(key=lambda s: (order.index(s["centre_id"]), s["start_date"]))
                if nearby:
                    return nearby
        return everywhere

    @staticmethod
    def _say(
        dispatcher: CollectingDispatcher,
        response: str,
        sessions: List[Dict[str, Any]],
        names: Dict[str, str],
        register: str,
        scope: str,
    ) -> None:
        shown = sessions[:SHOWN_AT_MOST]
        dispatcher.utter_message(
            response=response,
            scope=scope,
            session_lines="\n".join(
                wording.session_line(s, names.get(s["programme_id"], s["programme_id"]), register) for s in shown
            ),
            sample_note=sample_note_for(shown, register),
        )


def describe_scope(programme_name: Optional[str], place_name: Optional[str], register: str) -> str:
    """What the person asked about, as they will read it: " (JobInTech — Data science, Rabat)"."""
    parts = [part for part in (programme_name, place_name) if part]
    comma = "، " if register == DARIJA_ARABIC else ", "
    return f" ({comma.join(parts)})" if parts else ""
