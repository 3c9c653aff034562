"""Start `rasa run` with its HTTP API behind RASA_AUTH_TOKEN, read from the environment.

`rasa run --auth-token TOKEN` would put the token on the command line, where `ps` shows it to
every user of the machine. This launcher hands it to Rasa inside the process instead, and
refuses to start without one: Rasa's HTTP API is never open. Other arguments go to `rasa run`.
"""

from __future__ import annotations

import os
import sys
from typing import List, Optional


def rasa_argv(arguments: List[str], token: str) -> List[str]:
    # "--auth-token=TOKEN", not "--auth-token TOKEN": a generated token may begin with "-",
    # which argparse would take for an option and refuse to start.
    return ["rasa", "run", "--enable-api", f"--auth-token={token}", *arguments]


def main(arguments: Optional[List[str]] = None) -> int:
    token = os.environ.get("RASA_AUTH_TOKEN", "").strip()
    if not token:
        print("RASA_AUTH_TOKEN is not set: Rasa's HTTP API is never started without a token.", file=sys.stderr)
        return 2
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    from rasa.__main__ import main as rasa_main

    sys.argv = rasa_argv(sys.argv[1:] if arguments is None else arguments, token)
    rasa_main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
