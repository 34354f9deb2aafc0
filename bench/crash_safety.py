"""Crash-safety figures on this machine: prints, never asserts.

A real game day (`gameday --stack prod --scenario region-outage --workload catalog`, with a prod
inventory cut to catalog + orders so PostgreSQL runs under the lab) is stopped mid-fault, once per
way of dying; for each, how long until the run noticed, how long until the harness exited, its
exit code, and what was left (processes of the lab's tree, PostgreSQL servers on the run's
directories, directories):

- `lab-sigkill`: SIGKILL of the lab child; "noticed" is the `run_stopped` event's time;
- `sigterm`: SIGTERM of the game day; "noticed" likewise;
- `harness-sigkill`: SIGKILL of the game day; then `chaos recover` (its wall time and exit).

Run: `.venv/bin/python -m bench.crash_safety [--only lab-sigkill]`
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.chaos.test_crash_safety import (  # noqa: E402  the same observation helpers as the tests
    descendants, kinds, lab_leftovers, running, servers_using, start_gameday, wait_mid_fault)

MODES = ("lab-sigkill", "sigterm", "harness-sigkill")


def inventory_file(directory: Path) -> Path:
    from infra.offline import evaluate_stack
    inventory = evaluate_stack("prod").inventory
    inventory["workloads"] = {name: inventory["workloads"][name] for name in ("catalog", "orders")}
    path = directory / "inventory.json"
    path.write_text(json.dumps(inventory))
    return path


def left(pids: set[int], dirs: list[str]) -> str:
    procs = running(pids) | servers_using(dirs)
    on_disk = [d for d in dirs if os.path.exists(d)]
    return f"{len(procs)} processes, {len(on_disk)} directories"


def one(mode: str, inventory: Path, out: Path) -> None:
    harness = start_gameday(out, inventory)
    run = wait_mid_fault(harness, out)
    pids, dirs = lab_leftovers(run)
    pids |= descendants(harness.pid)
    victim = run["host"]["lab"]["pid"] if mode == "lab-sigkill" else harness.pid
    killed_at = time.time()
    os.kill(victim, signal.SIGTERM if mode == "sigterm" else signal.SIGKILL)
    harness.communicate(timeout=300)
    exited = time.time() - killed_at
    line = f"{mode:16s} harness exit {harness.returncode:>3} after {exited:5.2f} s"
    if "run_stopped" in kinds(out):
        stop = next(json.loads(raw) for raw in (out / "journal.jsonl").read_text().splitlines()
                    if '"kind":"run_stopped"' in raw)
        line += f"; noticed after {stop['t'] - killed_at:5.2f} s"
    time.sleep(1.0)  # what is still there one second after the harness exited
    line += f"; left 1 s later: {left(pids, dirs)}"
    if mode == "harness-sigkill":
        started = time.time()
        done = subprocess.run([sys.executable, "-m", "chaos", "recover", "--out", str(out)], cwd=REPO,
                              capture_output=True, text=True, timeout=120)
        line += (f"; recover exit {done.returncode} in {time.time() - started:.2f} s, "
                 f"then left: {left(pids, dirs)}")
    print(line, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=MODES, action="append")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-crash-") as scratch:
        inventory = inventory_file(Path(scratch))
        for mode in args.only or MODES:
            one(mode, inventory, Path(scratch) / mode)


if __name__ == "__main__":
    main()
