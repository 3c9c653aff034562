"""``python -m privacy purge``: delete conversation events older than TAWJIH_RETENTION_DAYS.

With ``--every SECONDS`` it runs again at that interval until stopped (``make run`` starts it
with one hour); without, it runs once, for a cron job. The database is TRACKER_STORE_URL's.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from typing import List, Optional

import sqlalchemy as sa
from pydantic import ValidationError

from privacy.retention import purge_expired
from privacy.settings import privacy_settings

logger = logging.getLogger("privacy")


def _sqlite_file_missing(engine: sa.engine.Engine) -> bool:
    """A SQLite tracker store Rasa has not created yet holds no conversation to purge."""
    database = engine.url.database
    return engine.dialect.name == "sqlite" and bool(database) and not os.path.exists(database)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m privacy", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    purge = commands.add_parser("purge", help="Delete conversation events older than the retention period.")
    purge.add_argument("--every", type=float, default=0, help="Run again every SECONDS until stopped.")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")

    try:
        settings = privacy_settings()
    except ValidationError as error:
        fields = {str(problem["loc"][0]) for problem in error.errors()}
        if "tracker_store_url" in fields:
            print("TRACKER_STORE_URL is not set: no tracker store to purge.", file=sys.stderr)
        if "retention_days" in fields:
            print("TAWJIH_RETENTION_DAYS must be a whole number of days, at least 1.", file=sys.stderr)
        return 2
    url, days = settings.tracker_store_url, settings.retention_days
    engine = sa.create_engine(url, pool_pre_ping=True)
    while True:
        try:
            removed = 0 if _sqlite_file_missing(engine) else purge_expired(engine, days)
            logger.info("Retention %d days: deleted %d conversation events older than that.", days, removed)
            if settings.console_database_url:
                from console.retention import purge_console

                dropped = purge_console(settings.console_database_url, days)
                logger.info("Retention %d days: dropped %d sessions from the staff console.", days, dropped)
        except sa.exc.SQLAlchemyError as error:
            # The URL may carry a password: name the error's kind only.
            logger.error(
                "Could not purge the tracker store or the console (%s)%s.",
                type(error).__name__,
                "; will try again at the next round" if args.every else "",
            )
            if not args.every:
                return 1
        if not args.every:
            return 0
        time.sleep(args.every)  # a scheduler's pause between rounds


if __name__ == "__main__":
    sys.exit(main())
