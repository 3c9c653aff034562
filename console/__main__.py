"""``python -m console serve|migrate|users add|list|disable|export-nlu|reindex``."""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import logging
import sys
from typing import Callable, List, Optional

import sqlalchemy as sa
from pydantic import ValidationError

from console.settings import ENV_NAMES, ConsoleSettings, console_settings, invalid_variables

logger = logging.getLogger("console")


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date (YYYY-MM-DD)") from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m console", description="Tawjih's staff console.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="Migrate the database, then serve the console.")
    serve.add_argument("--no-migrate", action="store_true", help="Do not upgrade the schema first.")
    commands.add_parser("migrate", help="Upgrade the console's database schema to the newest revision.")
    users = commands.add_parser("users", help="Manage the people who may log in.").add_subparsers(
        dest="users_command", required=True
    )
    add = users.add_parser("add", help="Add a user; the password is read from standard input, never argv.")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=["reviewer", "adviser", "supervisor", "admin"])
    add.add_argument("--if-missing", action="store_true", help="Do nothing when the user exists already.")
    add.add_argument(
        "--regions",
        default=None,
        help="Advisers: the regions whose requests they answer, e.g. casablanca-settat,oriental, or all.",
    )
    regions = users.add_parser("regions", help="Show or change the regions whose requests a user answers.")
    regions.add_argument("name")
    regions.add_argument("--set", dest="set_regions", default=None, help="e.g. casablanca-settat,oriental, or all")
    users.add_parser("list", help="List users, their role, regions and whether they are disabled.")
    disable = users.add_parser("disable", help="Disable a user and end their sessions.")
    disable.add_argument("name")
    export = commands.add_parser("export-nlu", help="Print the annotations as Rasa NLU YAML.")
    export.add_argument("--since", type=_date, default=None, help="Only annotations made on or after this date.")
    commands.add_parser("reindex", help="Read the tracker store's new events into the index now.")
    return parser


def _read_password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != first:
            raise SystemExit("The two passwords differ.")
        return first
    return sys.stdin.readline().rstrip("\r\n")


# Settings whose problem can be shown (no secret in them): the parser's reason helps whoever wrote them.
EXPLAINED = {"handoff_opening_hours", "handoff_holidays"}


def _settings() -> ConsoleSettings:
    try:
        return console_settings()
    except ValidationError as error:
        reasons = [f"{ENV_NAMES[str(e['loc'][0])]}: {e['msg']}" for e in error.errors() if e["loc"][0] in EXPLAINED]
        names = ", ".join(invalid_variables(error))
        raise SystemExit(f"console: invalid setting(s): {names}" + "".join(f"\n  {r}" for r in reasons)) from None


# Secrets without which `serve` does not start: what each is for.
REQUIRED_SECRETS = (
    ("rasa_auth_token", "it lets the console send advisers' replies through Rasa's HTTP API"),
    ("handoff_service_token", "the action server presents it to ask for an adviser"),
)


def main(argv: Optional[List[str]] = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = _settings()
    if args.command == "serve" and settings.secret_key is None:
        print("console: CONSOLE_SECRET_KEY is not set: it signs the login cookie; refusing to start.", file=sys.stderr)
        return 2
    if args.command == "serve" and len(settings.secret_key.get_secret_value()) < 16:  # type: ignore[union-attr]
        print("console: CONSOLE_SECRET_KEY is too short (16 characters at least).", file=sys.stderr)
        return 2
    if args.command == "serve":
        for field, why in REQUIRED_SECRETS:
            secret = getattr(settings, field)
            if secret is None or not secret.get_secret_value().strip():
                print(f"console: {ENV_NAMES[field]} is not set: {why}; refusing to start.", file=sys.stderr)
                return 2

    from console.db import create_engine, migrate, session_factory

    engine = create_engine(settings.database_url)
    try:
        if args.command != "serve" or not args.no_migrate:
            migrate(engine)
    except sa.exc.SQLAlchemyError as error:
        print(f"console: the console database could not be migrated ({type(error).__name__}).", file=sys.stderr)
        return 1
    factory = session_factory(engine)

    if args.command == "migrate":
        logger.info("Console schema is up to date.")
    elif args.command == "users":
        return _users(args, factory)
    elif args.command == "export-nlu":
        from zoneinfo import ZoneInfo

        from console.annotations import export_nlu_yaml

        with factory() as session:
            # --since is a day where the console counts its days, as the API's ?since= is.
            sys.stdout.write(export_nlu_yaml(session, since=args.since, tz=ZoneInfo(settings.timezone)))
    elif args.command == "reindex":
        from console.app import build_indexer

        indexer = build_indexer(settings, factory)
        logger.info("Read %d new events into the index.", indexer.refresh(max_seconds=3600))
    elif args.command == "serve":
        import uvicorn

        from console.app import create_app

        engine.dispose()
        # No X-Forwarded-For from anyone: the per-address login limit counts the real peer. Behind a
        # reverse proxy, the proxy itself limits by address.
        uvicorn.run(
            create_app(settings),
            host=settings.host,
            port=settings.port,
            log_level="info",
            access_log=False,
            proxy_headers=False,
            # The advisers' live streams stay open: a stop ends them after this.
            timeout_graceful_shutdown=3,
        )
    return 0


def _users(args: argparse.Namespace, factory: sa.orm.sessionmaker) -> int:
    from console.auth import UserError, add_user, disable_user
    from console.handoff.service import parse_regions, regions_of, set_regions
    from console.models import User

    with factory() as session:
        try:
            if args.users_command == "add":
                exists = session.execute(sa.select(User).where(User.username == args.name)).scalar_one_or_none()
                if exists is not None and args.if_missing:
                    return 0
                regions = _regions(parse_regions, args.regions) if args.regions is not None else []
                user = add_user(session, args.name, args.role, _read_password())
                if regions:
                    set_regions(session, user, regions)
                print(f"Added {args.name} ({args.role}{'; ' + ','.join(regions) if regions else ''}).")
                if args.role == "adviser" and not regions:
                    print("No regions: they will see only requests whose region is unknown (--regions).")
            elif args.users_command == "regions":
                user = session.execute(sa.select(User).where(User.username == args.name)).scalar_one_or_none()
                if user is None:
                    raise UserError(f"There is no user named {args.name}.")
                if args.set_regions is not None:
                    set_regions(session, user, _regions(parse_regions, args.set_regions))
                    session.flush()
                print(f"{user.username}\t{','.join(regions_of(session, user.id)) or '-'}")
            elif args.users_command == "disable":
                disable_user(session, args.name)
                print(f"Disabled {args.name}; their sessions are closed.")
            else:
                for user in session.execute(sa.select(User).order_by(User.username)).scalars():
                    shown = ",".join(regions_of(session, user.id)) or "-"
                    state = "disabled" if user.disabled else "active"
                    print(f"{user.username}\t{user.role}\t{state}\t{shown}")
            session.commit()
        except UserError as error:
            print(f"console: {error}", file=sys.stderr)
            return 1
    return 0


def _regions(parse: Callable[[str], List[str]], value: str) -> List[str]:
    from console.auth import UserError

    try:
        return parse(value)
    except ValueError as error:
        raise UserError(str(error)) from None


if __name__ == "__main__":
    sys.exit(main())
