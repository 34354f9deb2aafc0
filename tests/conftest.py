"""Parallel runs (pytest-xdist, `-n` and `--dist loadgroup` in pytest.ini).

Each test module runs whole on one worker, so a module-scoped lab is started once, not once per
worker that happens to get one of its tests: every test is put in its module's `xdist_group`
unless it names a group of its own (the prod game day's runs each take one, to run side by side).

A module whose tests each start their own processes (a game day, a CLI subprocess) and share
nothing costly sets `SPREAD_OVER_WORKERS = True`: its tests then go to whichever worker is free.
"""
from __future__ import annotations

import pytest


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups (its hook adds "@group" to node ids)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        module = getattr(item, "module", None)
        if item.get_closest_marker("xdist_group") is not None or getattr(module, "SPREAD_OVER_WORKERS", False):
            continue
        item.add_marker(pytest.mark.xdist_group(module.__name__ if module else item.nodeid))
