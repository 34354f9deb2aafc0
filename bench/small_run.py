"""Wall time of a small game day: one workload, one scenario, the real CLI in a subprocess.

`python -m chaos gameday --stack prod --workload logs --scenario accidental-deletion --quiet`
is timed from process start to exit (goal: <= 4 s). The first run uses an empty inventory cache
(the Pulumi program is evaluated under the mock runtime), the others the cached evaluation
(chaos/targets/stack_inventory.py), which is what a developer re-running a game day gets.

Run: `.venv/bin/python -m bench.small_run [--runs 3] [--workload logs] [--scenario accidental-deletion]`
Prints figures; asserts nothing.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def timed_run(workload: str, scenario: str, cache_dir: str) -> tuple[float, int, str]:
    with tempfile.TemporaryDirectory() as out:
        command = [sys.executable, "-m", "chaos", "gameday", "--stack", "prod", "--workload", workload,
                   "--scenario", scenario, "--quiet", "--out", out]
        started = time.monotonic()
        done = subprocess.run(command, cwd=REPO, capture_output=True, text=True,
                              env=dict(os.environ, SECURECART_CACHE_DIR=cache_dir))
        wall = time.monotonic() - started
    summary = (done.stdout.strip().splitlines() or done.stderr.strip().splitlines() or [""])[-1]
    return wall, done.returncode, summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs with a warm inventory cache")
    parser.add_argument("--workload", default="logs")
    parser.add_argument("--scenario", default="accidental-deletion")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as cache:
        cold, code, summary = timed_run(args.workload, args.scenario, cache)
        print(f"small game day ({args.workload} x {args.scenario}), empty inventory cache: "
              f"{cold:.2f} s wall, exit {code} ({summary})")
        warm = []
        for _ in range(args.runs):
            wall, code, summary = timed_run(args.workload, args.scenario, cache)
            warm.append(wall)
        print(f"small game day, cached inventory: median {statistics.median(warm):.2f} s wall "
              f"(min {min(warm):.2f}, max {max(warm):.2f}, {args.runs} runs), exit {code} ({summary})")


if __name__ == "__main__":
    main()
