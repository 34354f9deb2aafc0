"""Shared fixtures: each stack file evaluated once per test session under the mock runtime."""

from __future__ import annotations

import fcntl
import os
import pickle

import pytest

from collections.abc import Collection

from infra.offline import PROVIDER_TYPE, DeclaredResource, OfflineResult, evaluate_stack

STACKS = ("prod", "staging", "localstack")


@pytest.fixture(scope="session")
def evaluated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, OfflineResult]:
    """Every stack in the repository, evaluated by running the real `__main__.py`.

    Once per test run: under pytest-xdist (pytest.ini) the first worker that needs them evaluates
    the stacks (~3.5 s each) while holding a lock, and the other workers read its results from the
    run's shared temporary directory instead of evaluating again."""
    if "PYTEST_XDIST_WORKER" not in os.environ:
        return {stack: evaluate_stack(stack) for stack in STACKS}
    shared = tmp_path_factory.getbasetemp().parent / "offline-evaluations.pickle"
    with open(shared.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if shared.exists():
            return pickle.loads(shared.read_bytes())
        results = {stack: evaluate_stack(stack) for stack in STACKS}
        shared.write_bytes(pickle.dumps(results))
        return results


@pytest.fixture(scope="session")
def prod(evaluated: dict[str, OfflineResult]) -> OfflineResult:
    return evaluated["prod"]


@pytest.fixture(scope="session")
def staging(evaluated: dict[str, OfflineResult]) -> OfflineResult:
    return evaluated["staging"]


def check(condition: bool, resource: DeclaredResource, problem: str) -> None:
    """Assert a policy on one resource; the failure names the resource by URN."""
    assert condition, f"{resource.urn}: {problem}"


def assert_explicit_providers_in(result: OfflineResult, regions: Collection[str]) -> None:
    """Every cloud resource names an explicit aws.Provider, and that provider is of one of `regions`."""
    for resource in result.resources:
        if resource.custom and resource.type != PROVIDER_TYPE:
            check(resource.provider is not None, resource, "declared with the default provider")
            check(resource.region in regions, resource, f"region {resource.region}")
