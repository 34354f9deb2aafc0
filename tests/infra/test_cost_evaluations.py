"""infra/cost/evaluations.py: the stack and its what-if variants evaluated in parallel forked
processes give what an evaluation in this process gives, and a second call reads the cache."""
from __future__ import annotations

import re
from dataclasses import asdict

import pytest

from infra.config import load_stack_config
from infra.cost import evaluations
from infra.cost.estimate import what_if_overrides
from infra.cost.workloads import Resource
from infra.offline import evaluate_stack, load_stack_file


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
