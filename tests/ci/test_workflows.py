"""The GitHub workflows parse, and every command their steps run exists in this repository.

A workflow is only checked when it runs, on GitHub; a typo in a flag or a renamed script would
surface as a red nightly weeks later. So each `run:` line is read here: scripts it calls must
exist, and each `securecart-dr` / `python -m chaos` command line must parse with the real CLI
parser (same flags, same subcommands).
"""
from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml

from chaos.cli import build_parser

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))
EXPRESSION = re.compile(r"\$\{\{[^}]*\}\}")


def load(path: Path) -> dict:
    document = yaml.safe_load(path.read_text())
    # YAML 1.1 reads the bare key `on` as True.
    if True in document:
        document["on"] = document.pop(True)
    return document


def run_lines(document: dict) -> list[str]:
    lines = []
    for job in document["jobs"].values():
        for step in job["steps"]:
            if "run" in step:
                # Folded (>-) and literal (|) blocks: join continuation lines into one command.
                lines.extend(line.strip() for line in step["run"].splitlines() if line.strip())
    return lines


def harness_commands(line: str) -> list[list[str]]:
    """The argument vectors of every harness invocation on one shell line."""
    text = EXPRESSION.sub("x", line)
    commands = []
    for part in re.split(r"&&|\|\||;|\|", text):
        words = shlex.split(part)
        for index, word in enumerate(words):
            if word.endswith("securecart-dr"):
                commands.append(_until_redirect(words[index + 1:]))
            elif word == "-m" and index + 1 < len(words) and words[index + 1] == "chaos":
                commands.append(_until_redirect(words[index + 2:]))
    return commands


def _until_redirect(words: list[str]) -> list[str]:
    for index, word in enumerate(words):
        if word.startswith((">", "<", "2>")):
            return words[:index]
    return words


def test_there_are_push_schedule_and_localstack_workflows():
    names = {path.name for path in WORKFLOWS}
    assert {"ci.yml", "gameday-staging-aws.yml", "localstack.yml"} <= names
    triggers = {path.name: load(path)["on"] for path in WORKFLOWS}
    assert {"push", "pull_request"} <= set(triggers["ci.yml"])
    assert "schedule" in triggers["gameday-staging-aws.yml"]


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_step_is_a_real_step(path):
    document = load(path)
    assert document["jobs"], path.name
    for name, job in document["jobs"].items():
        assert job.get("runs-on"), f"{path.name}: job {name} has no runs-on"
        assert job.get("timeout-minutes"), f"{path.name}: job {name} has no timeout"
        for step in job["steps"]:
            assert ("run" in step) != ("uses" in step), f"{path.name}: {step}"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_scripts_and_harness_commands_exist(path):
    parser = build_parser()
    for line in run_lines(load(path)):
        for script in re.findall(r"(?:bash\s+)?(\.ci/[\w.-]+)", line):
            assert (REPO / script).is_file(), f"{path.name}: {script} does not exist"
        for argv in harness_commands(line):
            try:
                parser.parse_args(argv)
            except SystemExit as exit_:
                pytest.fail(f"{path.name}: `{' '.join(argv)}` does not parse (exit {exit_.code})")


def test_ci_tests_run_the_readme_test_command():
    ci_run = (REPO / ".ci" / "run").read_text()
    assert "bash .ci/setup && .venv/bin/python -m pytest -q" in ci_run
    readme = (REPO / "README.md").read_text()
    assert "bash .ci/setup && .venv/bin/python -m pytest -q" in readme


def test_the_scheduled_aws_run_assumes_a_role_through_oidc_and_always_recovers():
    document = load(REPO / ".github" / "workflows" / "gameday-staging-aws.yml")
    assert document["permissions"]["id-token"] == "write"
    steps = document["jobs"]["gameday"]["steps"]
    credentials = [s for s in steps if s.get("uses", "").startswith("aws-actions/configure-aws-credentials")]
    assert credentials and "vars." in credentials[0]["with"]["role-to-assume"]
    recover = [s for s in steps if "recover" in s.get("run", "")]
    assert recover and recover[0]["if"] == "always()"
    gameday = [s for s in steps if "gameday" in s.get("run", "")]
    assert "--target aws" in gameday[0]["run"]
