"""After a whole conversation, the logs hold no message text, no slot value, no sender id: only what happened."""

from __future__ import annotations

import uuid

import pytest

from tests.e2e.conftest import Stack
from tests.e2e.test_rest_conversation import texts

pytestmark = pytest.mark.e2e

CANARIES = ("Zineb", "Canary", "0612345678", "Tiznit", "zineb.canary@example.ma", "JK123456")


def test_a_conversation_leaves_no_personal_trace_in_the_logs(stack: Stack) -> None:
    person = f"hygiene-{uuid.uuid4().hex[:8]}"
    rasa_before, actions_before = len(stack.rasa.log_text()), len(stack.actions.log_text())
    turns = [
        "Bonjour, je m'appelle Zineb Canary, mon numéro 0612345678, zineb.canary@example.ma, CIN JK123456",
        "j'habite à Tiznit, est-ce que je peux m'inscrire à JobInTech ?",
        "j'ai 19 ans",
        "bac",
        "Tiznit",
        "oui",
        "les centres à Tiznit ?",
        "supprime mes données",
    ]
    replies = [stack.rasa.say(person, turn) for turn in turns]
    confirm = [b["payload"] for b in replies[-1][-1].get("buttons", []) if "confirm_data_deletion" in b["payload"]]
    assert confirm
    assert texts(stack.rasa.say(person, confirm[0]))
    rasa_log = stack.rasa.log_text()[rasa_before:]
    actions_log = stack.actions.log_text()[actions_before:]
    for log in (rasa_log, actions_log):
        for canary in (*CANARIES, person):
            assert canary not in log, f"{canary!r} in a log"
        assert "Traceback" not in log
    assert "rasa.core.nlg.interpolator" not in rasa_log
    # The one line an erasure leaves: that it happened.
    assert rasa_log.count("Erased a conversation at its author's confirmed request") == 1
