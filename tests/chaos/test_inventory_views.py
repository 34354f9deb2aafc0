"""The inventory parsed once into typed views: every kind of the prod stack has one, and a bad
field is named in one line. No server."""
from __future__ import annotations

import copy

import pytest

from chaos.errors import ChaosError
from chaos.stores.base import StoreRef
from chaos.targets.inventory import parse_inventory
from infra.offline import evaluate_stack


@pytest.fixture(scope="module")
def raw():
    return evaluate_stack("prod").inventory


def test_every_prod_workload_gets_its_kinds_view(raw):
    inventory = parse_inventory(raw)
    assert {w.kind for w in inventory.workloads.values()} == {"dynamodb", "s3", "rds", "efs", "ec2"}
    for name, workload in inventory.workloads.items():
        assert workload.stores.kind == raw["workloads"][name]["kind"]
    orders = inventory.workloads["orders"]
    assert orders.stores.primary() == StoreRef("rds", "us-east-1",
                                               raw["workloads"]["orders"]["stores"]["primary"]["identifier"])
    assert orders.dr_store is not None and orders.dr_store.region == orders.dr_region


def test_a_missing_store_field_is_named_in_one_line(raw):
    broken = copy.deepcopy(raw)
    del broken["workloads"]["catalog"]["stores"]["table"]["name"]
    with pytest.raises(ChaosError, match=r"^inventory\.workloads\.catalog\.stores\.table\.name: missing"):
        parse_inventory(broken)
    broken = copy.deepcopy(raw)
    broken["workloads"]["orders"]["kind"] = "redis"
    with pytest.raises(ChaosError, match=r"inventory\.workloads\.orders\.kind: unknown kind 'redis'"):
        parse_inventory(broken)
