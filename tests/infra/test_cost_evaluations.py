"""infra/cost/evaluations.py: the stack and its what-if variants evaluated in parallel forked
processes give what an evaluation in this process gives, and a second call reads the cache."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

import pytest

from infra.config import load_stack_config
from infra.cost import evaluations
from infra.cost.estimate import what_if_overrides
from infra.cost.workloads import Resource
from infra.offline import evaluate_stack, load_stack_file

REPO = Path(__file__).resolve().parents[2]


def comparable(resources) -> list[dict]:
    """Resources in a stable order; Python object addresses (an asset's repr) masked."""
    return sorted((asdict(r) for r in resources), key=lambda r: (r["type"], r["name"], r["region"] or ""))


def masked(value):
    return re.sub(r" object at 0x[0-9a-f]+", " object", repr(value))


def test_forked_evaluations_equal_in_process_ones_and_are_read_back_from_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SECURECART_CACHE_DIR", str(tmp_path))
    variant = what_if_overrides(load_stack_config(load_stack_file("staging")), "backup-restore")
    assert variant, "staging has workloads that can be switched to backup-restore"
    base, switched = evaluations.evaluated("staging", [None, variant])  # two misses: forked, in parallel
    for got, overrides in ((base, None), (switched, variant)):
        expected = evaluate_stack("staging", overrides=overrides)
        assert masked(comparable(got.resources)) == masked(comparable(Resource.of(r) for r in expected.resources))
        assert got.inventory == expected.inventory
    assert base.inventory != switched.inventory  # the variant really is another config

    def evaluate(*args):
        pytest.fail(f"evaluated again although cached: {args}")

    monkeypatch.setattr(evaluations, "_evaluate", evaluate)
    assert evaluations.evaluated("staging", [variant, None]) == [switched, base]


def test_one_miss_is_evaluated_in_this_process(tmp_path, monkeypatch):
    monkeypatch.setenv("SECURECART_CACHE_DIR", "off")
    monkeypatch.setattr(evaluations, "ProcessPoolExecutor", None)  # would raise if a pool were made
    [only] = evaluations.evaluated("localstack", [None])
    assert {r.type for r in only.resources} >= {"aws:s3/bucket:Bucket", "aws:backup/plan:Plan"}
    assert set(only.inventory["workloads"]) == set(load_stack_config(load_stack_file("localstack")).workloads)


def children_of(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        found.update(int(child) for child in task.read_text().split())
    return found


def running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")  # a zombie has ended; only its parent's wait is missing


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads /proc (Linux)")
def test_forked_evaluations_end_when_the_command_is_killed(tmp_path):
    """SIGKILL of `python -m infra.cost` mid-evaluation leaves no evaluation process behind."""
    command = subprocess.Popen([sys.executable, "-m", "infra.cost", "--stack", "staging", "--json"], cwd=REPO,
                               env=dict(os.environ, SECURECART_CACHE_DIR=str(tmp_path)),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in wait(120):
            workers = children_of(command.pid)
            if len(workers) >= 2 or command.poll() is not None:
                break
        assert len(workers) >= 2, "the cold run forked no evaluations"
    finally:
        command.kill()
        command.wait()
    for _ in wait(60):
        if not any(running(pid) for pid in workers):
            break
    assert not [pid for pid in workers if running(pid)], "evaluation processes outlived the command"


def wait(seconds: float):
    """Poll every 50 ms, for at most `seconds` (a bound for a hung run, not a timing assertion)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        yield
        time.sleep(0.05)
