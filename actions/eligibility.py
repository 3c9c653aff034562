"""The eligibility pre-check: a form that asks only for what is missing, then a verdict per criterion.

Criteria are the programme's registry data (age range, minimum level, the centres that
offer it, other conditions); this module only knows how to compare a person with them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Set

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT
from rasa_sdk.types import DomainDict

from actions import wording
from actions.base import TawjihAction, answer_kindly
from actions.places import city_point, find_city, find_record, find_region, nearest_centres, slot_value
from actions.programme_facts import programme_in_focus
from actions.registry_client import call_registry, registry_client
from language import slot_rules
from language.normaliser import normalise

MET, NOT_MET, TO_CONFIRM = "met", "not_met", "to_confirm"
FORM = "eligibility_form"
# Intents that answer the question asked; any other intent is a digression the rules handle.
ANSWER_INTENTS = frozenset({"inform", "affirm", "nlu_fallback", "ask_eligibility"})
# Words that end the questionnaire even where "no" would be an answer ("la safi", "بلا", "stop").
STOP_WORDS = frozenset({"stop", "annule", "annuler", "safi", "baraka", "7bes", "بلا", "خلاص", "بركة", "صافي"})
_NUMBER = re.compile(r"\b\d{1,3}\b")  # a number on its own: "19", not the 3 of "3ndi"


@dataclass(frozen=True)
class Person:
    age: Optional[int]
    education_level: Optional[str]
    region: Optional[str]
    conditions_declared: Optional[bool]


@dataclass(frozen=True)
class Verdict:
    criterion: str  # "age", "education_level", "place" or "condition"
    outcome: str  # MET, NOT_MET or TO_CONFIRM
    facts: Dict[str, Any]


def assess(
    programme: Dict[str, Any],
    person: Person,
    level_ranks: Dict[str, int],
    regions_offering: Set[str],
) -> List[Verdict]:
    """One verdict per criterion the registry lists for the programme."""
    rules = programme.get("eligibility") or {}
    verdicts: List[Verdict] = []
    low, high = rules.get("min_age"), rules.get("max_age")
    if low is not None or high is not None:
        if person.age is None:
            outcome = TO_CONFIRM
        else:
            too_young = low is not None and person.age < low
            too_old = high is not None and person.age > high
            outcome = NOT_MET if too_young or too_old else MET
        verdicts.append(Verdict("age", outcome, {"age": person.age, "min": low, "max": high}))
    minimum = rules.get("min_education_level")
    if minimum:
        have, need = level_ranks.get(person.education_level or ""), level_ranks.get(minimum)
        outcome = TO_CONFIRM if have is None or need is None else (MET if have >= need else NOT_MET)
        verdicts.append(Verdict("education_level", outcome, {"level": person.education_level, "min": minimum}))
    if regions_offering:
        outcome = MET if person.region in regions_offering else TO_CONFIRM
        verdicts.append(Verdict("place", outcome, {"region": person.region}))
    for condition in rules.get("other_conditions") or []:
        outcome = NOT_MET if person.conditions_declared is False else TO_CONFIRM
        verdicts.append(Verdict("condition", outcome, {"condition": condition}))
    return verdicts


def qualifies(verdicts: Sequence[Verdict]) -> bool:
    return all(v.outcome != NOT_MET for v in verdicts)


def overall(verdicts: Sequence[Verdict]) -> str:
    """One word for an adviser's summary: met (✅ everywhere), not_met (a ❌) or to_confirm (a ❔)."""
    outcomes = {v.outcome for v in verdicts}
    if NOT_MET in outcomes:
        return NOT_MET
    return MET if outcomes <= {MET} else TO_CONFIRM


def number_in(text: str) -> Optional[int]:
    """The first number written in a message, in Western or Arabic-Indic digits."""
    match = _NUMBER.search(text or "")
    return int(match.group()) if match else None


def wants_to_stop(tracker: Tracker) -> bool:
    words = set(normalise(tracker.latest_message.get("text") or "").split())
    return bool(words & STOP_WORDS)


def latest_intent(tracker: Tracker) -> str:
    return str((tracker.latest_message.get("intent") or {}).get("name") or "")


class ValidateEligibilityForm(FormValidationAction):
    """Fills age, level, home region and (when the programme lists any) the other conditions."""

    def name(self) -> str:
        return "validate_eligibility_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict[str, Any]]:
        # The actions' own guard; on a failure (the registry down: nothing can be checked) the form is left.
        work = super().run(dispatcher, tracker, domain)
        return await answer_kindly(self.name(), dispatcher, work, on_failure=[SlotSet(REQUESTED_SLOT, None)])

    async def required_slots(
        self,
        domain_slots: List[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> List[str]:
        programme = await programme_in_focus(tracker)
        has_conditions = bool(programme and (programme.get("eligibility") or {}).get("other_conditions"))
        return [s for s in domain_slots if s != "conditions_declared" or has_conditions]

    async def get_extraction_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Dict[str, Any]]:
        events = await super().get_extraction_events(dispatcher, tracker, domain)
        requested = tracker.get_slot(REQUESTED_SLOT)
        required = await self.required_slots(self.domain_slots(domain), dispatcher, tracker, domain)
        said_now = {e["name"] for e in events if e.get("value") is not None} | set(tracker.slots_to_validate())
        if requested in required and not said_now & set(required) and latest_intent(tracker) in ANSWER_INTENTS:
            # An answer we could not read: say so with an example; the form then asks again.
            dispatcher.utter_message(response=f"utter_invalid_{requested}")
            events.append(SlotSet(requested, None))
        return events

    # -- extraction of answers the NLU did not tag -------------------------------------

    def extract_age(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[str, Any]:
        if tracker.get_slot(REQUESTED_SLOT) != "age" or latest_intent(tracker) not in ANSWER_INTENTS:
            return {}
        if "age" in tracker.slots_to_validate():
            return {}  # the NLU found the age ("3ndi 19 3am"); validate_age checks it
        number = number_in(tracker.latest_message.get("text") or "")
        return {"age": number} if number is not None else {}

    async def extract_education_level(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        if tracker.get_slot(REQUESTED_SLOT) != "education_level" or latest_intent(tracker) not in ANSWER_INTENTS:
            return {}
        levels = await call_registry(registry_client().education_levels)
        level = find_record("education_level", levels, tracker.latest_message.get("text") or "")
        return {"education_level": level["id"]} if level is not None else {}

    async def extract_home_region(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        """The region a city or region named now or earlier belongs to."""
        if tracker.get_slot("home_region"):
            return {}
        client = registry_client()
        asked_now = tracker.get_slot(REQUESTED_SLOT) == "home_region"
        text = (tracker.latest_message.get("text") or "").strip() if asked_now else ""
        city_said = slot_value(tracker, "city") or text
        if city_said:
            city = find_city(await call_registry(client.cities), city_said)
            if city is not None:
                return {"home_region": city["region"], "city": city["name"]}
        region_said = slot_value(tracker, "region") or text
        if region_said:
            region = find_region(await call_registry(client.regions), region_said)
            if region is not None:
                return {"home_region": region["id"]}
        return {}

    def extract_conditions_declared(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        if tracker.get_slot(REQUESTED_SLOT) != "conditions_declared":
            return {}
        intent = latest_intent(tracker)
        if intent == "affirm":
            return {"conditions_declared": True}
        if intent == "deny" and not wants_to_stop(tracker):
            return {"conditions_declared": False}
        return {}

    # -- validation ----------------------------------------------------------------------

    def validate_age(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        if value is None:  # an unreadable answer, already explained in get_extraction_events
            return {"age": None}
        age = slot_rules.clean("age", value)
        if age is None:
            dispatcher.utter_message(response="utter_invalid_age")
        return {"age": age}

    async def validate_education_level(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        if value is None:
            return {"education_level": None}
        level = find_record("education_level", await call_registry(registry_client().education_levels), value)
        if level is not None:
            return {"education_level": level["id"]}
        dispatcher.utter_message(response="utter_invalid_education_level")
        return {"education_level": None}

    async def validate_home_region(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        if value is None:
            return {"home_region": None}
        region = find_region(await call_registry(registry_client().regions), value)
        if region is not None:
            return {"home_region": region["id"]}
        dispatcher.utter_message(response="utter_invalid_home_region")
        return {"home_region": None}

    def validate_conditions_declared(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        return {"conditions_declared": value if isinstance(value, bool) else None}


class ActionAskConditionsDeclared(TawjihAction):
    """The yes/no question about the programme's other conditions, read from the registry."""

    def name(self) -> str:
        return "action_ask_conditions_declared"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        register = wording.register_of(tracker)
        programme = await programme_in_focus(tracker)
        conditions = ((programme or {}).get("eligibility") or {}).get("other_conditions") or []
        dispatcher.utter_message(
            response="utter_ask_conditions_declared",
            programme=wording.programme_name(programme or {}, register),
            conditions=wording.bullet_list(conditions),
            buttons=wording.yes_no_buttons(register),
        )
        return []


class ActionEligibilityVerdict(TawjihAction):
    """Criterion by criterion for the programme in focus, then every programme the person qualifies for."""

    def name(self) -> str:
        return "action_eligibility_verdict"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        declared = tracker.get_slot("conditions_declared")
        person = Person(
            age=slot_value(tracker, "age"),
            education_level=slot_value(tracker, "education_level"),
            region=slot_rules.clean("region", tracker.get_slot("home_region")),
            conditions_declared=declared if isinstance(declared, bool) else None,
        )
        if person.age is None or person.education_level is None or person.region is None:
            return []  # the form was left before the end (registry outage): that was already said
        register = wording.register_of(tracker)
        client = registry_client()
        programmes = await call_registry(client.programmes)
        levels = await call_registry(client.education_levels)
        centres = await call_registry(client.centres)
        regions = await call_registry(client.regions)
        level_ranks = {level["id"]: int(level["rank"]) for level in levels}
        level_names = {level["id"]: wording.level_name(level, register) for level in levels}
        region_names = {r["id"]: wording.region_name(r, register) for r in regions}

        def offering(programme_id: str) -> Set[str]:
            return {c["region"] for c in centres if programme_id in (c.get("programmes") or [])}

        focus_id = slot_value(tracker, "programme")
        focus = next((p for p in programmes if p["id"] == focus_id), None)
        qualifying = [p for p in programmes if qualifies(assess(p, person, level_ranks, offering(p["id"])))]
        qualifying.sort(key=lambda p: p["id"] != focus_id)  # the programme asked about first
        qualifying_names = [wording.programme_name(p, register) for p in qualifying]

        summary: Optional[str] = None if qualifying else NOT_MET
        if focus is not None:
            verdicts = assess(focus, person, level_ranks, offering(focus["id"]))
            summary = overall(verdicts)
            lines = []
            for verdict in verdicts:
                nearest = ""
                if verdict.criterion == "place" and verdict.outcome != MET:
                    nearest = await self._nearest_centre_text(tracker, focus["id"], register)
                lines.append(wording.verdict_line(verdict, level_names, region_names, register, nearest))
            dispatcher.utter_message(
                response="utter_eligibility_verdict" if qualifies(verdicts) else "utter_eligibility_verdict_not_met",
                programme=wording.programme_name(focus, register),
                criteria_lines="\n".join(lines),
                sample_note=wording.sample_note(focus, register),
            )
        if qualifying:
            buttons = [
                wording.button(
                    wording.sessions_button(wording.programme_name(p, register), register),
                    "ask_sessions",
                    programme=p["id"],
                )
                for p in qualifying[:3]
            ] + [wording.adviser_button(register)]
            dispatcher.utter_message(
                response="utter_eligibility_qualifying",
                programme_lines=wording.bullet_list(qualifying_names),
                buttons=buttons,
            )
            return [
                SlotSet("offer", "sessions"),
                SlotSet("programme", qualifying[0]["id"]),
                SlotSet("eligibility_verdict", summary or MET),
            ]
        dispatcher.utter_message(response="utter_eligibility_none", buttons=[wording.adviser_button(register)])
        return [SlotSet("offer", "human"), SlotSet("eligibility_verdict", summary or NOT_MET)]

    @staticmethod
    async def _nearest_centre_text(tracker: Tracker, programme_id: str, register: str) -> str:
        city_name = slot_value(tracker, "city")
        if not city_name:
            return ""
        city = find_city(await call_registry(registry_client().cities), city_name)
        if city is None:
            return ""
        centres = await nearest_centres(city_point(city), programme_id)
        if not centres:
            return ""
        closest = centres[0]
        return f"{closest['name']} ({closest['city']}), {wording.distance(closest.get('distance_km'), register)}"
