"""`python -m chaos gameday` bad input, through a real subprocess: exit 2, one line, no traceback.

None of these cases may start the lab: names and numbers are checked before anything runs.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from moto.server import ThreadedMotoServer

REPO = Path(__file__).resolve().parents[2]


def gameday(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "chaos", "gameday", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=timeout)


def assert_one_line_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


@pytest.mark.parametrize("args, fragments", [
    (["--stack", "prod", "--scenario", "meteor-strike"], ["--scenario", "meteor-strike"]),
    (["--stack", "prod", "--rate", "-5"], ["--rate"]),
    (["--stack", "prod", "--time-factor", "0"], ["--time-factor"]),
    (["--stack", "prod", "--profile", "fast"], ["--profile", "aws or mechanics"]),
    (["--stack", "prod", "--rto-target", "catalog"], ["--rto-target", "WORKLOAD=SECONDS"]),
    (["--stack", "prod", "--rpo-target", "catalog=soon"], ["--rpo-target"]),
    (["--stack", "prod", "--target", "aws"], ["--inventory"]),
    (["--stack", "prod", "--target", "localstack"], ["--endpoint"]),
])
def test_bad_flags_fail_before_the_stack_is_even_evaluated(args, fragments):
    assert_one_line_error(gameday(*args), *fragments)


def test_unknown_stack():
    assert_one_line_error(gameday("--stack", "no-such-stack"), "--stack", "no-such-stack")


def test_unknown_workload():
    assert_one_line_error(gameday("--stack", "prod", "--workload", "ledger"), "--workload", "ledger")


def test_override_for_an_unknown_workload():
    assert_one_line_error(gameday("--stack", "prod", "--rpo-target", "ledger=5"), "--rpo-target",
                          "ledger")


def test_scenario_that_applies_to_none_of_the_selected_workloads():
    result = gameday("--stack", "prod", "--scenario", "az-outage", "--workload", "catalog")
    assert_one_line_error(result, "--scenario", "az-outage", "catalog")


def test_unreachable_endpoint():
    result = gameday("--stack", "prod", "--target", "localstack", "--endpoint", "http://127.0.0.1:9")
    assert_one_line_error(result, "--endpoint", "127.0.0.1:9")


@pytest.fixture(scope="module")
def prod_inventory():
    from chaos.targets.stack_inventory import stack_inventory
    return stack_inventory("prod")


def test_aws_refuses_a_stack_not_opted_in(tmp_path, prod_inventory):
    assert prod_inventory["chaos_enabled"] is False
    inventory = tmp_path / "inventory.json"
    inventory.write_text(json.dumps(prod_inventory))
    result = gameday("--stack", "prod", "--target", "aws", "--inventory", str(inventory))
    assert_one_line_error(result, "chaos_enabled: false")


def test_inventory_breaking_the_contract_names_the_first_bad_field(tmp_path, prod_inventory):
    broken = json.loads(json.dumps(prod_inventory))
    del broken["workloads"]["catalog"]["stores"]["table"]["name"]
    inventory = tmp_path / "inventory.json"
    inventory.write_text(json.dumps(broken))
    result = gameday("--stack", "prod", "--target", "aws", "--inventory", str(inventory))
    assert_one_line_error(result, "inventory.workloads.catalog.stores.table", "'name'")


def test_inventory_file_that_is_not_json(tmp_path):
    inventory = tmp_path / "inventory.json"
    inventory.write_text("{not json")
    result = gameday("--stack", "prod", "--target", "aws", "--inventory", str(inventory))
    assert_one_line_error(result, "--inventory", "not JSON")


def test_localstack_refuses_a_stack_not_opted_in():
    # A plain moto server stands in for a LocalStack endpoint without the lab API: prod did not
    # opt in to chaos, so nothing may be injected there.
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        result = gameday("--stack", "prod", "--target", "localstack",
                         "--endpoint", f"http://{host}:{port}")
    finally:
        server.stop()
    assert_one_line_error(result, "chaos_enabled: false")


def test_unwritable_out_directory():
    assert_one_line_error(gameday("--stack", "prod", "--out", "/dev/null/reports"), "--out")


def gameday_in_process(capsys, *args: str) -> subprocess.CompletedProcess:
    """The same entry point as `python -m chaos`, without a new interpreter (~3 s each here):
    for refusals that happen before anything starts."""
    from chaos.cli import main
    code = main(["gameday", *args])
    captured = capsys.readouterr()
    return subprocess.CompletedProcess(args, code, captured.out, captured.err)


@pytest.mark.parametrize("flag, value, maximum", [
    ("--replication-lag", "1e9", "90"),     # used to hang the game day with no output
    ("--rate", "100000", "2000"),           # used to be claimed in the report while ~86-260/s ran
    ("--pause-seconds", "1e9", "90"),
    ("--time-factor", "1e9", "10"),
    ("--rpo-target", "catalog=1e300", "604800"),
])
def test_durations_and_rates_beyond_what_a_game_day_carries_name_the_maximum(capsys, flag, value, maximum):
    result = gameday_in_process(capsys, "--stack", "prod", flag, value)
    assert_one_line_error(result, flag, f"maximum {maximum}", f"pass at most {flag} {maximum}")


def test_deeply_nested_inventory_is_one_line_not_a_recursion_error(capsys, tmp_path):
    inventory = tmp_path / "inventory.json"
    inventory.write_text("[" * 200_000 + "]" * 200_000)  # 400 KB
    result = gameday("--stack", "prod", "--target", "aws", "--inventory", str(inventory))  # a real process
    assert_one_line_error(result, "--inventory", "nested")
    inventory.write_text('{"workloads": {"a": ' + "[" * 40 + "]" * 40 + "}}")  # parses, too deep
    assert_one_line_error(gameday_in_process(capsys, "--stack", "prod", "--target", "aws", "--inventory",
                                             str(inventory)), "nested more than 32 levels")


def test_oversized_inventory_is_refused_before_it_is_read_whole(capsys, tmp_path):
    inventory = tmp_path / "inventory.json"
    with open(inventory, "w") as out:
        out.write('{"workloads": {}, "pad": "')
        out.write("x" * (5 * 1024 * 1024))
        out.write('"}')
    assert_one_line_error(gameday_in_process(capsys, "--stack", "prod", "--target", "aws", "--inventory",
                                             str(inventory)), "--inventory", "bytes")


def test_out_directory_that_exists_but_takes_no_files_is_refused_before_anything_runs(capsys, tmp_path,
                                                                                      prod_inventory):
    # /proc/1 is a directory nobody (root included) can create files in, as an immutable
    # (`chattr +i`) directory; it used to be found out only when the reports were written.
    inventory = tmp_path / "inventory.json"
    inventory.write_text(json.dumps(prod_inventory))
    result = gameday_in_process(capsys, "--stack", "prod", "--target", "aws", "--inventory", str(inventory),
                                "--out", "/proc/1")
    assert_one_line_error(result, "--out", "/proc/1", "cannot write")
