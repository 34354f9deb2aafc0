"""Crash safety of a real game day (`python -m chaos gameday` as a subprocess, its real lab child,
real PostgreSQL servers under it), stopped mid-fault three ways:

- SIGTERM of the game day: handled like Ctrl-C, exit 143, faults reverted, lab stopped, an
  INTERRUPTED report that `chaos report` re-renders with the same exit code;
- SIGKILL of the game day: its lab stops itself, and `chaos recover` removes what is left, reports
  the run, and finds nothing to do the second time;
- SIGKILL of the lab: the game day notices, aborts (exit 2) with an ABORTED report, and nothing of
  the lab is left: no PostgreSQL server, no directory.

One workload, one scenario each, and a prod inventory cut down to two workloads (evaluated once,
here, instead of once per game day): `catalog` (DynamoDB) takes the region outage, `orders` keeps
real PostgreSQL servers under the lab, so every kind of process the lab starts is there when the
kill lands. "Mid-fault" is read from the run's own on-disk journal (a `fault_injected` line), not
guessed from a delay.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from tenacity import Retrying, retry_if_exception_type, retry_if_result, stop_after_delay, wait_fixed

REPO = Path(__file__).resolve().parents[2]
# Bounds on waits that end far sooner when the code works; reaching one fails the test.
SETTLE_SECONDS = 30.0
FAULT_BOUND_SECONDS = 180.0


def chaos(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "chaos", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture(scope="module")
def inventory_file(tmp_path_factory) -> Path:
    from chaos.targets.stack_inventory import stack_inventory
    inventory = stack_inventory("prod")  # cached across processes (infra/evaluation_cache.py)
    inventory["workloads"] = {name: inventory["workloads"][name] for name in ("catalog", "orders")}
    path = tmp_path_factory.mktemp("crash") / "inventory.json"
    path.write_text(json.dumps(inventory))
    return path


def start_gameday(out: Path, inventory: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "chaos", "gameday", "--stack", "prod", "--inventory", str(inventory),
         "--quiet", "--scenario", "region-outage", "--workload", "orders", "--time-factor", "2",
         "--out", str(out)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_mid_fault(harness: subprocess.Popen, out: Path) -> dict:
    """The run's run.json once its journal shows the fault injected (the lab recorded in it)."""
    def mid_fault() -> dict:
        assert harness.poll() is None, harness.communicate()
        assert '"kind":"fault_injected"' in (out / "journal.jsonl").read_text()
        run = json.loads((out / "run.json").read_text())
        assert run["status"] == "running" and run["host"]["lab"]["pid"]
        return run

    return Retrying(stop=stop_after_delay(FAULT_BOUND_SECONDS), wait=wait_fixed(0.1), reraise=True,
                    retry=retry_if_exception_type((OSError, ValueError, KeyError, AssertionError)),
                    )(mid_fault)


def descendants(pid: int) -> set[int]:
    """`pid` and every process under it (PostgreSQL backends included: they stay the
    postmaster's children even in their own sessions)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    tree, grew = {pid}, True
    while grew:
        grew = False
        for child, parent in parents.items():
            if parent in tree and child not in tree:
                tree.add(child)
                grew = True
    return tree


def running(pids: set[int]) -> set[int]:
    alive = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state != "Z":
            alive.add(pid)
    return alive


def lab_leftovers(run: dict) -> tuple[set[int], list[str]]:
    """The lab's processes (with its PostgreSQL servers) and every directory of the run's lab."""
    lab = run["host"]["lab"]
    resources = json.loads(Path(lab["resources_file"]).read_text())
    # prod's orders has three servers; the region outage has stopped the primary region's two
    assert resources["processes"], resources
    return descendants(lab["pid"]), [*resources["dirs"], lab["rundir"]]


def servers_using(dirs: list[str]) -> set[int]:
    """PostgreSQL servers started on one of `dirs` (`postgres -D <dir>/...`), even ones started
    after the snapshot of the lab's processes (a revert restarts the primary region's)."""
    found = set()
    for entry in Path("/proc").iterdir():
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0") if entry.name.isdigit() else []
        except OSError:
            continue
        if b"-D" in argv and any(arg.decode(errors="replace").startswith(d) for d in dirs for arg in argv):
            found.add(int(entry.name))
    return running(found)


def gone(pids: set[int], dirs: list[str]) -> bool:
    return not running(pids) and not servers_using(dirs) and not any(os.path.exists(d) for d in dirs)


def eventually_gone(pids: set[int], dirs: list[str]) -> None:
    settled = Retrying(stop=stop_after_delay(SETTLE_SECONDS), wait=wait_fixed(0.2),
                       retry=retry_if_result(lambda ok: not ok), retry_error_callback=lambda s: False,
                       )(lambda: gone(pids, dirs))
    assert settled, (f"left running: {sorted(running(pids) | servers_using(dirs))}; "
                     f"left on disk: {[d for d in dirs if os.path.exists(d)]}")


def kinds(out: Path) -> list[str]:
    return [json.loads(line)["kind"] for line in (out / "journal.jsonl").read_text().splitlines()]


def finish(harness: subprocess.Popen) -> tuple[str, str]:
    try:
        return harness.communicate(timeout=SETTLE_SECONDS + 60)
    finally:
        if harness.poll() is None:
            harness.kill()
            harness.communicate()


def test_sigterm_mid_fault_reverts_stops_saves_and_exits_143(tmp_path, inventory_file):
    harness = start_gameday(tmp_path, inventory_file)
    run = wait_mid_fault(harness, tmp_path)
    pids, dirs = lab_leftovers(run)
    harness.send_signal(signal.SIGTERM)
    stdout, stderr = finish(harness)
    assert harness.returncode == 143, stderr
    assert "Traceback" not in stderr
    assert "interrupted: faults reverted and lab stopped (interrupted by SIGTERM)" in stderr
    assert "INTERRUPTED" in stdout
    eventually_gone(pids, dirs)
    assert "fault_reverted" in kinds(tmp_path) and "run_stopped" in kinds(tmp_path)
    saved = json.loads((tmp_path / "run.json").read_text())
    assert (saved["status"], saved["exit_code"], saved["stop_reason"]) == (
        "interrupted", 143, "interrupted by SIGTERM")
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["summary"]["verdict"] == "INTERRUPTED"
    assert [r["stopped"] for r in report["results"]] == ["interrupted"]
    # Re-rendered later, the run is still INTERRUPTED with its own exit code, not a FAIL (1).
    again = chaos("report", str(tmp_path), "--out", str(tmp_path / "again"), "--quiet")
    assert again.returncode == 143, again.stdout + again.stderr
    assert "chaos: INTERRUPTED (interrupted by SIGTERM)" in again.stdout


def test_sigkill_of_the_game_day_then_recover_leaves_nothing(tmp_path, inventory_file):
    harness = start_gameday(tmp_path, inventory_file)
    run = wait_mid_fault(harness, tmp_path)
    pids, dirs = lab_leftovers(run)
    harness.kill()
    finish(harness)
    # The lab notices its harness is gone and stops itself, PostgreSQL included; only the run
    # directory the harness made for it (the lab's log) waits for `recover`.
    eventually_gone(pids, dirs[:-1])
    assert "run_stopped" not in kinds(tmp_path)  # nobody could write it: the journal is as it was

    first = chaos("recover", "--out", str(tmp_path))
    assert first.returncode == 0, first.stdout + first.stderr
    assert f"run {run['run_id']}" in first.stdout and "killed before it ended" in first.stdout
    assert f"removed directory {run['host']['lab']['rundir']}" in first.stdout
    # waves journal a scenario-wide fault once per workload of the wave (chaos.engine.gameday.WaveJournal)
    assert "region-outage of region-outage / orders: ended with the run's lab" in first.stdout
    assert gone(pids, dirs)
    assert (tmp_path / "lab.log").exists()  # kept for the post-mortem

    second = chaos("recover", "--out", str(tmp_path))
    assert second.returncode == 0, second.stdout + second.stderr
    assert "recover: nothing left to do" in second.stdout and "done:" not in second.stdout

    report = chaos("report", str(tmp_path), "--quiet", "--format", "json")
    assert report.returncode == 2, report.stdout + report.stderr
    assert "chaos: ABORTED (the game-day process was killed" in report.stdout


def test_sigkill_of_the_lab_aborts_the_run_and_leaves_nothing(tmp_path, inventory_file):
    harness = start_gameday(tmp_path, inventory_file)
    run = wait_mid_fault(harness, tmp_path)
    pids, dirs = lab_leftovers(run)
    os.kill(run["host"]["lab"]["pid"], signal.SIGKILL)
    stdout, stderr = finish(harness)
    assert harness.returncode == 2, stderr
    assert "Traceback" not in stderr
    assert f"the lab process (pid {run['host']['lab']['pid']}) died: killed by SIGKILL" in stderr
    assert "ABORTED" in stdout
    # The harness removed what the lab could not: its PostgreSQL servers died with it.
    eventually_gone(pids, dirs)
    saved = json.loads((tmp_path / "run.json").read_text())
    assert (saved["status"], saved["exit_code"]) == ("aborted", 2)
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["summary"]["verdict"] == "ABORTED" and report["summary"]["exit_code"] == 2
    assert "run_stopped" in kinds(tmp_path)
    # Nothing for recover to do but say so (and journal that the lab's fault ended with it).
    after = chaos("recover", "--out", str(tmp_path))
    assert after.returncode == 0, after.stdout + after.stderr
    done = [line for line in after.stdout.splitlines() if line.strip().startswith("done:")]
    assert done == ["  done: region-outage of region-outage / orders: ended with the run's lab (it lived only there)"]
