"""The lab fixture the backup tests share (one lab with PostgreSQL for test_backup*.py)."""
from __future__ import annotations

import pytest

from tests.lab._lab_fixtures import backup_inventory, deployed_lab


@pytest.fixture(scope="session")
def backup_lab():
    """(endpoint, LabClient, deploy summary) of a lab running `backup_inventory()`."""
    with deployed_lab(declared=backup_inventory()) as (server, lab, summary):
        yield server.endpoint, lab, summary
