"""Benchmark: wall time of `python -m infra.cost` on every shipped stack, cold and warm.

    python -m bench.cost [--stacks prod,staging,localstack] [--modes json,table,what-if,what-if-json] [--runs 3]

Each run is the real CLI in a subprocess (interpreter start and imports included), from a copy of
this working tree in a temporary directory:
- "fresh clone": the first run in a new copy: no bytecode of the repository's modules yet and an
  empty evaluation cache, what a fresh clone's first command meets;
- "cold": an empty evaluation cache (infra/evaluation_cache.py): the stack and each what-if
  variant are evaluated under Pulumi's mock runtime;
- "warm": the cache filled by the run before, as a second run with the program and config
  unchanged finds it.
Modes: json (`--json`), table (the rich table), what-if (`--what-if W --out DIR`: the table, the
strategies side by side and the PNG chart), what-if-json (the same with `--json`); W is the
stack's first workload. Target (issue 9): under 5 s on every shipped stack. The load average is
printed with the figures (a shared machine stretches every wall time), and the CPU seconds of the
cold runs (user + system, the forked evaluations included), which load does not change much.
Prints figures; asserts nothing.
"""
from __future__ import annotations

import argparse
import functools
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
TARGET_SECONDS = 5.0
MODES = ("json", "table", "what-if", "what-if-json")


def tree_copy(into: Path) -> Path:
    """The working tree's files (tracked, and new ones not ignored), without bytecode or .venv."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO, check=True,
                            capture_output=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = REPO / name
        if source.is_file() and not source.is_symlink() and "__pycache__" not in source.parts:
            (into / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, into / name)
    return into


@functools.lru_cache(maxsize=None)  # read once per stack, whatever the modes
def first_workload(stack: str) -> str:
    from infra.config import load_stack_config
    from infra.offline import load_stack_file

    return next(iter(load_stack_config(load_stack_file(stack)).workloads))


def command(stack: str, mode: str, out: Path) -> list[str]:
    args = [sys.executable, "-m", "infra.cost", "--stack", stack]
    if mode.startswith("what-if"):
        args += ["--what-if", first_workload(stack), "--out", str(out)]
    if mode.endswith("json"):
        args.append("--json")
    return args


def timed(args: list[str], tree: Path, cache: Path, cpu: list[float] | None = None) -> float:
    """Wall seconds of one run; its CPU seconds (user + system, its forked evaluations included)
    appended to `cpu`."""
    env = dict(os.environ, SECURECART_CACHE_DIR=str(cache))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(args, cwd=tree, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                          timeout=600)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(args[1:])} failed: {done.stderr.strip().splitlines()[-1:]}")
    if cpu is not None:
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return elapsed


def figures(values: list[float]) -> str:
    return f"{statistics.median(values):5.2f} s (max {max(values):.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stacks", default="prod,staging,localstack")
    parser.add_argument("--modes", default=",".join(MODES), help=f"comma-separated, of {', '.join(MODES)}")
    parser.add_argument("--runs", type=int, default=3, help="cold and warm runs per stack and mode")
    options = parser.parse_args()
    modes = options.modes.split(",")
    if unknown := [m for m in modes if m not in MODES]:
        raise SystemExit(f"--modes: unknown {', '.join(unknown)}; choose among {', '.join(MODES)}")
    print(f"python -m infra.cost wall time, {options.runs} cold and warm runs each, median (max); target < "
          f"{TARGET_SECONDS:g} s; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start")
    print(f"  {'stack':11} {'mode':13} {'fresh clone':>12}   {'cold':18}   {'warm':18}   cold CPU (median)")
    slowest = 0.0
    for stack in options.stacks.split(","):
        for mode in modes:
            with tempfile.TemporaryDirectory(prefix="securecart-cost-bench-") as scratch:
                scratch_path = Path(scratch)
                tree = tree_copy(scratch_path / "tree")
                args = command(stack, mode, scratch_path / "out")
                fresh = timed(args, tree, scratch_path / "cache-fresh")
                cold, warm, cpu = [], [], []
                for run in range(options.runs):
                    cache = scratch_path / f"cache-{run}"
                    cold.append(timed(args, tree, cache, cpu))
                    warm.append(timed(args, tree, cache))
            slowest = max(slowest, fresh, *cold)
            print(f"  {stack:11} {mode:13} {fresh:10.2f} s   {figures(cold)}   {figures(warm)}   "
                  f"{statistics.median(cpu):.2f} s", flush=True)
    print(f"slowest cold run {slowest:.2f} s (target < {TARGET_SECONDS:g} s); load average "
          f"{os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
