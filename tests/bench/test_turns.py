"""The pure parts of `make bench`: percentiles, windows, the table and its ratios, results/bench.json, the chart."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict

import pytest

from bench.load import Turn, latency_figures, rss_mb, session_figures, summarise, turn_window
from bench.turns import (
    QUICK,
    Settings,
    chart,
    figure,
    format_ratio,
    format_value,
    ratio,
    results_document,
    rows,
    settings_from,
    table,
)


def bot(p50: float, throughput: float, rss: Dict[str, float]) -> Dict[str, Any]:
    return {
        "one_user": {"p50_ms": p50, "p95_ms": p50 * 2},
        "crowd": {"throughput_msg_s": throughput, "p50_ms": 300.0, "p95_ms": 900.0, "p99_ms": 1500.0, "errors": 0},
        "saturation": {"throughput_msg_s": throughput, "p95_ms": 2000.0, "errors": 2},
        "long_session": {"at_turn": {"10": {"turn_ms": 150.0, "window_p95_ms": 180.0}, "300": {"turn_ms": 210.0}}},
        "rss_mb": rss,
    }


BOTS = {
    "moodbot": bot(141.0, 11.1, {"rasa": 1088.0}),
    "tawjih": bot(220.0, 5.8, {"rasa": 921.0, "actions": 150.0, "registry": 80.0}),
}


def test_percentiles_are_nearest_rank_in_milliseconds() -> None:
    figures = latency_figures([value / 1000 for value in range(1, 101)])  # 1..100 ms
    assert (figures["p50_ms"], figures["p95_ms"], figures["p99_ms"], figures["max_ms"]) == (50, 95, 99, 100)
    assert figures["mean_ms"] == 50.5
    assert latency_figures([])["p50_ms"] is None


def test_summary_times_only_answered_turns_and_divides_them_by_the_elapsed_time() -> None:
    turns = [Turn(1.0, 0.2, 200, None)] * 8 + [Turn(2.0, 30.0, 0, "timeout"), Turn(2.0, 0.01, 503, "HTTP 503")]
    figures = summarise(turns, elapsed=4.0)
    assert figures["sent"] == 10 and figures["answered"] == 8 and figures["errors"] == 2
    assert figures["error_kinds"] == {"HTTP 503": 1, "timeout": 1}
    assert figures["max_ms"] == 200.0
    assert figures["throughput_msg_s"] == 2.0


def test_the_ten_turns_around_a_mark_stay_inside_the_session() -> None:
    assert turn_window(300, 10) == (6, 15)
    assert turn_window(300, 300) == (291, 300)
    assert turn_window(12, 10) == (3, 12)
    assert turn_window(5, 1) == (1, 5)


def test_a_long_session_reports_each_mark() -> None:
    turns = [Turn(float(i), i / 1000, 200, None) for i in range(1, 61)]
    figures = session_figures(turns, (10, 60))
    assert figures["turns"] == 60 and figures["errors"] == 0
    assert figures["at_turn"]["10"] == {
        "turn_ms": 10.0,
        "window": [6, 15],
        "window_p50_ms": 10.0,
        "window_p95_ms": 15.0,
    }
    assert figures["at_turn"]["60"]["turn_ms"] == 60.0
    assert "300" not in session_figures(turns, (10, 300))["at_turn"]


def test_ratios_are_tawjih_over_the_moodbot() -> None:
    assert ratio(220.0, 141.0) == 1.56
    assert ratio(5.8, 11.1) == 0.52
    assert ratio(None, 141.0) is None and ratio(150.0, None) is None and ratio(3.0, 0.0) is None
    assert format_ratio(1.56) == "1.56×" and format_ratio(None) == "–"


def test_values_are_formatted_with_their_unit() -> None:
    assert format_value(2010.4, "ms") == "2,010 ms"
    assert format_value(11.14, "msg/s") == "11.1 msg/s"
    assert format_value(1088.0, "MB") == "1,088 MB"
    assert format_value(3.0, "") == "3"
    assert format_value(None, "ms") == "–"


def test_the_table_puts_both_bots_side_by_side_with_the_ratio() -> None:
    printed = table(BOTS, rows(Settings()))
    lines = printed.splitlines()
    assert lines[0] == "| | stock moodbot | Tawjih | Tawjih / moodbot |"
    assert "| one user, turn p50 | 141 ms | 220 ms | 1.56× |" in lines
    assert "| 50 users (2–5 s think), throughput | 11.1 msg/s | 5.8 msg/s | 0.52× |" in lines
    assert "| action server resident memory | – | 150 MB | – |" in lines
    assert "| one session, turn 300 | 210 ms | 210 ms | 1.00× |" in lines
    # A figure neither bot has (the window around turn 300 here) is left out rather than printed empty.
    assert not any("around 300" in line for line in lines)


def test_a_figure_is_read_by_its_path() -> None:
    assert figure(BOTS["tawjih"], ("rss_mb", "actions")) == 150.0
    assert figure(BOTS["moodbot"], ("rss_mb", "actions")) is None
    assert figure({"a": {"b": True}}, ("a", "b")) is None


def test_results_json_holds_every_figure_the_machine_and_the_ratios() -> None:
    document = results_document(BOTS, QUICK, started=1000.0, finished=1100.0)
    loaded = json.loads(json.dumps(document))
    assert set(loaded) >= {"date", "machine", "cores", "rasa_version", "settings", "messages", "bots"}
    assert loaded["cores"] == os.cpu_count() and loaded["seconds"] == 100.0
    assert loaded["rasa_version"].startswith("3.6")
    assert len(loaded["messages"]) == 9
    assert loaded["settings"]["quick"] is True and loaded["settings"]["session_turns"] == 60
    assert loaded["bots"]["tawjih"]["rss_mb"]["actions"] == 150.0
    ratios = loaded["ratios_tawjih_to_moodbot"]
    assert set(ratios) == {row.key for row in rows(QUICK)}
    assert ratios["one_user.p50_ms"] == 1.56 and ratios["rss_mb.actions"] is None


def test_the_chart_is_a_png(tmp_path: Path) -> None:
    document = results_document(BOTS, Settings(), started=0.0, finished=1.0)
    chart(document, tmp_path / "bench.png")
    assert (tmp_path / "bench.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _args(**given: Any) -> argparse.Namespace:
    names = ("duration", "saturation_duration", "one_user_turns", "session_turns", "timeout", "users")
    return argparse.Namespace(quick=False, **{name: given.get(name) for name in names})


def test_bench_quick_shortens_the_phases_and_options_override_them() -> None:
    assert settings_from(_args(), {}) == Settings()
    quick = settings_from(_args(), {"BENCH_QUICK": "1"})
    assert quick.quick and quick.duration == 15 and quick.session_turns == 60
    assert settings_from(_args(), {"BENCH_QUICK": "0"}) == Settings()
    assert settings_from(_args(duration=90.0), {}).duration == 90.0
    with pytest.raises(SystemExit):
        settings_from(_args(session_turns=5), {})


def test_resident_memory_counts_a_process_and_its_children() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; b = bytearray(64 << 20); time.sleep(30)"])
    try:
        alone = rss_mb(child.pid)
        for _ in range(50):  # until the child has its 64 MB
            if rss_mb(child.pid) > 64:
                break
            time.sleep(0.1)
        assert rss_mb(child.pid) > 64
        assert rss_mb(os.getpid()) > rss_mb(child.pid) >= alone > 0
    finally:
        child.kill()
        child.wait()
    assert rss_mb(child.pid) == 0.0
