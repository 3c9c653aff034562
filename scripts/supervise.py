"""Run every part of a Procfile on one machine, and keep them running (what `make run` starts).

    python scripts/supervise.py [-f Procfile] [--grace SECONDS] [PART ...]

Each Procfile line ``name: command`` is one part, run with ``/bin/sh -c`` in its own process
group, with its standard input from /dev/null. Every line a part writes (stdout and stderr)
is printed with the time and the part's name in front, coloured when the output is a terminal.

A part that exits, for whatever reason, is started again after a back-off: 1 s, then twice as
long after each exit in a row, up to 30 s; a part that stayed up for 60 s starts again at 1 s.
The log says so ("registry exited (code -9); restarting in 1 s"), and the other parts keep
serving meanwhile. Ctrl-C or SIGTERM stops everything: SIGTERM to each part's process group,
SIGKILL to whatever is still there after the grace period (a second Ctrl-C does not wait).

Standard library only: it runs before anything else is installed, and replaces honcho, which
stopped every part when one of them died.
"""

from __future__ import annotations

import argparse
import heapq
import os
import re
import selectors
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Dict, List, Optional, Tuple

PROCFILE_LINE = re.compile(r"^([A-Za-z0-9_-]+):\s*(.+)$")
COLOURS = ("36", "33", "32", "35", "34", "96", "93", "92", "95", "94")
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
MAX_LINE = 64 * 1024  # a longer run of bytes without a newline is printed as a line of its own


class ProcfileError(Exception):
    pass


def read_procfile(path: Path) -> Dict[str, str]:
    """The parts of a Procfile, in order: ``name: command`` lines; blank lines and ``#`` comments skipped."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ProcfileError(f"cannot read {path}: {error.strerror}") from error
    parts: Dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = PROCFILE_LINE.match(line.strip())
        if not match:
            raise ProcfileError(f"{path}, line {number}: expected 'name: command', got {line.strip()!r}")
        name, command = match.groups()
        if name in parts:
            raise ProcfileError(f"{path}, line {number}: part {name!r} is defined twice")
        parts[name] = command
    if not parts:
        raise ProcfileError(f"{path} has no parts")
    return parts


@dataclass
class Backoff:
    """How long to wait before starting a part again: doubling from ``first`` to ``longest``, and
    back to ``first`` once the part has stayed up for ``reset_after`` seconds."""

    first: float = 1.0
    longest: float = 30.0
    reset_after: float = 60.0
    _next: float = field(default=0.0, init=False)

    def delay(self, uptime: float) -> float:
        if uptime >= self.reset_after or self._next <= 0:
            self._next = self.first
        delay = self._next
        self._next = min(self._next * 2, self.longest)
        return delay


def describe_exit(returncode: int) -> str:
    """``code 3``, or ``code -9, SIGKILL`` for a part killed by a signal."""
    if returncode < 0:
        try:
            return f"code {returncode}, {signal.Signals(-returncode).name}"
        except ValueError:
            return f"code {returncode}"
    return f"code {returncode}"


def seconds(value: float) -> str:
    return f"{value:g} s"


class Output:
    """Prefixes lines with the time and a part's name, like honcho did; colour only on a terminal."""

    def __init__(self, stream: BinaryIO, names: List[str], colour: bool) -> None:
        self.stream: Optional[BinaryIO] = stream
        self.width = max(len(name) for name in [*names, "system"])
        self.colour = colour
        self.colours = {name: COLOURS[index % len(COLOURS)] for index, name in enumerate(names)}

    def line(self, name: str, data: bytes) -> None:
        if self.stream is None:
            return
        prefix = f"{time.strftime('%H:%M:%S')} {name.ljust(self.width)} |"
        if self.colour:
            prefix = f"\033[{self.colours.get(name, '1')}m{prefix}\033[0m"
        try:
            self.stream.write(prefix.encode() + b" " + data.rstrip(b"\r\n") + b"\n")
            self.stream.flush()
        except (BrokenPipeError, ValueError):
            self.stream = None  # nobody reads our output any more: the parts keep running regardless
        except OSError:
            pass

    def system(self, message: str) -> None:
        self.line("system", message.encode())


class Part:
    def __init__(self, name: str, command: str, backoff: Backoff) -> None:
        self.name = name
        self.command = command
        self.backoff = backoff
        self.process: Optional[subprocess.Popen[bytes]] = None
        self.started_at = 0.0
        self.leftovers = False  # whether its last process left others behind in its process group

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None


class Supervisor:
    def __init__(
        self, parts: Dict[str, str], output: Output, grace: float, backoff: Tuple[float, float, float]
    ) -> None:
        self.parts = [Part(name, command, Backoff(*backoff)) for name, command in parts.items()]
        self.output = output
        self.grace = grace
        self.selector = selectors.DefaultSelector()
        self.buffers: Dict[int, Tuple[str, bytearray]] = {}
        self.restarts: List[Tuple[float, int, str]] = []  # (when, sequence, part name), a heap
        self.sequence = 0
        self.stop_requests = 0
        wakeup_read, wakeup_write = os.pipe()
        os.set_blocking(wakeup_read, False)
        os.set_blocking(wakeup_write, False)
        self.wakeup_read = wakeup_read
        self.wakeup_write = wakeup_write

    # Signals: handlers do nothing themselves; the byte Python writes to the wakeup pipe wakes the loop.

    def install_signal_handlers(self) -> None:
        signal.set_wakeup_fd(self.wakeup_write, warn_on_full_buffer=False)
        for number in (*STOP_SIGNALS, signal.SIGCHLD):
            signal.signal(number, self._on_signal)
        self.selector.register(self.wakeup_read, selectors.EVENT_READ, None)

    def _on_signal(self, number: int, frame: object) -> None:
        pass

    def _read_wakeups(self) -> None:
        while True:
            try:
                data = os.read(self.wakeup_read, 512)
            except BlockingIOError:
                return
            if not data:
                return
            self.stop_requests += sum(1 for number in data if number in STOP_SIGNALS)

    # Parts.

    def start(self, part: Part) -> None:
        environment = {**os.environ, "PYTHONUNBUFFERED": os.environ.get("PYTHONUNBUFFERED", "1")}
        try:
            process = subprocess.Popen(
                ["/bin/sh", "-c", part.command],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                env=environment,
                start_new_session=True,  # its own process group: stopped as a whole, and not by the terminal's Ctrl-C
            )
        except OSError as error:
            self.output.system(f"{part.name} could not start ({error}); trying again")
            self.schedule_restart(part, uptime=0.0)
            return
        part.process = process
        part.started_at = time.monotonic()
        assert process.stdout is not None
        descriptor = process.stdout.fileno()
        os.set_blocking(descriptor, False)
        self.buffers[descriptor] = (part.name, bytearray())
        self.selector.register(process.stdout, selectors.EVENT_READ, part.name)
        self.output.system(f"{part.name} started (pid {process.pid})")

    def schedule_restart(self, part: Part, uptime: float) -> float:
        delay = part.backoff.delay(uptime)
        self.sequence += 1
        heapq.heappush(self.restarts, (time.monotonic() + delay, self.sequence, part.name))
        return delay

    def reap(self) -> None:
        for part in self.parts:
            if part.process is None or part.process.returncode is not None:
                continue
            returncode = part.process.poll()
            if returncode is None:
                continue
            uptime = time.monotonic() - part.started_at
            part.leftovers = signal_group(part.process.pid, signal.SIGTERM)  # what it left behind in its group
            if self.stop_requests:
                self.output.system(f"{part.name} stopped ({describe_exit(returncode)})")
                continue
            delay = self.schedule_restart(part, uptime)
            self.output.system(f"{part.name} exited ({describe_exit(returncode)}); restarting in {seconds(delay)}")

    def start_due(self) -> None:
        now = time.monotonic()
        while self.restarts and self.restarts[0][0] <= now:
            _, _, name = heapq.heappop(self.restarts)
            part = next(part for part in self.parts if part.name == name)
            if part.process is not None and part.leftovers:
                signal_group(part.process.pid, signal.SIGKILL)  # leftovers must not hold its port
            self.start(part)

    # Output.

    def read_output(self, timeout: Optional[float]) -> None:
        for key, _ in self.selector.select(timeout):
            if key.data is None:
                self._read_wakeups()
                continue
            descriptor = key.fd
            name, buffer = self.buffers[descriptor]
            try:
                data = os.read(descriptor, 65536)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if not data:
                if buffer:
                    self.output.line(name, bytes(buffer))
                self.selector.unregister(key.fileobj)
                del self.buffers[descriptor]
                key.fileobj.close()  # type: ignore[union-attr]
                continue
            buffer.extend(data)
            while True:
                end = buffer.find(b"\n")
                if end < 0:
                    if len(buffer) >= MAX_LINE:
                        self.output.line(name, bytes(buffer))
                        buffer.clear()
                    break
                self.output.line(name, bytes(buffer[: end + 1]))
                del buffer[: end + 1]

    # The loop.

    def run(self) -> int:
        self.install_signal_handlers()
        for part in self.parts:
            self.start(part)
        while not self.stop_requests:
            self.reap()
            self.start_due()
            timeout = max(0.0, self.restarts[0][0] - time.monotonic()) if self.restarts else None
            # The wakeup pipe (SIGCHLD, SIGTERM, SIGINT) ends the wait; 5 s is only a safety net.
            self.read_output(5.0 if timeout is None else min(timeout, 5.0))
        self.stop()
        return 0

    def stop(self) -> None:
        self.restarts.clear()
        self.output.system("stopping every part (SIGTERM)")
        for part in self.parts:
            if part.running:
                assert part.process is not None
                signal_group(part.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + self.grace
        seen = self.stop_requests
        while any(part.running for part in self.parts):
            self.reap()
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.stop_requests > seen:
                break
            self.read_output(min(remaining, 0.5))
            self.reap()
        waited = "asked again" if self.stop_requests > seen else f"after {seconds(self.grace)}"
        for part in self.parts:
            if part.process is None:
                continue
            if part.running:
                self.output.system(f"{part.name} still running {waited}: SIGKILL")
            elif part.leftovers:
                self.output.system(f"{part.name} left processes behind {waited}: SIGKILL")
            if part.running or part.leftovers:
                # The whole group: a part's own children go with it, even when the part itself has exited.
                signal_group(part.process.pid, signal.SIGKILL)
            if part.process.returncode is None:
                part.process.wait()
        deadline = time.monotonic() + 1.0
        while self.buffers and time.monotonic() < deadline:  # what the parts wrote last
            self.read_output(max(0.0, deadline - time.monotonic()))
        self.output.system("every part stopped")


def signal_group(group: int, number: int) -> bool:
    """Signal a process group; whether there was one (ours) to signal."""
    try:
        os.killpg(group, number)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="scripts/supervise.py",
        description="Run the parts of a Procfile, restart any that exits, stop them all on Ctrl-C or SIGTERM.",
    )
    parser.add_argument("parts", nargs="*", metavar="PART", help="only these parts (default: every part)")
    parser.add_argument("-f", "--procfile", default="Procfile", type=Path, help="default: %(default)s")
    parser.add_argument("--grace", type=float, default=10.0, help="seconds between SIGTERM and SIGKILL when stopping")
    parser.add_argument("--first-delay", type=float, default=1.0, help="back-off after a part's first exit (s)")
    parser.add_argument("--longest-delay", type=float, default=30.0, help="longest back-off (s)")
    parser.add_argument("--reset-after", type=float, default=60.0, help="uptime that resets the back-off (s)")
    args = parser.parse_args(argv)
    try:
        parts = read_procfile(args.procfile)
    except ProcfileError as error:
        print(f"supervise: {error}", file=sys.stderr)
        return 2
    unknown = [name for name in args.parts if name not in parts]
    if unknown:
        print(f"supervise: no part named {', '.join(unknown)} in {args.procfile} ({', '.join(parts)})", file=sys.stderr)
        return 2
    if args.parts:
        parts = {name: command for name, command in parts.items() if name in args.parts}
    colour = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    output = Output(sys.stdout.buffer, list(parts), colour)
    backoff = (args.first_delay, args.longest_delay, args.reset_after)
    return Supervisor(parts, output, args.grace, backoff).run()


if __name__ == "__main__":
    sys.exit(main())
