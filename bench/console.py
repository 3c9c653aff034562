"""`make bench-console`: the staff console against a tracker store of 100,000 events in 5,000 sessions.

What it does, all on loopback, in a temporary directory (SQLite) or throwaway schemas (``--postgres URL``):

1. Writes a tracker store: the ``events`` table is created by Rasa's own ``SQLTrackerStore``, and the rows are
   bulk-inserted exactly as its ``save`` writes them (``type_name``, ``timestamp``, ``intent_name``,
   ``action_name``, ``data`` = ``json.dumps(event.as_dict())``), from events made with ``rasa.shared.core.events``:
   sessions in French, Darija in Latin letters and in Arabic script, over four channels, some with phone
   numbers, e-mail addresses, CIN numbers and names (so masking has work to do), some with a fallback, an
   adviser request or an eligibility verdict, about 3,000 people (some with several sessions) and one
   session of 5,000 events.
2. Starts the real console (``python -m console serve``) on a free port with its own database, adds an admin
   (password on standard input) and logs in through ``/login`` with the form's CSRF token.
3. Measures the first index build (from the first list request until the list holds every session), the
   incremental update after 100 new events are appended, then N requests each of the list (page 1, a deep
   page), a filtered list, an ordinary transcript and the 5,000-event session's transcript (first and last
   page), and prints p50 / p95 / max. Figures go to ``results/bench-console.json`` (one entry per backend).

It prints figures; it asserts nothing about them (the aim is list and transcript p95 under 300 ms on SQLite).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Sequence, Tuple

import requests

if TYPE_CHECKING:
    import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "results" / "bench-console.json"
PYTHON = sys.executable
DAY = 86400.0

CHANNELS = (("socketio", 0.4), ("whatsapp", 0.25), ("rest", 0.2), ("twilio_whatsapp", 0.15))
REGISTERS = (("french", 0.45), ("darija_latin", 0.35), ("darija_arabic", 0.2))
# What the filtered list asks for: it matches a few dozen sessions of the generated store.
FILTER = {"channel": "whatsapp", "register": "darija_latin", "q": "bghit", "had_fallback": "yes"}

# The flags of the generated sessions (see _features) and the list filter that finds them.
FLAG_FILTERS = {"fallback": "had_fallback", "adviser": "asked_adviser", "verdict": "verdict_given"}

# --- what people write, per register ----------------------------------------------------------------------------
NAMES_LATIN = (
    "Karim Benali",
    "Salma El Idrissi",
    "Youssef Amrani",
    "Fatima Zahra Alaoui",
    "Hamza Tazi",
    "Nadia Berrada",
)
NAMES_ARABIC = ("كريم بنعلي", "سلمى الإدريسي", "يوسف العمراني", "نادية برادة")
CITIES = ("Casablanca", "Rabat", "Tanger", "Fès", "Marrakech", "Agadir", "Oujda")
CITIES_ARABIC = dict(zip(CITIES, ("الدار البيضاء", "الرباط", "طنجة", "فاس", "مراكش", "أكادير", "وجدة"), strict=True))

TEXTS: Dict[str, Dict[str, Sequence[str]]] = {
    "french": {
        "greet": ("Bonjour", "Salut, bonsoir", "bonjour madame", "Bonjour, j'ai une question"),
        "ask_programmes": ("Quelles formations proposez-vous ?", "je cherche une formation en informatique"),
        "ask_centres": ("Où se trouve le centre le plus proche à {city} ?", "il y a un centre à {city} ?"),
        "ask_cost": ("C'est combien la formation ?", "est-ce que c'est gratuit ?"),
        "how_to_apply": ("Comment je peux m'inscrire ?", "quels papiers pour l'inscription ?"),
        "ask_sessions": ("La prochaine session commence quand ?",),
        "ask_careers": ("Après la formation je peux travailler où ?",),
        "inform_pii": (
            "je m'appelle {name}, mon numéro est {phone}",
            "mon mail c'est {email} et mon tél {phone}",
            "ma CIN est {cin}",
        ),
        "nlu_fallback": ("euh je sais pas trop", "azerty qsdf", "hmm ok et alors"),
        "request_human": ("je veux parler à un conseiller", "est-ce que je peux avoir quelqu'un au téléphone ?"),
        "ask_eligibility": ("est-ce que je peux m'inscrire sans le bac ?", "je suis éligible ?"),
        "inform_age": ("j'ai {age} ans", "{age} ans"),
        "thank": ("merci beaucoup", "merci"),
        "goodbye": ("au revoir", "bonne journée"),
    },
    "darija_latin": {
        "greet": ("salam", "slm cv", "salam alikoum", "salam, bghit nsowl"),
        "ask_programmes": ("chno homa les formations li kaynin?", "bghit ndir chi formation f l'informatique"),
        "ask_centres": ("fin kayn centre f {city}?", "wach kayn chi centre f {city}"),
        "ask_cost": ("bchhal l formation?", "wach b flouss?"),
        "how_to_apply": ("kifach ntsejel?", "chno khasni bach ntsejel"),
        "ask_sessions": ("imta tabda l formation?",),
        "ask_careers": ("mn b3d l formation fin nkhdem?",),
        "inform_pii": ("smiti {name}, numero dyali {phone}", "ana smiti {name}", "hada numero dyali {phone}"),
        "nlu_fallback": ("hhhh ok wa9ila", "bghit hadak dak chi", "xyz bla bla"),
        "request_human": ("bghit nhder m3a chi wahed", "bghit chi conseiller 3afak"),
        "ask_eligibility": ("wach n9der ntsejel bla bac?", "wach ana eligible?"),
        "inform_age": ("3ndi {age} 3am", "{age} ans"),
        "thank": ("chokran bzaf", "mrc"),
        "goodbye": ("bslama", "yallah bslama"),
    },
    "darija_arabic": {
        "greet": ("السلام عليكم", "سلام", "سلام، عندي سؤال"),
        "ask_programmes": ("شنو هوما التكوينات لي كاينين؟", "بغيت نقرا شي تكوين"),
        "ask_centres": ("فين كاين المركز ف{city}؟", "واش كاين شي مركز ف{city}؟"),
        "ask_cost": ("بشحال التكوين؟", "واش بفلوس؟"),
        "how_to_apply": ("كيفاش نتسجل؟",),
        "ask_sessions": ("إمتى كيبدا التكوين؟",),
        "ask_careers": ("من بعد التكوين فين نخدم؟",),
        "inform_pii": ("اسمي {name_ar}، الرقم ديالي {phone}", "هذا الرقم ديالي {phone}"),
        "nlu_fallback": ("ههههه واخا", "مفهمتش"),
        "request_human": ("بغيت نهضر مع شي واحد", "عطيني شي مستشار"),
        "ask_eligibility": ("واش خاصني الباك؟", "واش نقدر نتسجل؟"),
        "inform_age": ("عندي {age} عام",),
        "thank": ("شكرا بزاف",),
        "goodbye": ("بسلامة",),
    },
}

REPLIES: Dict[str, Dict[str, str]] = {
    "french": {
        "action_welcome": "Bonjour ! Je suis Tawjih. Je peux t'aider à trouver une formation.",
        "action_list_programmes": "Voici les formations disponibles :",
        "action_list_centres": "Voici les centres les plus proches :",
        "action_cost": "La formation est gratuite.",
        "action_how_to_apply": "Pour t'inscrire, il te faut ta CIN et ton dernier diplôme.",
        "action_list_sessions": "La prochaine session commence en septembre.",
        "action_careers": "Après la formation, tu peux travailler dans les centres d'appels ou le digital.",
        "action_acknowledge_inform": "Merci, c'est noté.",
        "action_fallback": "Je n'ai pas compris. Tu peux reformuler ?",
        "utter_handoff_waiting": "Un conseiller va te répondre bientôt.",
        "utter_ask_age": "Quel âge as-tu ?",
        "action_eligibility_verdict": "Tu peux t'inscrire à ces formations.",
        "utter_you_are_welcome": "Avec plaisir !",
        "utter_goodbye": "À bientôt !",
    },
    "darija_latin": {
        "action_welcome": "Salam! Ana Tawjih, n9der n3awnek tl9a formation.",
        "action_list_programmes": "Hadi homa les formations li kaynin:",
        "action_list_centres": "Hadi homa les centres l9rab lik:",
        "action_cost": "L formation fabor.",
        "action_how_to_apply": "Bach tsejel khassek la CIN w akhir diplome.",
        "action_list_sessions": "L formation jaya katbda f septembre.",
        "action_careers": "Mn b3d l formation t9der tkhdem f centres d'appels wla digital.",
        "action_acknowledge_inform": "Chokran, tsejel.",
        "action_fallback": "Ma fhamtch, 3awd 3afak.",
        "utter_handoff_waiting": "Chi conseiller ghadi yjawbek daba.",
        "utter_ask_age": "Ch7al f 3mrek?",
        "action_eligibility_verdict": "T9der tsejel f had les formations.",
        "utter_you_are_welcome": "Bla jmil!",
        "utter_goodbye": "Bslama!",
    },
    "darija_arabic": {
        "action_welcome": "السلام! أنا توجيه، نقدر نعاونك تلقى تكوين.",
        "action_list_programmes": "هادو هوما التكوينات لي كاينين:",
        "action_list_centres": "هادو هوما المراكز لقراب ليك:",
        "action_cost": "التكوين فابور.",
        "action_how_to_apply": "باش تسجل خاصك البطاقة الوطنية وآخر ديبلوم.",
        "action_list_sessions": "التكوين الجاي كيبدا فشتنبر.",
        "action_careers": "من بعد التكوين تقدر تخدم فمراكز النداء ولا الديجيتال.",
        "action_acknowledge_inform": "شكرا، تسجل.",
        "action_fallback": "مفهمتكش، عاود عافاك.",
        "utter_handoff_waiting": "شي مستشار غادي يجاوبك دابا.",
        "utter_ask_age": "شحال فعمرك؟",
        "action_eligibility_verdict": "تقدر تسجل فهاد التكوينات.",
        "utter_you_are_welcome": "بلا جميل!",
        "utter_goodbye": "بسلامة!",
    },
}

# intent -> (action that answers, key of the reply); weights of an ordinary turn.
ANSWERS = {
    "ask_programmes": "action_list_programmes",
    "ask_centres": "action_list_centres",
    "ask_cost": "action_cost",
    "how_to_apply": "action_how_to_apply",
    "ask_sessions": "action_list_sessions",
    "ask_careers": "action_careers",
    "thank": "utter_you_are_welcome",
    "goodbye": "utter_goodbye",
}
ORDINARY = ("ask_programmes", "ask_centres", "ask_cost", "how_to_apply", "ask_sessions", "ask_careers", "thank")
PROGRAMME_BUTTONS = [
    {"title": "Digital-Offshoring", "payload": '/ask_programme_details{"programme": "digital-offshoring"}'},
    {"title": "Code 212", "payload": '/ask_programme_details{"programme": "code-212"}'},
    {"title": "CMC Tourisme", "payload": '/ask_programme_details{"programme": "cmc-tourisme"}'},
]


# --- the tracker store --------------------------------------------------------------------------------------------
@dataclass
class Plan:
    sessions: int
    events: int
    senders: int
    long_session_events: int


@dataclass
class SessionSpec:
    sender: str
    start: float
    budget: int
    channel: str
    register: str
    long: bool = False


@dataclass
class Built:
    rows: List[Dict[str, Any]] = field(default_factory=list)
    flags: Dict[str, int] = field(default_factory=dict)


class Writer:
    """Makes one session's events (Rasa's own event classes), turn by turn, until its budget of events."""

    def __init__(self, rng: random.Random) -> None:
        with warnings.catch_warnings():
            warnings.showwarning = lambda *args, **kwargs: None
            from rasa.shared.core import events as ev

        self.ev = ev
        self.rng = rng

    def _fill(self, template: str, **fixed: Any) -> str:
        rng = self.rng
        values = dict(
            name=rng.choice(NAMES_LATIN),
            name_ar=rng.choice(NAMES_ARABIC),
            phone=rng.choice(
                (
                    f"06 {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)}",
                    f"07-{rng.randint(10, 99)}-{rng.randint(10, 99)}-{rng.randint(10, 99)}-{rng.randint(10, 99)}",
                    f"+212 6{rng.randint(10000000, 99999999)}",
                )
            ),
            email=f"{rng.choice(('karim', 'salma', 'youssef', 'nadia'))}.{rng.randint(1, 999)}@example.com",
            cin=f"{rng.choice(('AB', 'BK', 'J', 'EE'))}{rng.randint(100000, 999999)}",
            city=rng.choice(CITIES),
            age=rng.randint(16, 30),
        )
        return template.format(**{**values, **fixed})

    def user(
        self, spec: SessionSpec, intent: str, key: str, at: float, entity: Optional[Tuple[str, Any]] = None
    ) -> Any:
        """A user message; ``entity`` (name, value) is written in the text and given with its position."""
        extra = []
        fixed = {}
        if entity is not None:
            name, value = entity
            # In Arabic script the city is written in Arabic; the entity's value is the catalogue's name.
            fixed[name] = CITIES_ARABIC[value] if name == "city" and spec.register == "darija_arabic" else str(value)
        text = self._fill(self.rng.choice(TEXTS[spec.register][key]), **fixed)
        if entity is not None:
            start = text.find(fixed[entity[0]])
            extra = [{"entity": entity[0], "value": entity[1], "start": start, "end": start + len(fixed[entity[0]])}]
        detected = {"entity": "register", "value": spec.register, "start": 0, "end": len(text)}
        entities = [{**detected, "extractor": "RegisterDetector"}, *extra]
        confidence = (
            round(self.rng.uniform(0.3, 0.6), 3) if intent == "nlu_fallback" else round(self.rng.uniform(0.7, 0.99), 3)
        )
        parse_data = {
            "intent": {"name": intent, "confidence": confidence},
            "entities": entities,
            "text": text,
            "intent_ranking": [{"name": intent, "confidence": confidence}],
        }
        return self.ev.UserUttered(
            text,
            {"name": intent, "confidence": confidence},
            entities,
            parse_data,
            timestamp=at,
            input_channel=spec.channel,
            message_id=f"{self.rng.getrandbits(128):032x}",
        )

    def bot(self, spec: SessionSpec, action: str, at: float) -> Any:
        data = {"buttons": PROGRAMME_BUTTONS} if action == "action_list_programmes" else {}
        return self.ev.BotUttered(REPLIES[spec.register][action], data, {"utter_action": action}, timestamp=at)

    def turn(self, spec: SessionSpec, intent: str, at: float) -> List[Any]:
        ev = self.ev
        out: List[Any] = []
        if intent == "ask_eligibility":
            age = self.rng.randint(16, 30)
            out += [
                self.user(spec, intent, "ask_eligibility", at),
                ev.SlotSet("register", spec.register, timestamp=at + 0.05),
                ev.ActionExecuted("eligibility_form", timestamp=at + 0.3),
                ev.ActiveLoop("eligibility_form", timestamp=at + 0.31),
                self.bot(spec, "utter_ask_age", at + 0.35),
                ev.ActionExecuted("action_listen", timestamp=at + 0.4),
            ]
            at += self.rng.uniform(5, 40)
            out += [
                self.user(spec, "inform", "inform_age", at, ("age", age)),
                ev.SlotSet("age", age, timestamp=at + 0.05),
                ev.ActionExecuted("eligibility_form", timestamp=at + 0.3),
                ev.ActiveLoop(None, timestamp=at + 0.31),
                ev.ActionExecuted("action_eligibility_verdict", timestamp=at + 0.4),
                self.bot(spec, "action_eligibility_verdict", at + 0.45),
                ev.ActionExecuted("action_listen", timestamp=at + 0.5),
            ]
            return out
        if intent == "inform_pii":
            user, action = self.user(spec, "inform", "inform_pii", at), "action_acknowledge_inform"
        elif intent == "nlu_fallback":
            user, action = self.user(spec, intent, "nlu_fallback", at), "action_fallback"
        elif intent == "request_human":
            user, action = self.user(spec, intent, "request_human", at), "utter_handoff_waiting"
        elif intent == "greet":
            user, action = self.user(spec, intent, "greet", at), "action_welcome"
        else:
            city = ("city", self.rng.choice(CITIES)) if intent == "ask_centres" else None
            user, action = self.user(spec, intent, intent, at, city), ANSWERS[intent]
        out += [
            user,
            ev.SlotSet("register", spec.register, timestamp=at + 0.05),
            ev.ActionExecuted(action, timestamp=at + 0.3),
            self.bot(spec, action, at + 0.35),
            ev.ActionExecuted("action_listen", timestamp=at + 0.4),
        ]
        return out

    def session(self, spec: SessionSpec, flags: Dict[str, int]) -> List[Any]:
        """``action_session_start``, ``session_started``, ``action_listen``, then turns, cut at the budget."""
        ev, rng = self.ev, self.rng
        at = spec.start
        events: List[Any] = [
            ev.ActionExecuted("action_session_start", timestamp=at),
            ev.SessionStarted(timestamp=at + 0.01),
            ev.ActionExecuted("action_listen", timestamp=at + 0.02),
        ]
        # What makes this session stand out, if anything.
        roll = rng.random()
        special = (
            "nlu_fallback"
            if roll < 0.14
            else "request_human"
            if roll < 0.20
            else "ask_eligibility"
            if roll < 0.30
            else "inform_pii"
            if roll < 0.45
            else None
        )
        # An eligibility check is long (13 events): it opens the session instead of a greeting.
        intents = [] if special == "ask_eligibility" else ["greet"]
        turns_left = max(1, spec.budget // 5)
        for index in range(1, turns_left + 1):
            if special is not None and index == 1:
                intents.append(special)
            elif spec.long and index % 50 == 0:
                intents.append(rng.choice(("nlu_fallback", "inform_pii", "request_human")))
            else:
                intents.append(rng.choice(ORDINARY))
        at += 1.0
        for intent in intents:
            if len(events) >= spec.budget:
                break
            events += self.turn(spec, intent, at)
            at = events[-1].timestamp + (rng.uniform(3, 15) if spec.long else rng.uniform(5, 90))
        events = events[: spec.budget]
        for name in _features(events):
            flags[name] = flags.get(name, 0) + 1
        return events


def _features(events: Sequence[Any]) -> List[str]:
    """What the list's flags should say of a session (for the printed summary)."""
    found = set()
    for event in events:
        intent = (getattr(event, "intent", None) or {}).get("name") if event.type_name == "user" else None
        if intent == "nlu_fallback":
            found.add("fallback")
        elif intent == "request_human":
            found.add("adviser")
        elif intent == "inform" and any(mark in event.text for mark in ("06 ", "07-", "+212", "@", "CIN", "smiti")):
            found.add("personal_data")
        elif event.type_name == "action" and event.action_name == "action_eligibility_verdict":
            found.add("verdict")
    return sorted(found)


def plan_sessions(plan: Plan, rng: random.Random, now: float) -> List[SessionSpec]:
    """Who talks when: ``plan.sessions`` sessions over the last 30 days, across ``plan.senders`` people (the
    first sessions one per person, the rest to people already seen), one of them ``long_session_events`` long;
    the events add up to ``plan.events`` exactly."""
    ordinary = plan.sessions - 1
    remaining = plan.events - plan.long_session_events
    mean = remaining / ordinary
    low = 8
    high = max(low, int(2 * mean) - low)
    budgets = [rng.randint(low, high) for _ in range(ordinary)]
    difference = remaining - sum(budgets)
    while difference != 0:
        index = rng.randrange(ordinary)
        step = 1 if difference > 0 else -1
        if budgets[index] + step >= low:
            budgets[index] += step
            difference -= step
    people = [f"bench-{rng.getrandbits(48):012x}" for _ in range(plan.senders)]
    owners = [people[i] if i < plan.senders else rng.choice(people) for i in range(ordinary)]
    by_person: Dict[str, List[int]] = {}
    for index, person in enumerate(owners):
        by_person.setdefault(person, []).append(index)
    window_start = now - 30 * DAY
    specs: List[Optional[SessionSpec]] = [None] * ordinary
    for person, indices in by_person.items():
        # A person's sessions a few days apart, never overlapping.
        slot = (30 * DAY - 2 * 3600) / len(indices)
        for order, index in enumerate(indices):
            start = window_start + order * slot + rng.uniform(0, slot - 3 * 3600)
            specs[index] = SessionSpec(
                sender=person,
                start=start,
                budget=budgets[index],
                channel=_weighted(rng, CHANNELS),
                register=_weighted(rng, REGISTERS),
            )
    long_spec = SessionSpec(
        sender=f"bench-long-{rng.getrandbits(48):012x}",
        start=now - DAY,
        budget=plan.long_session_events,
        channel="whatsapp",
        register="darija_latin",
        long=True,
    )
    return [spec for spec in specs if spec is not None] + [long_spec]


def _weighted(rng: random.Random, choices: Sequence[Tuple[str, float]]) -> str:
    return rng.choices([name for name, _ in choices], weights=[weight for _, weight in choices])[0]


def row_of(sender_id: str, event: Any) -> Dict[str, Any]:
    """The ``events`` row Rasa's ``SQLTrackerStore.save`` writes for this event (rasa/core/tracker_store.py)."""
    data = event.as_dict()
    return {
        "sender_id": sender_id,
        "type_name": event.type_name,
        "timestamp": data.get("timestamp"),
        "intent_name": data.get("parse_data", {}).get("intent", {}).get("name"),
        "action_name": data.get("name"),
        "data": json.dumps(data),
    }


def build_rows(specs: Sequence[SessionSpec], rng: random.Random) -> Built:
    """Every event of every session as rows, in time order (event ids grow with time, people interleaved)."""
    writer = Writer(rng)
    built = Built()
    timed: List[Tuple[float, int, Dict[str, Any]]] = []
    sequence = 0
    for spec in specs:
        for event in writer.session(spec, built.flags):
            timed.append((float(event.timestamp), sequence, row_of(spec.sender, event)))
            sequence += 1
    timed.sort(key=lambda item: (item[0], item[1]))
    built.rows = [row for _, _, row in timed]
    return built


def events_table(tracker_store_url: str) -> Tuple[sa.engine.Engine, sa.Table]:
    """Rasa's own ``SQLTrackerStore`` creates the table (its columns and its ``sender_id`` index)."""
    with warnings.catch_warnings():
        # Importing Rasa adds filters of its libraries' own (sanic: DeprecationWarning "once"): show nothing.
        warnings.showwarning = lambda *args, **kwargs: None
        from rasa.core.tracker_store import SQLTrackerStore
        from rasa.shared.core.domain import Domain

        domain = Domain.load(str(ROOT / "domain.yml"))
        store = SQLTrackerStore(domain=domain, host=tracker_store_url)
    return store.engine, store.SQLEvent.__table__  # type: ignore[attr-defined]


def insert_rows(engine: sa.engine.Engine, table: sa.Table, rows: Sequence[Dict[str, Any]], chunk: int = 5000) -> None:
    for start in range(0, len(rows), chunk):
        with engine.begin() as connection:
            connection.execute(table.insert(), list(rows[start : start + chunk]))


# --- the console process --------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ConsoleServer:
    """``python -m console serve`` in its own process group, its output in a log file."""

    def __init__(self, env: Dict[str, str], log_path: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "RASA_TELEMETRY_ENABLED": "false",
            "CONSOLE_HOST": "127.0.0.1",
            "CONSOLE_PORT": str(self.port),
            "CONSOLE_SECRET_KEY": secrets.token_urlsafe(32),
            # The handoff's settings: the benchmark reads pages only, no Rasa is called.
            "RASA_AUTH_TOKEN": secrets.token_urlsafe(24),
            "HANDOFF_SERVICE_TOKEN": secrets.token_urlsafe(24),
            **env,
        }
        self.log_path = log_path
        self.process: Optional[subprocess.Popen] = None

    def cli(self, *args: str, stdin: str = "") -> None:
        done = subprocess.run(
            [PYTHON, "-m", "console", *args],
            cwd=ROOT,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if done.returncode != 0:
            raise RuntimeError(f"python -m console {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")

    def start(self, timeout: float = 180.0) -> None:
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [PYTHON, "-m", "console", "serve"],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the console exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                if requests.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"the console did not answer in {timeout:.0f}s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def log_in(url: str, username: str, password: str) -> requests.Session:
    http = requests.Session()
    form = http.get(f"{url}/login", timeout=30)
    found = CSRF_FIELD.search(form.text)
    if not found:
        raise RuntimeError("no csrf_token field on /login")
    answer = http.post(
        f"{url}/login",
        data={"username": username, "password": password, "csrf_token": found.group(1)},
        allow_redirects=False,
        timeout=60,
    )
    if answer.status_code != 303:
        raise RuntimeError(f"logging in failed: HTTP {answer.status_code}")
    return http


# --- measuring ----------------------------------------------------------------------------------------------------
def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, int(-(-share * len(ordered) // 1)))
    return ordered[min(rank, len(ordered)) - 1]


def timed_get(http: requests.Session, url: str, params: Optional[Dict[str, Any]] = None) -> Tuple[float, Any]:
    started = time.perf_counter()
    answer = http.get(url, params=params, timeout=120)
    elapsed = (time.perf_counter() - started) * 1000
    if answer.status_code != 200:
        raise RuntimeError(f"GET {answer.url}: HTTP {answer.status_code} {answer.text[:300]}")
    return elapsed, answer.json()


def wait_for_index(
    http: requests.Session, url: str, expected: int, timeout: float
) -> Tuple[float, float, int, List[float]]:
    """Ask for the list until it holds ``expected`` sessions and says the index is up to date. Returns the
    seconds until then, the first answer's milliseconds, how many requests it took and each one's time."""
    started = time.perf_counter()
    first_ms: Optional[float] = None
    latencies: List[float] = []
    while True:
        elapsed, body = timed_get(http, f"{url}/api/v1/conversations")
        latencies.append(elapsed)
        if first_ms is None:
            first_ms = elapsed
        if body["count"] >= expected and body["index"]["ok"]:
            return time.perf_counter() - started, first_ms, len(latencies), latencies
        if time.perf_counter() - started > timeout:
            raise TimeoutError(f"the index held {body['count']} of {expected} sessions after {timeout:.0f}s")
        time.sleep(0.05)


@dataclass
class Measure:
    name: str
    path: str
    params: Dict[str, Any] = field(default_factory=dict)
    check: Optional[Callable[[Any], bool]] = None


def run_measure(http: requests.Session, url: str, measure: Measure, count: int, warmup: int = 5) -> Dict[str, Any]:
    for _ in range(warmup):
        timed_get(http, url + measure.path, measure.params)
    latencies = []
    for _ in range(count):
        elapsed, body = timed_get(http, url + measure.path, measure.params)
        if measure.check is not None and not measure.check(body):
            raise RuntimeError(f"{measure.name}: unexpected answer")
        latencies.append(elapsed)
    return {
        "requests": count,
        "p50_ms": round(percentile(latencies, 0.50), 1),
        "p95_ms": round(percentile(latencies, 0.95), 1),
        "max_ms": round(max(latencies), 1),
        "mean_ms": round(sum(latencies) / len(latencies), 1),
    }


def run_rotating(
    http: requests.Session, url: str, paths: Sequence[str], count: int, params: Optional[Dict[str, Any]] = None
) -> Dict[str, Any]:
    """Like ``run_measure``, each request for the next of several sessions (not one page served again)."""
    for path in paths[:5]:
        timed_get(http, url + path, params)
    latencies = [timed_get(http, url + paths[i % len(paths)], params)[0] for i in range(count)]
    return {
        "requests": count,
        "p50_ms": round(percentile(latencies, 0.50), 1),
        "p95_ms": round(percentile(latencies, 0.95), 1),
        "max_ms": round(max(latencies), 1),
        "mean_ms": round(sum(latencies) / len(latencies), 1),
        "sessions": len(paths),
    }


# --- the storage: SQLite files or PostgreSQL schemas ---------------------------------------------------------------
class Storage:
    def __init__(self, work: Path, postgres: Optional[str]) -> None:
        self.work = work
        self.postgres = postgres
        self.schemas: List[str] = []

    @property
    def backend(self) -> str:
        return "postgresql" if self.postgres else "sqlite"

    def url(self, purpose: str) -> str:
        if not self.postgres:
            return f"sqlite:///{self.work / f'{purpose}.db'}"
        import psycopg2

        schema = f"bench_console_{purpose}_{secrets.token_hex(5)}"
        with psycopg2.connect(self.postgres) as connection, connection.cursor() as cursor:
            cursor.execute(f'CREATE SCHEMA "{schema}"')
        self.schemas.append(schema)
        separator = "&" if "?" in self.postgres else "?"
        return f"{self.postgres}{separator}options=-csearch_path%3D{schema}"

    def drop(self) -> None:
        if not self.schemas:
            return
        import psycopg2

        connection = psycopg2.connect(self.postgres)
        connection.autocommit = True
        with connection.cursor() as cursor:
            while self.schemas:
                cursor.execute(f'DROP SCHEMA "{self.schemas.pop()}" CASCADE')
        connection.close()


def machine() -> Dict[str, Any]:
    load = os.getloadavg()
    return {
        "cpus": os.cpu_count(),
        "load_average_1_5_15": [round(value, 2) for value in load],
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def server_version(postgres: Optional[str]) -> Optional[str]:
    if not postgres:
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version}"
    import psycopg2

    with psycopg2.connect(postgres) as connection, connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return f"PostgreSQL {cursor.fetchone()[0]}"


def appended_sessions(senders: Sequence[str], now: float, rng: random.Random) -> List[SessionSpec]:
    """100 new events: five new sessions of 20 events, three by people already in the store, two by new ones."""
    people = list(rng.sample(list(senders), 3)) + [f"bench-new-{secrets.token_hex(6)}" for _ in range(2)]
    return [
        SessionSpec(sender=person, start=now + i * 60, budget=20, channel="socketio", register="french")
        for i, person in enumerate(people)
    ]


def run(args: argparse.Namespace) -> Dict[str, Any]:
    rng = random.Random(args.seed)
    total_events = args.sessions * args.events_per_session
    long_events = min(args.long_session_events, total_events // 4)
    plan = Plan(
        sessions=args.sessions,
        events=total_events,
        senders=max(1, min(args.sessions - 1, round(args.sessions * 0.6))),
        long_session_events=long_events,
    )
    results: Dict[str, Any] = {"machine_before": machine()}
    with tempfile.TemporaryDirectory(prefix="bench-console-") as temp:
        work = Path(temp)
        storage = Storage(work, args.postgres)
        server: Optional[ConsoleServer] = None
        try:
            tracker_url, console_url = storage.url("tracker"), storage.url("console")
            results["backend"] = storage.backend
            results["database"] = server_version(args.postgres)
            now = time.time()

            print(f"Generating {plan.events:,} events in {plan.sessions:,} sessions ({plan.senders:,} people)…")
            started = time.perf_counter()
            specs = plan_sessions(plan, rng, now - 2 * 3600)
            built = build_rows(specs, rng)
            generated = time.perf_counter() - started
            engine, table = events_table(tracker_url)
            started = time.perf_counter()
            insert_rows(engine, table, built.rows)
            inserted = time.perf_counter() - started
            print(f"  made in {generated:.1f} s, bulk-inserted in {inserted:.1f} s; sessions with: {built.flags}")
            results["store"] = {
                "events": len(built.rows),
                "sessions": len(specs),
                "people": len({spec.sender for spec in specs}),
                "long_session_events": long_events,
                "sessions_with": built.flags,
                "generate_seconds": round(generated, 1),
                "insert_seconds": round(inserted, 1),
            }

            server = ConsoleServer(
                {"CONSOLE_DATABASE_URL": console_url, "TRACKER_STORE_URL": tracker_url}, work / "console.log"
            )
            password = secrets.token_urlsafe(18)
            server.cli("users", "add", "bench", "--role", "admin", stdin=password + "\n")
            server.start()
            http = log_in(server.url, "bench", password)
            print(f"Console up at {server.url}; first index build…")

            seconds, first_ms, asked, _ = wait_for_index(http, server.url, len(specs), args.timeout)
            results["first_index_build"] = {
                "seconds": round(seconds, 2),
                "first_answer_ms": round(first_ms, 1),
                "list_requests_until_complete": asked,
            }
            print(f"  {seconds:.1f} s until the list held all {len(specs):,} sessions ({asked} list requests)")

            extra = appended_sessions([spec.sender for spec in specs[:-1]], time.time(), rng)
            appended = build_rows(extra, rng)
            new_rows = appended.rows
            insert_rows(engine, table, new_rows)
            seconds, first_ms, asked, latencies = wait_for_index(http, server.url, len(specs) + 5, args.timeout)
            # Every list request reads the new events first (waiting up to 1.5 s for them): the first answer
            # after the append includes the incremental refresh.
            results["incremental_update"] = {
                "new_events": len(new_rows),
                "new_sessions": len(extra),
                "seconds_until_listed": round(seconds, 3),
                "first_list_answer_ms": round(first_ms, 1),
                "list_requests": asked,
                "list_answers_ms": [round(value, 1) for value in latencies],
            }
            print(f"  {len(new_rows)} new events listed after {seconds * 1000:.0f} ms ({asked} list request(s))")
            engine.dispose()

            listing = http.get(f"{server.url}/api/v1/conversations", timeout=60).json()
            deep_page = max(1, listing["pages"] * 9 // 10)
            long_listing = http.get(
                f"{server.url}/api/v1/conversations", params={"min_length": long_events // 10}, timeout=60
            )
            long_rows = long_listing.json()["data"]
            if not long_rows:
                raise RuntimeError("the long session is not in the list")
            long_id = long_rows[0]["session_id"]
            long_pages = http.get(f"{server.url}/api/v1/conversations/{long_id}", timeout=60).json()["pages"]
            # Up to 100 ordinary sessions, from pages across the list, each transcript asked for in turn.
            ordinary_ids: List[int] = []
            for page in sorted({1, 2, 5, 9, listing["pages"] // 2, listing["pages"]}):
                if 1 <= page <= listing["pages"]:
                    answer = http.get(f"{server.url}/api/v1/conversations", params={"page": page}, timeout=60)
                    ordinary_ids += [row["session_id"] for row in answer.json()["data"] if row["session_id"] != long_id]
            if not ordinary_ids:
                raise RuntimeError("no ordinary session in the list")
            rng.shuffle(ordinary_ids)
            filtered = http.get(f"{server.url}/api/v1/conversations", params=FILTER, timeout=60).json()
            results["filter"] = {"params": FILTER, "matches": filtered["count"]}
            # The index agrees with what was written: each flag's sessions, counted through the filters.
            expected = {name: built.flags.get(name, 0) + appended.flags.get(name, 0) for name in FLAG_FILTERS}
            listed = {
                name: http.get(f"{server.url}/api/v1/conversations", params={flag: "yes"}, timeout=60).json()["count"]
                for name, flag in FLAG_FILTERS.items()
            }
            results["index_check"] = {"generated": expected, "listed": listed, "agree": expected == listed}
            print(f"  index check (sessions per flag, generated vs listed): {expected} vs {listed}")
            results["list_pages"] = listing["pages"]
            results["deep_page"] = deep_page
            results["long_session_pages"] = long_pages
            print(f"Timing {args.requests} requests of each (after 5 warm-up requests)…")

            def has_rows(body: Any) -> bool:
                return bool(body["data"])

            def has_items(body: Any) -> bool:
                return bool(body["items"])

            figures: Dict[str, Any] = {}
            for measure in (
                Measure("list, page 1", "/api/v1/conversations", {}, has_rows),
                Measure(f"list, deep page ({deep_page})", "/api/v1/conversations", {"page": deep_page}, has_rows),
                Measure("filtered list", "/api/v1/conversations", FILTER),
            ):
                figures[measure.name] = run_measure(http, server.url, measure, args.requests)
                print(f"  {measure.name:<46} {_line(figures[measure.name])}")
            name = "transcript, ordinary session"
            paths = [f"/api/v1/conversations/{i}" for i in ordinary_ids[:100]]
            figures[name] = run_rotating(http, server.url, paths, args.requests)
            print(f"  {name:<46} {_line(figures[name])}")
            for label, page in (("first", 1), ("last", long_pages)):
                measure = Measure(
                    f"transcript, {long_events:,}-event session, {label} page",
                    f"/api/v1/conversations/{long_id}",
                    {"page": page},
                    has_items,
                )
                figures[measure.name] = run_measure(http, server.url, measure, args.requests)
                print(f"  {measure.name:<46} {_line(figures[measure.name])}")
            for measure in (
                Measure("page /conversations (HTML)", "/conversations"),
                Measure(f"page /conversations/{{id}} ({long_events:,} events)", f"/conversations/{long_id}"),
            ):
                figures[measure.name] = run_measure_html(http, server.url, measure, args.requests)
                print(f"  {measure.name:<46} {_line(figures[measure.name])}")
            results["requests"] = figures
        finally:
            if server is not None:
                server.stop()
            storage.drop()
    results["machine_after"] = machine()
    return results


def run_measure_html(http: requests.Session, url: str, measure: Measure, count: int) -> Dict[str, Any]:
    """The pages staff open, rendered (masked, escaped): the same figures for an HTML answer."""
    latencies = []
    for index in range(count + 5):
        started = time.perf_counter()
        answer = http.get(url + measure.path, params=measure.params, timeout=120, allow_redirects=False)
        elapsed = (time.perf_counter() - started) * 1000
        if answer.status_code != 200:
            raise RuntimeError(f"GET {answer.url}: HTTP {answer.status_code}")
        if index >= 5:
            latencies.append(elapsed)
    return {
        "requests": count,
        "p50_ms": round(percentile(latencies, 0.50), 1),
        "p95_ms": round(percentile(latencies, 0.95), 1),
        "max_ms": round(max(latencies), 1),
        "mean_ms": round(sum(latencies) / len(latencies), 1),
    }


def _line(figures: Dict[str, Any]) -> str:
    return f"p50 {figures['p50_ms']:>7.1f} ms   p95 {figures['p95_ms']:>7.1f} ms   max {figures['max_ms']:>7.1f} ms"


def save(results: Dict[str, Any], path: Path = RESULTS) -> None:
    """One entry per backend, so the SQLite and PostgreSQL runs sit side by side."""
    path.parent.mkdir(parents=True, exist_ok=True)
    kept: Dict[str, Any] = {}
    if path.exists():
        try:
            kept = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            kept = {}
    kept[results["backend"]] = {**results, "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    path.write_text(json.dumps(kept, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("a whole number from 1")
    return number


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.console", description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", metavar="URL", help="Use throwaway schemas in this PostgreSQL database.")
    parser.add_argument("--sessions", type=_positive, default=5000, help="Sessions in the tracker store (5000).")
    parser.add_argument(
        "--events-per-session", type=_positive, default=20, help="Mean events per session (20: 100,000 in all)."
    )
    parser.add_argument("--long-session-events", type=_positive, default=5000, help="The one long session (5000).")
    parser.add_argument("--requests", type=_positive, default=200, help="Timed requests per measure (200).")
    parser.add_argument("--timeout", type=float, default=1800.0, help="Seconds the index may take (1800).")
    parser.add_argument("--seed", type=int, default=18, help="Random seed of the generated conversations.")
    args = parser.parse_args(argv)
    if args.sessions < 2:
        parser.error("--sessions: at least 2")
    if args.sessions * args.events_per_session < 8 * args.sessions + 20:
        parser.error("--events-per-session: at least 9")
    return args


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    # Ctrl-C or a TERM from make: stop the console and drop the schemas on the way out (the `finally`s).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    results = run(args)
    save(results)
    print(f"Written to {RESULTS.relative_to(ROOT)} ({results['backend']}).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
