"""Parses the command line and runs a subcommand; turns expected errors into one-line messages."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from viewer.cli import SUBCOMMANDS
from viewer.errors import RadLabelError

log = logging.getLogger(__name__)


def versions_text() -> str:
    """RadLabel's version and each bundled component's version and licence (from package
    metadata: nothing heavy is imported)."""
    from viewer import __version__
    from viewer.licences import versions_report

    return versions_report(__version__)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="radlabel", description="RadLabel 3D annotation tool")
    p.add_argument("--version", action="store_true", help="print versions and exit")
    p.add_argument("--debug", action="store_true", help="show tracebacks and debug logging")
    sub = p.add_subparsers(dest="command")
    for _name, module in SUBCOMMANDS:
        try:
            importlib.import_module(module).add_parser(sub)
        except ModuleNotFoundError as e:
            if e.name != module:
                raise
    return p


def run_cli(argv: list[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from viewer import __version__
    from viewer.logsetup import FILE_ONLY, setup_logging

    log_path = setup_logging(debug=args.debug)
    log.info("RadLabel %s: %s", __version__, " ".join(argv))
    if args.version:
        print(versions_text())
        return 0
    try:
        return int(args.func(args) or 0)
    except RadLabelError as e:
        if args.debug:
            raise
        log.info("error: %s", e.message)  # for the log file: what the user saw
        print(f"error: {e.message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except MemoryError:
        if args.debug:
            raise
        log.exception("out of memory", extra=FILE_ONLY)
        print(
            f"error: not enough memory for this command (details in {log_path or 'the log'})",
            file=sys.stderr,
        )
        return 1
    except Exception as e:  # unexpected: still one line, details in the log file
        if args.debug:
            raise
        log.exception("unexpected error", extra=FILE_ONLY)  # the traceback goes to the file
        first = (str(e).strip().splitlines() or [""])[0]  # e.g. Paddle's messages run many lines
        print(
            f"error: {type(e).__name__}: {first} (details in {log_path or 'the log'}; "
            "rerun with --debug)",
            file=sys.stderr,
        )
        return 1
