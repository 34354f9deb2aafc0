"""The `inventory` output: valid against infra/inventory.schema.json and built from declared resources."""

from __future__ import annotations

import copy
import json
import re

import jsonschema
import pytest

from infra.config import load_stack_config
from infra.offline import REPO_ROOT, evaluate_stack, load_stack_file
from tests.infra.conftest import STACKS

SCHEMA = json.loads((REPO_ROOT / "infra" / "inventory.schema.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


def errors(document: dict) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in VALIDATOR.iter_errors(document)]


def test_schema_is_valid_draft_2020_12():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize("stack", STACKS)
def test_inventory_validates_against_the_schema(evaluated, stack):
    assert errors(evaluated[stack].inventory) == []


@pytest.mark.parametrize(
    "breakage",
    [
        lambda inv: inv.pop("hosted_zone"),
        lambda inv: inv["workloads"]["orders"]["stores"]["primary"].pop("address"),
        lambda inv: inv["workloads"]["catalog"]["stores"]["table"].update(pitr="yes"),
        lambda inv: inv["workloads"]["logs"].update(strategy="cold-standby"),
        lambda inv: inv["application"]["records"][0].update(failover="TERTIARY"),
        lambda inv: inv["workloads"]["orders"]["failover"].update(switch="dns"),
    ],
)
def test_schema_rejects_a_broken_inventory(prod, breakage):
    document = copy.deepcopy(prod.inventory)
    breakage(document)
    assert errors(document), "the schema accepted a broken inventory"


def test_documented_top_level_and_workload_keys_match_the_schema():
    doc = (REPO_ROOT / "docs" / "inventory.md").read_text()
    documented = set(re.findall(r"^\| `([a-z_]+)`(?:, `([a-z_]+)`)? \|", doc, re.M))
    keys = {k for pair in documented for k in pair if k}
    assert set(SCHEMA["required"]) <= keys
    assert set(SCHEMA["$defs"]["workload"]["required"]) <= keys


@pytest.mark.parametrize("stack", STACKS)
def test_inventory_lists_every_configured_workload_with_its_strategy_and_targets(evaluated, stack):
    config = load_stack_config(load_stack_file(stack))
    inventory = evaluated[stack].inventory
    assert inventory["stack"] == stack and inventory["project"] == "securecart-dr"
    assert inventory["chaos_enabled"] == config.chaos.enabled
    assert set(inventory["workloads"]) == set(config.workloads)
    for name, workload in config.workloads.items():
        entry = inventory["workloads"][name]
        assert entry["kind"] == workload.kind.value and entry["strategy"] == workload.strategy.name
        assert entry["targets"] == {"rto_seconds": workload.targets.rto_seconds, "rpo_seconds": workload.targets.rpo_seconds}
        has_dr_copy = workload.strategy.routing is not None and workload.kind.value != "ec2"
        assert (entry["failover"] is None) == (not has_dr_copy), name


def test_inventory_stores_are_the_declared_resources_outputs(prod):
    orders = prod.inventory["workloads"]["orders"]["stores"]
    primary = prod.by_name("orders-primary").outputs
    replica = prod.by_name("orders-replica-us-west-2").outputs
    assert orders["primary"]["address"] == primary["address"] and orders["primary"]["arn"] == primary["arn"]
    assert orders["primary"]["master_secret_arn"] == primary["masterUserSecrets"][0]["secretArn"]
    assert orders["replicas"] == [{
        "identifier": replica["identifier"], "arn": replica["arn"], "region": "us-west-2", "address": replica["address"],
        "port": replica["port"], "role": "cross-region-read-replica", "instance_class": "db.t4g.medium"}]
    catalog = prod.inventory["workloads"]["catalog"]["stores"]
    table = prod.by_name("catalog-table").outputs
    assert catalog["table"]["stream_arn"] == table["streamArn"]
    # pulumi-aws 7.51 takes only a boolean for a replica's PITR: the replica keeps AWS's default
    # 35-day period even though catalog asks for its own; the inventory says what AWS will keep.
    assert catalog["replicas"] == [{"region": "us-west-2", "kms_key_arn": prod.by_name("catalog-kms-us-west-2").outputs["arn"],
                                    "pitr": True, "pitr_recovery_period_days": 35}]
    sessions = prod.inventory["workloads"]["sessions"]["stores"]
    assert sessions["table"]["pitr_recovery_period_days"] == 7 and sessions["replicas"][0]["pitr_recovery_period_days"] == 35
    zones = {z.inputs["name"]: z for z in prod.of_type("aws:route53/zone:Zone")}
    assert prod.inventory["hosted_zone"] == {"id": zones["securecart.example.com"].outputs["zoneId"],
                                             "name": "securecart.example.com"}
    checks = {c.id for c in prod.of_type("aws:route53/healthCheck:HealthCheck")}
    for record in prod.inventory["application"]["records"]:
        assert record["health_check_id"] in checks, "application record points at an undeclared health check"
    private = prod.inventory["workloads"]["orders"]["failover"]["private_record"]
    assert private["zone_id"] == zones["prod.securecart.internal"].outputs["zoneId"] == prod.inventory["private_zone"]["id"]
    assert private["value"] == primary["address"], "the private record must start at the primary"


def test_inventory_backup_and_fis_blocks(prod, staging):
    vaults = {v.region: v.outputs for v in prod.of_type("aws:backup/vault:Vault")}
    assert {r: v["arn"] for r, v in prod.inventory["backup"]["vaults"].items()} == {r: v["arn"] for r, v in vaults.items()}
    plan_names = {p["name"] for p in prod.inventory["backup"]["plans"]}
    for name, workload in prod.inventory["workloads"].items():
        assert workload["backup"]["plan_name"] in plan_names, name
    # RDS point-in-time restore comes from its own automated backups, not a second AWS Backup copy.
    assert prod.inventory["workloads"]["orders"]["backup"]["continuous"] is False
    assert prod.inventory["fis"] is None
    fis = staging.inventory["fis"]
    templates = {t.id for t in staging.of_type("aws:fis/experimentTemplate:ExperimentTemplate")}
    assert set(fis["templates"].values()) == templates
    assert staging.inventory["workloads"]["orders"]["fis_templates"] == {
        "rds-reboot-failover": fis["templates"]["rds-reboot-failover"]}


def test_two_evaluations_of_a_stack_agree(prod):
    again = evaluate_stack("prod")
    assert again.inventory == prod.inventory
    assert len(again.resources) == len(prod.resources)


def test_inventory_carries_what_the_lab_runs_backups_from(evaluated):
    """Plan rules, vault lock, restore testing, the alarms and the archive lifecycle, from the resources."""
    inv = evaluated["prod"].inventory
    vault = next(iter(inv["backup"]["vaults"].values()))
    assert vault["lock"]["min_retention_days"] >= 1 and vault["lock"]["changeable_for_days"] == 3
    warm = next(p for p in inv["backup"]["plans"] if "RDS" in p["resource_types"])
    daily = next(r for r in warm["rules"] if r["name"] == "daily")
    assert daily["schedule"].startswith("cron(") and daily["lifecycle"]["delete_after_days"]
    assert daily["copy_actions"][0]["region"] == inv["dr_region"]
    assert {plan["region"] for plan in inv["backup"]["restore_testing"]} == {inv["primary_region"], inv["dr_region"]}
    failed = [a for a in inv["monitoring"]["backup_alarms"] if a["metric"] == "NumberOfBackupJobsFailed"]
    assert {a["region"] for a in failed} == {inv["primary_region"], inv["dr_region"]}
    lifecycle = inv["workloads"]["orders"]["stores"]["archive_bucket"]["lifecycle"][0]
    assert "DEEP_ARCHIVE" in {t["storage_class"] for t in lifecycle["transitions"]}


def test_the_inventory_carries_each_restore_scenarios_target_for_the_harness(prod):
    """Config -> program -> inventory -> the harness's judge: a ransomware restore of orders is
    judged against its own restore target, not the region-outage one."""
    from chaos.journal import targets_from_inventory

    scenarios = prod.inventory["workloads"]["orders"]["envelope"]["scenarios"]
    assert scenarios["ransomware"]["target"] == {"rto_seconds": 5400, "rpo_seconds": 60}
    assert scenarios["restore-drill"]["target"] == {"rto_seconds": 5400, "rpo_seconds": 259200}
    judged = targets_from_inventory(prod.inventory)["orders"].for_scenario("ransomware")
    assert (judged.rto_seconds, judged.rpo_seconds) == (5400, 60)
    images = targets_from_inventory(prod.inventory)["product-images"].for_scenario("backup-job-failure")
    assert (images.rto_seconds, images.rpo_seconds) == (10800, 0)
