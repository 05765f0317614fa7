"""Headless command line: one module per subcommand, each exposing `add_parser` and `run`.

Errors reach the user as one line naming the file and the reason (see `viewer.cli.main`).
"""

# (subcommand name, module path). Each module defines add_parser(subparsers) and run(args) -> int.
SUBCOMMANDS: tuple[tuple[str, str], ...] = (
    ("info", "viewer.cli.info"),
    ("convert", "viewer.cli.convert"),
    ("screenshot", "viewer.cli.screenshot"),
    ("evaluate", "viewer.cli.evaluate"),
    ("train-base", "viewer.cli.train_base"),
    ("import-twin", "viewer.cli.import_twin"),
    ("train-auto", "viewer.cli.train_auto"),
    ("predict-auto", "viewer.cli.predict_auto"),
    ("export", "viewer.cli.export"),
    ("pacs", "viewer.cli.pacs"),
    ("synth", "viewer.cli.synth"),
    ("project", "viewer.cli.project"),
)
