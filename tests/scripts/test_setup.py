"""scripts/setup.sh (make setup): a venv left without pip by an interrupted set-up is made again."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Tuple

import pytest

from tests.scripts.helpers import ROOT, SCRIPTS

SETUP = str(SCRIPTS / "setup.sh")


def python310() -> str:
    found = subprocess.run([str(SCRIPTS / "find-python.sh")], capture_output=True, text=True, timeout=60)
    assert found.returncode == 0, found.stderr
    return found.stdout.strip()


def check(venv: Path) -> Tuple[str, str]:
    finished = subprocess.run([SETUP, "check", str(venv)], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert finished.returncode == 0, finished.stderr
    return finished.stdout.strip(), finished.stderr


def test_a_missing_venv_is_created(tmp_path: Path) -> None:
    assert check(tmp_path / "venv") == ("create", "")


def test_a_venv_without_pip_is_made_again(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([python310(), "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    state, reason = check(venv)
    assert state == "recreate"
    assert "no working pip" in reason


def test_a_venv_of_another_python_is_made_again(tmp_path: Path) -> None:
    other = shutil.which("python3.11") or shutil.which("python3.12")
    if other is None:
        pytest.skip("no Python other than 3.10 on this machine")
    venv = tmp_path / "venv"
    made = subprocess.run([other, "-m", "venv", "--without-pip", str(venv)], capture_output=True, timeout=120)
    if made.returncode != 0:
        pytest.skip(f"{other} cannot make a venv here")
    assert check(venv)[0] == "recreate"


def test_install_repairs_an_interrupted_setup(tmp_path: Path) -> None:
    """The state a Ctrl-C during `python -m venv` leaves (an interpreter, no pip), then `make setup` again."""
    venv = tmp_path / "venv"
    subprocess.run([python310(), "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    lockfile = tmp_path / "requirements.lock"
    lockfile.write_text("# nothing to install: pip's own check is what this test is about\n", encoding="utf-8")
    finished = subprocess.run(
        [SETUP, "install", str(venv), str(lockfile)], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert f"Removing {venv}" in finished.stdout
    assert check(venv) == ("ok", "")
    pip = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "--version"], capture_output=True, timeout=60)
    assert pip.returncode == 0
