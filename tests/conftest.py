"""Parallel runs (pytest-xdist, `-n` and `--dist loadgroup` in pytest.ini).

Each test module runs whole on one worker, so a module-scoped lab is started once, not once per
worker that happens to get one of its tests: every test is put in its module's `xdist_group`
unless it names a group of its own (the prod game day's runs each take one, to run side by side).
"""
from __future__ import annotations

import pytest


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups (its hook adds "@group" to node ids)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(item.module.__name__ if item.module else item.nodeid))
