"""2,000 odd and hostile messages over REST: every one gets an answer, none a 5xx, a traceback or a tracker.

Bounded and on loopback: 200 people write 10 messages each, 8 at a time; the figures are printed.
"""

from __future__ import annotations

import concurrent.futures
import json
import random
import statistics
import time
import uuid
from typing import List, Tuple

import pytest

from tests.e2e.conftest import Stack
from tests.support.processes import ROOT

pytestmark = pytest.mark.e2e

PEOPLE, MESSAGES_EACH, AT_ONCE = 200, 10, 8
LEAKS = ("Traceback", "sender_id", '"event"', "Exception", "parse_data", "slots")

HOSTILE = [
    "'; DROP TABLE events; --",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "{{7*7}} ${7*7} #{7*7} %s%s%n {0} {register}",
    "${jndi:ldap://127.0.0.1/a}",
    "../../../../etc/passwd",
    "\u202eevil\u202c",
    "\ufeff\u200b\u200c\u200d",
    "NaN",
    "1e309",
    "-0",
    "/",
    "//",
    "/ /",
    "/restart",
    "/session_start",
    "/action_restart",
    "/inform",
    '/inform{"age": -5}',
    '/inform{"age": 100000000000000000000}',
    '/inform{"education_level": "phd"}',
    '/inform{"city": "<script>alert(1)</script>"}',
    '/inform{"register": "klingon"}',
    '/inform{"city": {"$ne": 1}}',
    '/inform{"city": ["Rabat", "Fès"]}',
    '/inform{"age": "19"',
    "/inform[1,2,3]",
    "/inform{}{}",
    '/ask_programme_details{"programme": null}',
    '/ask_sessions{"city": "Rabat", "programme": "../../x"}',
    '/share_location{"latitude": 999, "longitude": "x"}',
    '/send_media{"media": "rm -rf"}',
    '/confirm_data_deletion{"sender": "someone-else"}',
    "/nlu_fallback",
    "/unknown_intent",
    "/greet@1.5",
]
WORDS = "salam bonjour wach kayn formation fin centre imta session bghit nsjl ch7al 3am bac rabat casa".split()
ALPHABETS = [
    "abcdefghijklmnopqrstuvwxyz0123456789",
    "ابتثجحخدذرزسشصضطظعغفقكلمنهوي",
    "éèêàçùôîï«»€",
    "😀🙏👍🔥💯🇲🇦❤️",
    "\x00\x01\x07\x08\x0b\x0c\x1b\x7f",
    "\u200e\u200f\u202a\u202b\u202c\u2066\u2067\u2069",
    "中文字符日本語한국어",
    "\t\n\r ",
]


def odd_message(rng: random.Random) -> str:
    kind = rng.randrange(8)
    if kind == 0:
        return rng.choice(HOSTILE)
    if kind == 1:
        alphabet = "".join(rng.sample(ALPHABETS, 2))
        return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60)))
    if kind == 2:
        return " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 12))) + rng.choice(
            ["", "?", "!!!", " 😀", "\x00"]
        )
    if kind == 3:
        return rng.choice(WORDS) * rng.randint(100, 450)  # long, near and over the limit
    if kind == 4:
        payload = {
            rng.choice(["age", "city", "region", "programme", "education_level", "register", "x"]): rng.choice(
                [rng.randint(-(10**12), 10**12), "Rabat", "<b>x</b>", None, [], {}, 3.5, "ف" * 50]
            )
        }
        return (
            f"/{rng.choice(['inform', 'ask_sessions', 'ask_centres', 'affirm', 'request_human'])}{json.dumps(payload)}"
        )
    if kind == 5:
        return rng.choice(["", " ", "\n", "?", ".", "0", "12", "-1", "oui", "non", "la", "ah", "2"])
    if kind == 6:
        return rng.choice(HOSTILE) + " " + " ".join(rng.choice(WORDS) for _ in range(3))
    return "".join(chr(rng.randint(0x20, 0x2FFF)) for _ in range(rng.randint(1, 40)))


def converse(stack: Stack, person: str, messages: List[str]) -> List[Tuple[int, float, str]]:
    results = []
    for message in messages:
        started = time.monotonic()
        reply = stack.rasa.post(person, message)
        results.append((reply.status_code, time.monotonic() - started, reply.text))
    return results


def test_two_thousand_odd_and_hostile_messages(stack: Stack) -> None:
    rng = random.Random(17)
    people = {f"fuzz-{uuid.uuid4().hex[:8]}": [odd_message(rng) for _ in range(MESSAGES_EACH)] for _ in range(PEOPLE)}
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=AT_ONCE) as pool:
        runs = list(pool.map(lambda item: converse(stack, *item), people.items()))
    elapsed = time.monotonic() - started
    results = [result for run in runs for result in run]
    latencies = sorted(latency for _, latency, _ in results)
    statuses = {status: sum(1 for s, _, _ in results if s == status) for status in {s for s, _, _ in results}}
    figures = (
        f"fuzz: {len(results)} messages from {PEOPLE} people, {AT_ONCE} at a time, in {elapsed:.0f} s "
        f"({len(results) / elapsed:.1f} msg/s); statuses {statuses}; "
        f"p50 {statistics.median(latencies) * 1000:.0f} ms, p95 {latencies[int(0.95 * len(latencies))] * 1000:.0f} ms, "
        f"max {latencies[-1] * 1000:.0f} ms"
    )
    print("\n" + figures)
    (ROOT / "results").mkdir(exist_ok=True)
    (ROOT / "results" / "fuzz.txt").write_text(figures + "\n", encoding="utf-8")
    assert len(results) == PEOPLE * MESSAGES_EACH
    assert statuses == {200: len(results)}, statuses
    empty = [body for _, _, body in results if not any(m.get("text") or m.get("buttons") for m in json.loads(body))]
    assert not empty, f"{len(empty)} messages got no answer"
    leaked = [body[:200] for _, _, body in results if any(leak in body for leak in LEAKS)]
    assert not leaked, leaked[:3]
    for log in (stack.rasa.log_text(), stack.actions.log_text()):
        assert "Traceback" not in log
        assert "DROP TABLE" not in log and "onerror" not in log
