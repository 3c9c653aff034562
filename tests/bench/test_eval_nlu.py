"""`make eval`'s wrong-answer and rephrase figures, and the fallback calibration, on rankings with known answers."""

from __future__ import annotations

from typing import List, Tuple

from bench.eval_nlu import SEALED_SETS, answer_kinds, calibrate, calibration_point, falls_back, share

Ranking = List[Tuple[str, float]]


def test_each_message_is_right_wrong_clarified_or_asked_as_the_assistant_would_answer_it() -> None:
    gold = ["ask_cost", "ask_cost", "ask_careers", "ask_cost", "greet"]
    predicted = ["ask_cost", "ask_careers", "nlu_fallback", "nlu_fallback", "nlu_fallback"]
    rankings: List[Ranking] = [
        [("ask_cost", 0.9)],
        [("ask_careers", 0.7), ("ask_cost", 0.2)],
        [("ask_cost", 0.4), ("ask_careers", 0.38)],  # two-way, the right one offered
        [("ask_sessions", 0.4), ("ask_careers", 0.3)],  # two-way, neither is right
        [("greet", 0.3), ("thank", 0.25)],  # greetings are not offered as buttons: asked to rephrase
    ]
    kinds = answer_kinds(gold, predicted, rankings)
    assert kinds == ["right", "wrong", "clarified_right", "clarified", "asked"]
    assert share(kinds, range(5), "wrong") == 0.2
    assert share(kinds, range(5), "asked", "clarified", "clarified_right") == 0.6


def test_the_fallback_rule_is_rasas_threshold_and_ambiguity() -> None:
    assert falls_back([("ask_cost", 0.39), ("ask_careers", 0.1)], threshold=0.4, ambiguity=0.0)
    assert not falls_back([("ask_cost", 0.41), ("ask_careers", 0.1)], threshold=0.4, ambiguity=0.0)
    assert falls_back([("ask_cost", 0.5), ("ask_careers", 0.46)], threshold=0.4, ambiguity=0.05)
    assert not falls_back([("ask_cost", 0.5), ("ask_careers", 0.44)], threshold=0.4, ambiguity=0.05)


def test_calibration_picks_the_fewest_wrong_answers_within_the_rephrase_budget() -> None:
    # 100 messages: 90 sure and right, 6 wrong at 0.55, 4 right at 0.45. A threshold above 0.55 stops
    # the 6 wrong answers but asks back 10 % (over the 6 % budget); 0.50 asks back 4 %, keeps 6 wrong.
    rankings = (
        [("french", "ask_cost", [("ask_cost", 0.95), ("ask_careers", 0.02)])] * 90
        + [("french", "ask_cost", [("ask_careers", 0.55), ("greet", 0.1)])] * 6
        + [("french", "ask_cost", [("ask_cost", 0.45), ("greet", 0.1)])] * 4
    )
    assert calibration_point(rankings, 0.6, 0.0)["asked"] == 0.10
    calibration = calibrate(rankings)
    chosen = calibration["chosen"]
    assert chosen["asked"] <= 0.06 and chosen["wrong"] == 0.06
    assert (
        calibration_point(rankings, 0.3, 0.0)["wrong"] == 0.06 and calibration_point(rankings, 0.3, 0.0)["asked"] == 0
    )


def test_no_register_pays_for_fewer_wrong_answers_with_more_questions_back() -> None:
    # French: 4 wrong at 0.58 among 50; Darija: 50 sure. Stopping the 4 (threshold 0.6) asks back 4 % overall
    # but 8 % of the French messages: over the budget in one register, so 0.55 is kept.
    rankings = (
        [("french", "ask_cost", [("ask_cost", 0.95), ("ask_careers", 0.02)])] * 46
        + [("french", "ask_cost", [("ask_careers", 0.58), ("greet", 0.1)])] * 4
        + [("darija_latin", "ask_cost", [("ask_cost", 0.95), ("greet", 0.02)])] * 50
    )
    stops_them = calibration_point(rankings, 0.6, 0.0)
    assert stops_them["asked"] == 0.04 and stops_them["worst_asked"] == 0.08
    chosen = calibrate(rankings)["chosen"]
    assert chosen["worst_asked"] <= 0.06 and chosen["threshold"] < 0.58


def test_a_wrong_answer_fewer_in_thousands_is_not_bought_with_many_more_questions_back() -> None:
    # 2,000 messages: 0.65 stops one more wrong answer than 0.60 (5 against 6 in 2,000: 0.05 point) but asks
    # back 40 more people. The two count as tied on wrong answers, and 0.60 asks back fewer. (Stopping all
    # six, at 0.75, would ask back 7.5 %: over the budget.)
    rankings = (
        [("french", "ask_cost", [("ask_cost", 0.95), ("ask_careers", 0.02)])] * 1804
        + [("french", "ask_cost", [("ask_cost", 0.72), ("ask_careers", 0.02)])] * 150
        + [("french", "ask_cost", [("ask_careers", 0.7), ("greet", 0.1)])] * 5
        + [("french", "ask_cost", [("ask_careers", 0.62), ("greet", 0.1)])] * 1
        + [("french", "ask_cost", [("ask_cost", 0.62), ("greet", 0.1)])] * 40
    )
    assert calibration_point(rankings, 0.65, 0.0)["wrong"] < calibration_point(rankings, 0.60, 0.0)["wrong"]
    chosen = calibrate(rankings)["chosen"]
    assert chosen["threshold"] <= 0.60 and chosen["asked"] == 0.0 and chosen["wrong"] == 0.003


def test_the_honest_sets_are_sealed() -> None:
    assert {"blind_e.yml", "blind_f.yml"} <= SEALED_SETS


def test_rescoring_at_other_thresholds_is_what_a_model_with_them_would_answer() -> None:
    from bench.eval_nlu import Scores, rescored

    rankings = [
        ("french", "ask_cost", [("ask_cost", 0.9), ("ask_careers", 0.05)]),
        ("french", "ask_cost", [("ask_careers", 0.5), ("ask_cost", 0.45)]),
        ("darija_latin", "ask_careers", [("ask_careers", 0.35), ("greet", 0.3)]),
    ]
    base = Scores("ours", 0, 0, {}, {}, 0, 0, 0, 0, 0, rankings=rankings)
    loose = rescored(base, threshold=0.3, ambiguity=0.0)
    assert (loose.wrong_rate, loose.rephrase_rate) == (1 / 3, 0.0)
    strict = rescored(base, threshold=0.4, ambiguity=0.1)
    assert (strict.wrong_rate, strict.rephrase_rate, strict.clarify_right_rate) == (0.0, 2 / 3, 1 / 3)
    assert strict.per_register_wrong["french"] == 0.0 and strict.per_register_rephrase["darija_latin"] == 1.0
