"""A CLI subcommand is one module with `add_parser` and `run`, plus one line in SUBCOMMANDS
(the recipe in CONTRIBUTING.md): a dummy one is found, run, and its errors are one line."""

from __future__ import annotations

import viewer.cli.main as cli_main
from viewer.cli import SUBCOMMANDS

MODULE = '''"""`hello NAME`: greets, or refuses the name "nobody"."""
from viewer.errors import LoadError


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("hello", help="say hello")
    p.add_argument("name")
    p.set_defaults(func=run)


def run(args) -> int:
    if args.name == "nobody":
        raise LoadError("no one to greet", args.name)
    print(f"hello {args.name}")
    return 0
'''


def test_a_subcommand_is_one_module_and_one_line(tmp_path, monkeypatch, capsys):
    (tmp_path / "radlabel_hello_cmd.py").write_text(MODULE, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(cli_main, "SUBCOMMANDS", (*SUBCOMMANDS, ("hello", "radlabel_hello_cmd")))
    assert cli_main.run_cli(["hello", "world"]) == 0
    assert capsys.readouterr().out == "hello world\n"
    assert cli_main.run_cli(["hello", "nobody"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no one to greet" in err and "nobody" in err
