"""Which scenario applies to which workload, and why not; plan checks; target overrides.
No server: the prod stack's offline inventory and targets that are never started."""
from __future__ import annotations

import pytest

from chaos.errors import ChaosError
from chaos.faults.outages import AzOutage, RegionOutage
from chaos.faults.replication import ReplicationPause
from chaos.engine.gameday import GameDayPlan, check_plan, workload_targets
from chaos.engine.run import select_workloads
from chaos.scenarios.catalog import SCENARIOS, FaultInputs
from chaos.targets.aws import AwsTarget
from chaos.targets.inventory import parse_inventory
from chaos.targets.lab import LabTarget
from infra.offline import evaluate_stack

ALL = ["app-logs", "catalog", "compute", "logs", "orders", "product-images", "sessions"]


@pytest.fixture(scope="module")
def raw_inventory():
    return evaluate_stack("prod").inventory


@pytest.fixture(scope="module")
def inventory(raw_inventory):
    return parse_inventory(raw_inventory)


@pytest.fixture
def lab():
    return LabTarget(replication_lag_seconds=None, time_factor=0.1)  # never started here


@pytest.mark.parametrize("scenario, applicable", [
    ("region-outage", ["catalog", "orders", "product-images", "sessions"]),
    ("replication-pause", ["catalog", "orders", "product-images", "sessions"]),
    ("az-outage", ["orders"]),
    ("instance-failure", ["orders"]),
    ("accidental-deletion", ["catalog", "logs", "orders", "product-images", "sessions"]),
])
def test_each_scenario_applies_to_what_its_design_says(inventory, lab, scenario, applicable):
    selection = select_workloads(SCENARIOS[scenario], inventory, ALL, lab)
    assert sorted(selection.applicable) == applicable
    assert sorted(selection.skipped) == sorted(set(ALL) - set(applicable))
    assert all(reason for reason in selection.skipped.values())


def test_skip_reasons_say_why(inventory, lab):
    skipped = select_workloads(SCENARIOS["region-outage"], inventory, ALL, lab).skipped
    assert "AWS Backup" in skipped["logs"]            # backup-restore: no live replica
    assert "no EFS data plane" in skipped["app-logs"]
    assert "no EC2 data plane" in skipped["compute"]
    skipped = select_workloads(SCENARIOS["az-outage"], inventory, ALL, lab).skipped
    assert "regional service" in skipped["catalog"]
    assert "no canary" in skipped["compute"]          # EC2 has instances, but nothing to measure


def test_a_target_without_the_fault_skips_the_scenario(raw_inventory):
    staging_like = {**raw_inventory, "chaos_enabled": True,
                    "fis": {"role_arn": "arn", "templates": {"rds-reboot-failover": "EXT1",
                                                            "dynamodb-pause-replication": "EXT2"}}}
    aws = AwsTarget(staging_like)
    for scenario in ("region-outage", "replication-pause"):  # both need a whole-region outage
        selection = select_workloads(SCENARIOS[scenario], parse_inventory(staging_like), ALL, aws)
        assert not selection.applicable
        assert "cannot inject region-outage" in selection.skipped["catalog"]
    assert select_workloads(SCENARIOS["instance-failure"], parse_inventory(staging_like), ALL,
                            aws).applicable == ["orders"]


def test_plan_names_are_checked_before_anything_runs(raw_inventory, lab):
    inventory = raw_inventory
    with pytest.raises(ChaosError, match="--workload: no workload 'ledger'"):
        check_plan(GameDayPlan(stack="prod", scenarios=["region-outage"], workloads=["ledger"]),
                   inventory, lab)
    with pytest.raises(ChaosError, match="--scenario: az-outage applies to none"):
        check_plan(GameDayPlan(stack="prod", scenarios=["az-outage"], workloads=["catalog"],
                               scenarios_explicit=True), inventory, lab)
    # Not asked by name (the default "all scenarios"): simply skipped, no error.
    assert check_plan(GameDayPlan(stack="prod", scenarios=["az-outage"], workloads=["catalog"]),
                      inventory, lab) == ["catalog"]


def test_target_overrides_apply_to_one_workload_only(raw_inventory):
    inventory = raw_inventory
    plan = GameDayPlan(stack="prod", scenarios=[], rpo_targets={"catalog": 0.1},
                       rto_targets={"orders": 5.0})
    targets = workload_targets(inventory, plan)
    assert targets["catalog"].rpo_seconds == 0.1
    assert targets["orders"].rto_seconds == 5.0
    assert targets["sessions"].rpo_seconds == inventory["workloads"]["sessions"]["targets"]["rpo_seconds"]
    with pytest.raises(ChaosError, match="--rpo-target: no workload 'ledger'"):
        workload_targets(inventory, GameDayPlan(stack="prod", scenarios=[], rpo_targets={"ledger": 1}))


def _inputs(lab, inventory, names, scenario):
    return FaultInputs(target=lab, run_id="run", scenario=scenario,
                       workloads={n: inventory.workloads[n] for n in names},
                       primary_region=inventory.primary_region, pause_seconds=3.0,
                       deletion_mode="items", ttl_seconds=100.0)


def test_replication_pause_pauses_every_workload_then_takes_the_region_down(inventory, lab):
    names = ["catalog", "orders"]
    plan = SCENARIOS["replication-pause"].plan_faults(_inputs(lab, inventory, names, "replication-pause"))
    assert [type(f) for f in plan.preparatory] == [ReplicationPause, ReplicationPause]
    assert all(f.preparatory for f in plan.preparatory)
    [outage] = plan.interrupting
    assert isinstance(outage, RegionOutage) and outage.region == "us-east-1"
    assert plan.hold_seconds == 3.0


def test_az_outage_takes_the_primary_instance_zone_down(inventory, lab):
    plan = SCENARIOS["az-outage"].plan_faults(_inputs(lab, inventory, ["orders"], "az-outage"))
    [fault] = plan.interrupting
    assert isinstance(fault, AzOutage)
    assert fault.zone == inventory.raw["workloads"]["orders"]["stores"]["primary"]["availability_zone"]
