"""Shared fixtures: each stack file evaluated once per test session under the mock runtime."""

from __future__ import annotations

import pytest

from infra.offline import DeclaredResource, OfflineResult, evaluate_stack

STACKS = ("prod", "staging", "localstack")


@pytest.fixture(scope="session")
def evaluated() -> dict[str, OfflineResult]:
    """Every stack in the repository, evaluated by running the real `__main__.py`."""
    return {stack: evaluate_stack(stack) for stack in STACKS}


@pytest.fixture(scope="session")
def prod(evaluated: dict[str, OfflineResult]) -> OfflineResult:
    return evaluated["prod"]


@pytest.fixture(scope="session")
def staging(evaluated: dict[str, OfflineResult]) -> OfflineResult:
    return evaluated["staging"]


def check(condition: bool, resource: DeclaredResource, problem: str) -> None:
    """Assert a policy on one resource; the failure names the resource by URN."""
    assert condition, f"{resource.urn}: {problem}"
