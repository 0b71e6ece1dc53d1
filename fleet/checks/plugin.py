"""What every check shares: its command line, its range thresholds and the one place that turns a failure
into UNKNOWN.

A check module provides `NAME`, `add_arguments(parser)` and `build(args, client)` returning a
`nagiosplugin.Check` (`client` is None for the master-local checks). `run` parses the arguments (a bad one,
a bad range included, is UNKNOWN, not argparse's exit 2), reads the credentials file, opens the client with
the `-t` timeout as its connect and read timeout, and lets nagiosplugin's runtime print the status line and
exit 0, 1, 2 or 3. A RAPI error or a timeout prints one line `NAME UNKNOWN - what failed` and exits 3.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NoReturn, Protocol

import nagiosplugin

if TYPE_CHECKING:
    from fleet.rapi import RapiClient
    from fleet.rapi import errors as rapi_errors

UNKNOWN = 3
DEFAULT_TIMEOUT = 10


class CheckModule(Protocol):
    """The shape of a check module (fleet.checks.freemem and its siblings)."""

    NAME: str
    RAPI: bool

    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...

    def build(self, args: argparse.Namespace, client: RapiClient | None) -> nagiosplugin.Check: ...


class Unknown(Exception):
    """A condition the check cannot judge (bad data, a missing file); the message is the status line."""


class Parser(argparse.ArgumentParser):
    """argparse, with a usage error ending as UNKNOWN (3) in one line, as the plugin guidelines ask."""

    def __init__(self, title: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.title = title

    def error(self, message: str) -> NoReturn:
        unknown(self.title, f"bad arguments: {message}")


def unknown(title: str, message: str) -> NoReturn:
    """Print `TITLE UNKNOWN - message` and exit 3."""
    print(f"{title} UNKNOWN - {' '.join(message.split())}")
    sys.exit(UNKNOWN)


def range_arg(text: str) -> nagiosplugin.Range:
    """A threshold in the plugin guidelines' range syntax (`10`, `10:`, `~:10`, `@5:10`); argparse's type."""
    try:
        return nagiosplugin.Range(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"bad range {text!r}: {exc}") from exc


def title_of(name: str) -> str:
    """The status line's first word: `GANETI_FREEMEM`."""
    return f"GANETI_{name.upper()}"


def parser_for(module: CheckModule, prog: str) -> Parser:
    """The argument parser of one check: the common options, then the check's own."""
    parser = Parser(title_of(module.NAME), prog=prog, description=(module.__doc__ or "").split("\n\n")[0])
    if module.RAPI:
        parser.add_argument(
            "-H", "--host", required=True, help="The cluster's RAPI address (its name or IP)."
        )
        parser.add_argument("-P", "--port", type=int, help="RAPI port (default: the file's, or 5080).")
        parser.add_argument(
            "--credentials",
            required=True,
            metavar="FILE",
            help="INI file: the cluster's fingerprint (or ca_file), user and password (docs/checks.md).",
        )
    parser.add_argument(
        "-t", "--timeout", type=int, default=DEFAULT_TIMEOUT, help="Seconds before UNKNOWN (default 10)."
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="More lines (repeatable).")
    module.add_arguments(parser)
    return parser


def run(module: CheckModule, argv: Sequence[str] | None = None, prog: str | None = None) -> NoReturn:
    """Parse `argv`, run the check and exit with its status."""
    title = title_of(module.NAME)
    args = parser_for(module, prog or f"check_fleet_{module.NAME}").parse_args(argv)
    if args.timeout < 1:
        unknown(title, "bad arguments: -t must be at least 1 second")
    try:
        if module.RAPI:
            _run_rapi(module, args, title)
        else:
            # The master-local check never loads the RAPI client: it starts in half the time.
            _main(module.build(args, None), args)
    except nagiosplugin.Timeout:
        unknown(title, f"timed out after {args.timeout} s (-t)")
    except Unknown as exc:
        unknown(title, str(exc))
    except Exception as exc:  # a crash is UNKNOWN too, as nagiosplugin's @guarded makes it, in one line
        unknown(title, f"internal error: {type(exc).__name__}: {exc}")
    # The check's own main exits; reaching here means it did not.
    sys.exit(UNKNOWN)


def _run_rapi(module: CheckModule, args: argparse.Namespace, title: str) -> None:
    from fleet.checks.access import AccessError, load
    from fleet.rapi import errors as rapi_errors

    try:
        access = load(args.credentials, args.host, args.port)
        with access.client(float(args.timeout)) as client:
            _main(module.build(args, client), args)
    except AccessError as exc:
        unknown(title, str(exc))
    except rapi_errors.RapiError as exc:
        unknown(title, describe(exc, args.host))


def _main(check: nagiosplugin.Check, args: argparse.Namespace) -> None:
    check.main(verbose=args.verbose, timeout=args.timeout)


def describe(exc: rapi_errors.RapiError, host: str) -> str:
    """One line saying what failed on the way to the cluster, for an operator reading the NOC's screen."""
    from fleet.rapi import errors as rapi_errors

    where = f"cluster {host}" if host else "cluster"
    if isinstance(exc, rapi_errors.Unauthorized):
        return f"{where} refused the credentials (401): check user and password in the credentials file"
    if isinstance(exc, rapi_errors.Forbidden):
        return f"{where}: the RAPI user may not read (403): give it the read option in Ganeti's rapi/users"
    if isinstance(exc, rapi_errors.CertificateMismatch):
        return f"{where}: certificate does not match the pinned one: {exc}"
    if isinstance(exc, rapi_errors.Timeout):
        return f"{where}: RAPI did not answer in time (-t): {exc}"
    if isinstance(exc, rapi_errors.Unreachable):
        return f"{where} unreachable: {exc}"
    if isinstance(exc, rapi_errors.HttpError):
        return f"{where}: RAPI error: {exc}"
    return f"{where}: {exc}"


def fmt(template: str) -> Callable[[nagiosplugin.Metric, nagiosplugin.Context], str]:
    """A context's `fmt_metric` from a str.format template over the metric (`{name}`, `{value}`, `{uom}`)."""

    def format_metric(metric: nagiosplugin.Metric, context: nagiosplugin.Context) -> str:
        return template.format(name=metric.name, value=metric.value, uom=metric.uom or "")

    return format_metric


class Perf(nagiosplugin.Context):
    """A context that judges nothing and reports its metric as perfdata (counts beside the judged ones)."""

    def performance(
        self, metric: nagiosplugin.Metric, resource: nagiosplugin.Resource
    ) -> nagiosplugin.Performance:
        return nagiosplugin.Performance(metric.name, metric.value, metric.uom, min=metric.min, max=metric.max)
