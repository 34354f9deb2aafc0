"""Command-line dispatcher: one module per subcommand, each exposing `register(subparsers)`.

A subcommand module's `register` adds its parser and sets `func=run` where
`run(args) -> int` returns an exit code from chaos.errors.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from chaos.errors import EXIT_TOOL_ERROR, ChaosError

SUBCOMMANDS = ("gameday", "lab", "plan", "report", "deploy")


class _Parser(argparse.ArgumentParser):
    """argparse exits 2 on bad usage already; keep its message to one line plus usage."""


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m chaos", description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name in SUBCOMMANDS:
        importlib.import_module(f"chaos.cli.{name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except ChaosError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_TOOL_ERROR
    except KeyboardInterrupt:
        print("interrupted: faults reverted and lab stopped", file=sys.stderr)
        return 130
