"""What every command line of the platform shares: a mistake in its arguments is one line, not a traceback.

``Parser`` is an ``argparse.ArgumentParser`` whose errors are ``prog: error: ... (see --help)`` and exit
status 2, without the usage block; ``factory_day`` is the argument type of a factory day (YYYY-MM-DD),
``add_day_range`` adds a --from/--to window and ``day_range`` checks that it runs forwards. No Dagster here: a
CLI imports domain code only.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterable
from datetime import date
from typing import NoReturn

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


class Parser(argparse.ArgumentParser):
    """An argument parser whose error is one line on stderr (its subcommands' parsers too)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def factory_day(text: str) -> date:
    """A factory day written YYYY-MM-DD (as the partitions name them), else a one-line argument error."""
    if not _DAY.fullmatch(text.strip()):
        raise argparse.ArgumentTypeError(f"{text!r} is not a day written YYYY-MM-DD, e.g. 2026-11-14")
    try:
        return date.fromisoformat(text.strip())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a day of the calendar ({exc})") from None


def factory_day_text(text: str) -> str:
    """``factory_day``, kept as its ISO text (the form partition keys and SQL take)."""
    return factory_day(text).isoformat()


def add_day_range(parser: argparse.ArgumentParser, as_text: bool = True) -> None:
    """The ``--from`` / ``--to`` window of factory days (``args.first``, ``args.last``) of a range command;
    check it with ``day_range`` after parsing."""
    day = factory_day_text if as_text else factory_day
    parser.add_argument("--from", dest="first", type=day, required=True, help="first factory day")
    parser.add_argument("--to", dest="last", type=day, required=True, help="last factory day")


def day_range(parser: argparse.ArgumentParser, first: date | str, last: date | str) -> None:
    """``parser.error`` unless ``first`` <= ``last``."""
    if str(first) > str(last):
        parser.error(f"--from {first} is after --to {last}")


def known(
    parser: argparse.ArgumentParser, what: str, given: Iterable[str] | None, names: Iterable[str]
) -> None:
    """``parser.error`` naming the unknown ones unless every name ``given`` is one of ``names``."""
    names = sorted(names)
    unknown = [name for name in given or [] if name not in names]
    if unknown:
        parser.error(f"unknown {what} {', '.join(map(repr, unknown))}; one of: {', '.join(names)}")


def fail(prog: str, message: str, status: int = 2) -> int:
    """Print ``prog: error: message`` on stderr and return ``status`` (for errors found after parsing)."""
    print(f"{prog}: error: {message}", file=sys.stderr)
    return status


def timezone_name(text: str) -> str:
    """An IANA time zone name (Europe/Berlin), else a one-line argument error."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise argparse.ArgumentTypeError(f"{text!r} is not a time zone name, e.g. Europe/Berlin") from None
    return text
