"""The dispatcher as a user meets it: `--help` lists the commands and the exit codes; a mistyped
flag of a command prints that command's usage, not the list of commands."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from chaos.cli import SUBCOMMANDS

REPO = Path(__file__).resolve().parents[2]


def chaos(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "chaos", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=120)


def test_top_level_help_has_one_line_per_command_and_the_exit_codes():
    done = chaos("--help")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    commands = lines[lines.index("  <command>") + 1:lines.index("exit codes:")]
    listed = [line.split()[0] for line in commands if line.strip()]
    assert listed == list(SUBCOMMANDS), done.stdout  # one line each: no wrapped line
    for code, meaning in (("0", "every target met"), ("1", "a target was missed"),
                          ("2", "ABORTED"), ("130", "SIGINT"), ("143", "SIGTERM")):
        assert any(line.split()[:1] == [code] and meaning in line for line in lines), done.stdout
    assert "dispatcher" not in done.stdout and "register(" not in done.stdout


def test_a_mistyped_flag_prints_the_subcommand_usage():
    done = chaos("gameday", "--stack", "prod", "--secnario", "region-outage")
    assert done.returncode == 2
    assert done.stderr.startswith("usage: python -m chaos gameday"), done.stderr
    assert "error: unrecognized arguments: --secnario region-outage" in done.stderr
    assert "{gameday,lab,report,recover}" not in done.stderr and "<command>" not in done.stderr


def test_recover_of_a_directory_that_is_no_run_is_one_line_exit_2(tmp_path):
    done = chaos("recover", "--out", str(tmp_path / "nothing"))
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"error: run-dir: {tmp_path / 'nothing'} is not a directory; pass the --out directory of a game day"]
