"""RadLabel entry point: the GUI by default (optionally with a path), subcommands for headless work."""

from __future__ import annotations

import multiprocessing
import sys


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    from viewer.cli import SUBCOMMANDS

    if "--self-test" in argv:  # the whole product, off-screen: one line per step (issue 19)
        from viewer.qt.self_test import run_self_test

        return run_self_test()
    names = {n for n, _ in SUBCOMMANDS}
    first_word = next((a for a in argv if a != "--debug"), "")
    if first_word in names or first_word in ("--version", "-h", "--help"):
        from viewer.cli.main import run_cli

        return run_cli(argv)
    from viewer.qt.app import run_gui

    return run_gui(argv)


if __name__ == "__main__":
    multiprocessing.freeze_support()
    sys.exit(main())
