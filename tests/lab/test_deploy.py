"""Deploying an inventory into the lab: what is created, what is declared but not emulated, reset."""
from __future__ import annotations

import pytest

from chaos.errors import ChaosError
from tests.lab._lab_fixtures import DR, PRIMARY, client, deployed_lab, inventory


@pytest.fixture(scope="module")
def deployed():
    with deployed_lab() as (server, lab, summary):
        yield server.endpoint, lab, summary


def test_summary_lists_every_created_store_and_replica(deployed):
    endpoint, lab, summary = deployed
    created = {(c["kind"], c["resource"], c["region"]) for c in summary["created"]}
    assert {("dynamodb-table", "catalog", PRIMARY), ("dynamodb-replica", "catalog", DR),
            ("s3-bucket", "images-primary", PRIMARY), ("s3-replica", "images-dr", DR),
            ("backup-vault", "vault-primary", PRIMARY), ("backup-vault", "vault-dr", DR)} <= created
    assert client(endpoint, "dynamodb", DR).describe_table(TableName="catalog")["Table"]["TableStatus"] == "ACTIVE"
    assert client(endpoint, "s3", DR).get_bucket_versioning(Bucket="images-dr")["Status"] == "Enabled"
    pitr = client(endpoint, "dynamodb", PRIMARY).describe_continuous_backups(TableName="catalog")
    assert pitr["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"


def test_summary_lists_what_moto_cannot_emulate_with_a_reason(deployed):
    _, _, summary = deployed
    not_emulated = {item["resource"].split(":")[0]: item for item in summary["declared_not_emulated"]}
    assert {"backup-plan", "dlm-policy"} <= set(not_emulated)  # this inventory gives no DLM schedule
    assert "efs-replication" not in not_emulated              # chaos/lab/efs.py emulates it
    assert all(item["reason"] for item in summary["declared_not_emulated"])
    assert "moto" in not_emulated["dlm-policy"]["reason"]


def test_summary_reports_links_lag_defaults_and_health_endpoints(deployed):
    _, _, summary = deployed
    kinds = sorted(link["kind"] for link in summary["replication"])
    assert kinds == ["dynamodb", "dynamodb", "efs", "s3"]
    assert summary["replication_lag_defaults"]["dynamodb"]["seconds"] == 0.5
    assert summary["replication_lag_defaults"]["s3"]["seconds"] == 2.0
    assert {h["region"] for h in summary["health_checks"]} == {PRIMARY, DR}
    assert all(h["endpoint"].startswith("http://127.0.0.1:") for h in summary["health_checks"])
    assert summary["emulations"]


def test_ids_the_lab_cannot_choose_are_mapped_in_the_returned_inventory(deployed):
    endpoint, _, summary = deployed
    mapped = summary["inventory"]
    assert mapped["hosted_zone"]["id"] != "Z-FROM-PULUMI"
    instance_id = mapped["workloads"]["web"]["stores"]["instances"][0]["id"]
    reservations = client(endpoint, "ec2", PRIMARY).describe_instances(InstanceIds=[instance_id])["Reservations"]
    assert reservations[0]["Instances"][0]["Placement"]["AvailabilityZone"] == "us-east-1a"
    fs_id = mapped["workloads"]["applogs"]["stores"]["file_system"]["id"]
    assert client(endpoint, "efs", PRIMARY).describe_file_systems(FileSystemId=fs_id)["FileSystems"]


def test_replication_override_applies_to_every_store(deployed):
    endpoint, lab, _ = deployed
    summary = lab.deploy(inventory(), replication_lag_seconds=0.25, time_factor=0.02)
    assert {link["lag_seconds"] for link in summary["replication"]} == {0.25}
    assert summary["replication_lag_defaults"]["s3"]["overridden"] is True


def test_aws_profile_takes_every_duration_from_the_figures_table_scaled(deployed):
    """Lags at AWS's typical values x time factor, pads at AWS's worst x factor, each with its
    source; a reset at another factor rescales them; an unknown profile is a one-line 400."""
    from infra.envelope.figures import FIGURES

    _, lab, _ = deployed
    summary = lab.deploy(inventory(), time_factor=0.01, profile="aws")
    timing = summary["timing"]
    assert timing["profile"] == "aws" and timing["time_factor"] == 0.01
    ddb = timing["lags"]["dynamodb"]
    assert ddb["aws_seconds"] == FIGURES["dynamodb.mrec_replication"].typical_seconds
    assert ddb["lab_seconds"] == ddb["aws_seconds"] * 0.01 and "docs.aws.amazon.com" in ddb["source"]
    assert {link["lag_seconds"] for link in summary["replication"] if link["kind"] == "dynamodb"} == {
        ddb["lab_seconds"]}
    promotion = timing["pads"]["rds_promotion"]
    assert promotion["aws_seconds"] == FIGURES["rds.read_replica_promotion"].worst_seconds
    assert promotion["lab_seconds"] == promotion["aws_seconds"] * 0.01 and "estimate" in promotion["source"]
    rescaled = lab.reset(time_factor=0.1)["timing"]
    assert rescaled["pads"]["rds_promotion"]["lab_seconds"] == promotion["aws_seconds"] * 0.1
    with pytest.raises(ChaosError, match="profile: unknown profile 'fast'"):
        lab.deploy(inventory(), time_factor=0.01, profile="fast")
    mechanics = lab.deploy(inventory(), time_factor=0.02)  # the raw lab API's default
    assert mechanics["timing"]["profile"] == "mechanics" and not mechanics["timing"]["pads"]
    assert mechanics["replication_lag_defaults"]["dynamodb"]["seconds"] == 0.5


def test_reset_gives_fresh_state_and_the_same_summary_shape(deployed):
    endpoint, lab, _ = deployed
    ddb = client(endpoint, "dynamodb", PRIMARY)
    ddb.put_item(TableName="catalog", Item={"pk": {"S": "old"}, "sk": {"S": "s"}})
    lab.add_faults([{"service": "s3"}])

    summary = lab.reset()

    assert ddb.scan(TableName="catalog")["Count"] == 0
    assert lab.faults() == []
    assert {"created", "declared_not_emulated", "replication", "health_checks", "postgres",
            "emulations", "inventory"} <= set(summary)


def test_bad_inventory_is_refused_naming_the_field(deployed):
    _, lab, _ = deployed
    broken = inventory()
    del broken["workloads"]["catalog"]["stores"]["table"]["name"]
    # The contract's own validator (infra/inventory.schema.json) names the field, as for `gameday`.
    with pytest.raises(ChaosError, match=r"inventory\.workloads\.catalog\.stores\.table: 'name' is a required"):
        lab.deploy(broken)


def test_health_reports_ready_endpoint_and_regions(deployed):
    endpoint, lab, _ = deployed
    lab.reset()
    assert lab.health() == {"status": "ready", "endpoint": endpoint, "regions": [PRIMARY, DR]}
