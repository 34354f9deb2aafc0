"""Parallel runs (pytest-xdist, `-n` and `--dist loadscope` in pytest.ini).

`loadscope` keeps each test module (each test class) on one worker, so a module-scoped lab is
started once, not once per worker that gets one of its tests. Tests that should run side by side
with the rest of their module go in a class of their own (the prod game day's three runs).
(`--dist loadgroup` and `xdist_group` do nothing with pytest 9.2: pytest-xdist 3.8.0 renames
`item._nodeid`, which pytest 9 no longer reads.)

A module marked `alone` (pytestmark) runs while no test of the other workers does: its
measurements are timing-sensitive, and three workers' labs on two cores starve its canaries
(test_calibration.py's DynamoDB RPO read 0 s for a 0.5 s lag with two lab modules beside it).
"""
from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator

import pytest

ALONE = "alone"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{ALONE}: the module runs while no other test of a parallel "
                                       "run does (tests/conftest.py)")


# A readers-writer lock over the run's workers (files in the run's shared temporary directory):
# every module holds `alone.lock` shared while it runs, an `alone` module holds it exclusively. The
# turnstile gives the exclusive side priority: a worker waiting for it holds the turnstile, so no
# new module starts until the running ones end and it gets its turn. Per module, not per test: an
# autouse fixture of a scope is set up before that scope's other fixtures and torn down after them,
# so a module's lab starts, deploys and stops inside the lock (a per-test lock let other modules'
# labs start beside an `alone` module).

def _lock_files(factory: pytest.TempPathFactory) -> tuple[str, str] | None:
    if "PYTEST_XDIST_WORKER" not in os.environ:
        return None  # one process: nothing runs beside anything
    shared = factory.getbasetemp().parent
    return str(shared / "alone.turnstile"), str(shared / "alone.lock")


@pytest.fixture(scope="module", autouse=True)
def _module_lock(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    files = _lock_files(tmp_path_factory)
    if files is None:
        yield
        return
    with open(files[0], "a") as turnstile, open(files[1], "a") as lock:
        fcntl.flock(turnstile, fcntl.LOCK_EX)
        if request.node.get_closest_marker(ALONE) is not None:
            fcntl.flock(lock, fcntl.LOCK_EX)  # and keeps the turnstile: nothing new starts meanwhile
        else:
            try:
                fcntl.flock(lock, fcntl.LOCK_SH)
            finally:
                fcntl.flock(turnstile, fcntl.LOCK_UN)
        yield  # released when the files close
