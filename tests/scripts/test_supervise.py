"""scripts/supervise.py, what `make run` starts: real processes, real signals, deadlines instead of sleeps."""

from __future__ import annotations

import os
import pty
import re
import select
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence

import pytest

from tests.scripts.helpers import ROOT, SCRIPTS, alive, load_script, read_pid, wait_for
from tests.support.processes import ManagedProcess, free_port, http_ok

supervise = load_script("supervise")
PYTHON = sys.executable


def part(pid_file: Path, command: str) -> str:
    """A Procfile command that records its pid (atomically) and then becomes ``command``."""
    target = shlex.quote(str(pid_file))
    temporary = shlex.quote(f"{pid_file}.tmp")
    return f"echo $$ > {temporary} && mv {temporary} {target} && {command}"


class Supervised(ManagedProcess):
    """The supervisor on a Procfile written for the test; its output in a log file."""

    def __init__(
        self, tmp_path: Path, procfile: Dict[str, str], args: Sequence[str] = (), env: Optional[Dict[str, str]] = None
    ) -> None:
        path = tmp_path / "Procfile"
        path.write_text("".join(f"{name}: {command}\n" for name, command in procfile.items()), encoding="utf-8")
        argv = [PYTHON, str(SCRIPTS / "supervise.py"), "-f", str(path), *args]
        super().__init__("supervise", argv, env or {}, tmp_path)

    def wait_for_log(self, text: str, timeout: float = 20) -> None:
        wait_for(lambda: text in self.log_text(), timeout, f"{text!r} not in the supervisor's output", self.log_tail)


@pytest.fixture
def supervised(tmp_path: Path) -> Iterator[List[Supervised]]:
    started: List[Supervised] = []
    yield started
    for process in started:
        process.stop()


def test_procfile_is_read_in_order_without_comments(tmp_path: Path) -> None:
    procfile = tmp_path / "Procfile"
    procfile.write_text("# the parts\n\nweb: exec serve --port 1\nworker:python -m work  \n", encoding="utf-8")
    assert supervise.read_procfile(procfile) == {"web": "exec serve --port 1", "worker": "python -m work"}
    procfile.write_text("web exec serve\n", encoding="utf-8")
    with pytest.raises(supervise.ProcfileError, match="line 1"):
        supervise.read_procfile(procfile)


def test_backoff_doubles_up_to_its_longest_and_starts_again_after_a_long_run() -> None:
    backoff = supervise.Backoff(first=1, longest=30, reset_after=60)
    assert [backoff.delay(uptime=2) for _ in range(7)] == [1, 2, 4, 8, 16, 30, 30]
    assert backoff.delay(uptime=60) == 1
    assert backoff.delay(uptime=5) == 2


def test_unknown_part_or_procfile_is_refused(tmp_path: Path) -> None:
    procfile = tmp_path / "Procfile"
    procfile.write_text("one: exec sleep 1\n", encoding="utf-8")
    for argv in ([str(procfile), "two"], [str(tmp_path / "missing")]):
        finished = subprocess.run(
            [PYTHON, str(SCRIPTS / "supervise.py"), "-f", *argv], capture_output=True, text=True, timeout=30
        )
        assert finished.returncode == 2, finished.stderr
        assert "two" in finished.stderr or "missing" in finished.stderr


def test_a_killed_part_is_restarted_and_the_others_keep_running(tmp_path: Path, supervised: List[Supervised]) -> None:
    steady, flaky = tmp_path / "steady.pid", tmp_path / "flaky.pid"
    runner = Supervised(
        tmp_path,
        {
            "steady": part(steady, "echo 'steady is up' && exec sleep 100000"),
            "flaky": part(flaky, "exec sleep 100000"),
        },
    )
    supervised.append(runner)
    wait_for(lambda: alive(read_pid(steady)) and alive(read_pid(flaky)), 20, "both parts running", runner.log_tail)
    steady_pid, first_flaky = read_pid(steady), read_pid(flaky)

    assert first_flaky is not None
    os.kill(first_flaky, signal.SIGKILL)
    wait_for(
        lambda: read_pid(flaky) not in (None, first_flaky) and alive(read_pid(flaky)),
        20,
        "the killed part running again",
        runner.log_tail,
    )
    log = runner.log_text()
    assert "flaky exited (code -9, SIGKILL); restarting in 1 s" in log
    assert read_pid(steady) == steady_pid and alive(steady_pid)
    assert log.count("steady started") == 1 and log.count("flaky started") == 2
    # Each line of a part's output behind the time and its name, as honcho printed it; no colour off a terminal.
    assert re.search(r"^\d\d:\d\d:\d\d steady +\| steady is up$", log, re.MULTILINE), log
    assert "\033[" not in log


def test_the_backoff_doubles_while_a_part_keeps_failing(tmp_path: Path, supervised: List[Supervised]) -> None:
    runner = Supervised(
        tmp_path,
        {"failing": "echo trying; exit 3", "steady": "exec sleep 100000"},
        ["--first-delay", "0.2", "--longest-delay", "0.8"],
    )
    supervised.append(runner)
    wait_for(lambda: runner.log_text().count("failing exited") >= 5, 30, "five exits", runner.log_tail)
    delays = re.findall(r"failing exited \(code 3\); restarting in ([0-9.]+ s)", runner.log_text())
    assert delays[:5] == ["0.2 s", "0.4 s", "0.8 s", "0.8 s", "0.8 s"]
    assert runner.log_text().count("steady started") == 1


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_a_stop_signal_stops_every_part_and_what_they_started(
    tmp_path: Path, supervised: List[Supervised], stop_signal: signal.Signals
) -> None:
    plain, stubborn, parent, child = (tmp_path / f"{name}.pid" for name in ("plain", "stubborn", "parent", "child"))
    child_file = shlex.quote(str(child))
    runner = Supervised(
        tmp_path,
        {
            "plain": part(plain, "exec sleep 100000"),
            # Ignores SIGTERM (an ignored signal stays ignored across exec): only SIGKILL ends it.
            "stubborn": part(stubborn, "trap '' TERM && exec sleep 100000"),
            # Leaves a child that ignores SIGTERM behind when it stops.
            "parent": part(parent, f"(trap '' TERM; exec sleep 100000) & echo $! > {child_file}; wait"),
        },
        ["--grace", "1"],
    )
    supervised.append(runner)
    pid_files = (plain, stubborn, parent, child)
    wait_for(lambda: all(alive(read_pid(path)) for path in pid_files), 20, "every part running", runner.log_tail)
    pids = [read_pid(path) for path in pid_files]

    runner.process.send_signal(stop_signal)
    assert runner.process.wait(timeout=30) == 0, runner.log_tail()
    wait_for(lambda: not any(alive(pid) for pid in pids), 10, "every process gone", runner.log_tail)
    log = runner.log_text()
    assert "stubborn still running after 1 s: SIGKILL" in log
    assert "parent left processes behind after 1 s: SIGKILL" in log
    assert "every part stopped" in log
    assert "restarting" not in log


def test_output_is_coloured_on_a_terminal(tmp_path: Path) -> None:
    procfile = tmp_path / "Procfile"
    procfile.write_text("hello: echo hello && exec sleep 100000\n", encoding="utf-8")
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [PYTHON, str(SCRIPTS / "supervise.py"), "-f", str(procfile)],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=follower,
        stderr=follower,
        env={k: v for k, v in os.environ.items() if k != "NO_COLOR"},
        start_new_session=True,
    )
    os.close(follower)
    coloured = re.compile(rb"\x1b\[\d+m\d\d:\d\d:\d\d hello +\|\x1b\[0m hello")
    seen = b""
    try:
        deadline = time.monotonic() + 20
        while not coloured.search(seen) and time.monotonic() < deadline:
            if select.select([leader], [], [], 0.5)[0]:
                try:
                    seen += os.read(leader, 4096)
                except OSError:
                    break
    finally:
        process.terminate()
        process.wait(timeout=30)
        os.close(leader)
    assert coloured.search(seen), seen


def test_the_registry_killed_under_the_supervisor_answers_again(tmp_path: Path, supervised: List[Supervised]) -> None:
    port = free_port()
    env = {
        "REGISTRY_DATABASE_URL": f"sqlite:///{tmp_path / 'registry.db'}",
        "REGISTRY_HOST": "127.0.0.1",
        "REGISTRY_PORT": str(port),
    }
    seeded = subprocess.run(
        [PYTHON, "-m", "registry", "seed"], cwd=ROOT, env={**os.environ, **env}, capture_output=True, timeout=120
    )
    assert seeded.returncode == 0, seeded.stderr
    pid_file = tmp_path / "registry.pid"
    runner = Supervised(
        tmp_path, {"registry": part(pid_file, f"exec {shlex.quote(PYTHON)} -m registry serve")}, env=env
    )
    supervised.append(runner)
    health = http_ok(f"http://127.0.0.1:{port}/health")
    wait_for(health, 60, "the registry answering /health", runner.log_tail)
    first = read_pid(pid_file)

    assert first is not None
    os.kill(first, signal.SIGKILL)
    wait_for(
        lambda: read_pid(pid_file) not in (None, first) and health(), 60, "/health answering again", runner.log_tail
    )
    assert not alive(first)
    assert "registry exited (code -9, SIGKILL); restarting in 1 s" in runner.log_text()
