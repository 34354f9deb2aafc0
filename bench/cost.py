"""Benchmark: how long `python -m infra.cost --stack S --json` takes, cold and warm.

    python -m bench.cost [--stacks prod,staging,localstack] [--runs 3]

Each run is a real subprocess (interpreter start and imports included). "cold" runs with an
empty evaluation cache (every what-if variant is evaluated under Pulumi's mock runtime); "warm"
runs reuse the cache, as a second run with an unchanged program and config does.
Target (issue 9): under 5 s per shipped stack.
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
TARGET_SECONDS = 5.0


def timed(stack: str, cache: str) -> float:
    env = dict(os.environ, SECURECART_CACHE_DIR=cache)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "infra.cost", "--stack", stack, "--json"], cwd=REPO, env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=600)
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"infra.cost --stack {stack} failed: {done.stderr.strip().splitlines()[-1:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stacks", default="prod,staging,localstack")
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args()
    print(f"infra.cost wall time per stack, {options.runs} runs each (target < {TARGET_SECONDS:g} s)")
    for stack in options.stacks.split(","):
        cold, warm = [], []
        for _ in range(options.runs):
            with tempfile.TemporaryDirectory(prefix="securecart-cost-bench-") as cache:
                cold.append(timed(stack, cache))
                warm.append(timed(stack, cache))
        print(f"  {stack:11} cold median {statistics.median(cold):5.2f} s (min {min(cold):.2f})   "
              f"warm median {statistics.median(warm):5.2f} s (min {min(warm):.2f})")


if __name__ == "__main__":
    main()
