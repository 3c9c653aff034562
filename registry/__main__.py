"""``python -m registry serve|migrate|seed [--reset]``."""

from __future__ import annotations

import argparse
import logging
import sys

from pydantic import ValidationError

from registry.db import create_engine, migrate, session_factory
from registry.seed import counts, reset, seed
from registry.settings import RegistrySettings

logger = logging.getLogger("registry")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m registry", description="Tawjih's registry service.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser("serve", help="Migrate the database, then serve the HTTP API.")
    serve_parser.add_argument("--no-migrate", action="store_true", help="Do not upgrade the schema first.")
    commands.add_parser("migrate", help="Upgrade the database schema to the newest revision.")
    seed_parser = commands.add_parser("seed", help="Insert the sample catalogue records that are missing.")
    seed_parser.add_argument("--reset", action="store_true", help="Delete everything first (development only).")
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = RegistrySettings.from_env()
    except ValidationError as error:
        names = ", ".join(f"REGISTRY_{str(problem['loc'][0]).upper()}" for problem in error.errors())
        print(f"registry: invalid setting: {names}", file=sys.stderr)
        return 2
    engine = create_engine(settings.database_url)

    if args.command == "migrate" or (args.command == "serve" and not args.no_migrate) or args.command == "seed":
        migrate(engine)
    if args.command == "migrate":
        logger.info("Registry schema is up to date.")
    elif args.command == "seed":
        with session_factory(engine)() as session:
            if args.reset:
                reset(session)
            added = seed(session)
            logger.info("Seed added %s; registry now holds %s.", added, counts(session))
    elif args.command == "serve":
        import uvicorn

        from registry.app import create_app

        engine.dispose()
        if not settings.admin_token:
            logger.warning("REGISTRY_ADMIN_TOKEN is not set: the staff write API is disabled.")
        uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="info", access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
