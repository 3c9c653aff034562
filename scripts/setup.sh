#!/usr/bin/env bash
# Makes the virtual environment (what `make setup` runs); safe to run again after an interruption.
#
#   scripts/setup.sh check   [VENV]            prints ok, create or recreate (and why, on stderr)
#   scripts/setup.sh install [VENV] [LOCKFILE] makes VENV usable, then installs LOCKFILE's exact pins
#
# A venv is kept only if its interpreter is Python 3.10 and its pip runs: a set-up interrupted
# while `python -m venv` was installing pip leaves a venv without it, and is made again from
# scratch. An interrupted package install is resumed by the next run (pip skips what is there).
# The Makefile writes its stamp only after this script has finished without error.
set -euo pipefail
cd "$(dirname "$0")/.."

command=${1:-install}
venv=${2:-.venv}
lockfile=${3:-requirements.lock}

# ok | create | recreate, with the reason on stderr.
venv_state() {
  if [ ! -e "$venv" ]; then
    echo create
  elif [ ! -x "$venv/bin/python" ]; then
    echo "$venv has no working interpreter" >&2
    echo recreate
  elif [ "$("$venv/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)" != "3.10" ]; then
    echo "$venv is not a Python 3.10 environment" >&2
    echo recreate
  elif ! "$venv/bin/python" -m pip --version >/dev/null 2>&1; then
    echo "$venv has no working pip (an interrupted set-up?)" >&2
    echo recreate
  else
    echo ok
  fi
}

case "$command" in
  check)
    venv_state
    ;;
  install)
    state=$(venv_state)
    if [ "$state" != ok ]; then
      python=$(scripts/find-python.sh) || exit 1
      [ "$state" = recreate ] && echo "Removing $venv to make it again"
      rm -rf "$venv"
      echo "Creating $venv with $python"
      "$python" -m venv "$venv"
    fi
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "pip<25"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -r "$lockfile"
    "$venv/bin/python" -m pip check
    ;;
  *)
    echo "usage: scripts/setup.sh check|install [VENV] [LOCKFILE]" >&2
    exit 2
    ;;
esac
