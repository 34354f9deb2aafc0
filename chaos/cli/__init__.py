"""Command-line dispatcher: one module per subcommand, each exposing `register(subparsers)`.

A subcommand module's `register` adds its parser and sets `func=run` where
`run(args) -> int` returns an exit code from chaos.errors. `--help` is for users: one line per
subcommand (its `help=`) and the exit codes, nothing of this docstring.
"""
from __future__ import annotations

import argparse
import importlib
import signal
import sys

from chaos.errors import EXIT_TOOL_ERROR, ChaosError, RunStopped, signal_exit_code

SUBCOMMANDS = ("gameday", "lab", "plan", "report", "recover", "deploy", "history")

DESCRIPTION = "SecureCart DR chaos harness: inject failures, recover, measure RTO/RPO against targets."
EPILOG = """\
exit codes:
  0    every target met (report, recover: done)
  1    a target was missed
  2    the tool or its input failed, or the run was ABORTED (its lab died, it was killed)
  130  the run was INTERRUPTED by SIGINT (Ctrl-C): faults reverted, lab stopped, reports saved
  143  the run was INTERRUPTED by SIGTERM: the same

`python -m chaos <command> --help` describes each command; docs/gameday.md has the details."""


class _Parser(argparse.ArgumentParser):
    """argparse exits 2 on bad usage already; keep its message to one line plus usage."""


class _OneLinePerCommand(argparse.RawDescriptionHelpFormatter):
    """Wide enough that no command's one-line help wraps (argparse wraps at the terminal width)."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=14, width=132)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m chaos", description=DESCRIPTION, epilog=EPILOG,
                     formatter_class=_OneLinePerCommand)
    subparsers = parser.add_subparsers(dest="command", required=True, parser_class=_Parser,
                                       metavar="<command>", title="commands")
    for name in SUBCOMMANDS:
        importlib.import_module(f"chaos.cli.{name}").register(subparsers)
    return parser


def _parse(parser: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace:
    """Like `parse_args`, but a flag the subcommand does not know is reported with the
    subcommand's usage (`gameday --secnario` shows gameday's flags, not the command list)."""
    args, extras = parser.parse_known_args(argv)
    if extras:
        subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        subparser = subparsers.choices.get(args.command, parser)
        subparser.error(f"unrecognized arguments: {' '.join(extras)}")
    return args


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = _parse(parser, argv)
    try:
        return int(args.func(args))
    except ChaosError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_TOOL_ERROR
    except RunStopped as stop:  # before the run had anything to revert or save
        print(f"{stop.status}: {stop.reason}; nothing was left running", file=sys.stderr)
        return stop.exit_code
    except KeyboardInterrupt:  # a command without a RunGuard (lab, report, recover)
        print("interrupted", file=sys.stderr)
        return signal_exit_code(signal.SIGINT)
