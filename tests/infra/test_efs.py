"""The EFS file store under Pulumi's mock runtime: encryption, lifecycle, backups, replication."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws
import pytest

from infra.components.efs import FileStore, FileStoreArgs, FileStorePolicyError, validate_file_store_args
from infra.offline import OfflineResult, run_program
from tests.infra.conftest import assert_explicit_providers_in

PRIMARY, DR = "us-east-1", "us-west-2"


def store_args(providers, **overrides) -> FileStoreArgs:
    values = dict(workload="app-logs", primary_region=PRIMARY, dr_region=DR, providers=providers, replicate=True,
                  backup_tier="standard", tags={"project": "securecart"})
    values.update(overrides)
    return FileStoreArgs(**values)


def evaluate(**overrides) -> OfflineResult:
    def program() -> None:
        providers = {region: aws.Provider(f"aws-{region}", region=region) for region in (PRIMARY, DR)}
        store = FileStore("logs", store_args(providers, **overrides))
        pulumi.export("replica_file_system_id", store.replica_file_system_id)
        pulumi.export("replicated", store.replication is not None)

    return run_program(program)


@pytest.fixture(scope="module")
def declared() -> OfflineResult:
    return evaluate()


def key_in(result: OfflineResult, region: str):
    [key] = [k for k in result.of_type("aws:kms/key:Key") if k.region == region]
    return key


def test_every_child_uses_an_explicit_provider_of_one_of_the_two_regions(declared):
    assert_explicit_providers_in(declared, (PRIMARY, DR))


def test_file_system_is_encrypted_with_the_primary_key_and_tiers_to_ia(declared):
    [fs] = declared.of_type("aws:efs/fileSystem:FileSystem")
    assert fs.region == PRIMARY, f"{fs.urn}: in {fs.region}"
    assert fs.inputs["encrypted"] is True, f"{fs.urn}: unencrypted"
    assert fs.inputs["kmsKeyId"] == key_in(declared, PRIMARY).outputs["arn"], f"{fs.urn}: wrong key"
    policies = fs.inputs["lifecyclePolicies"]
    assert {"transitionToIa": "AFTER_30_DAYS"} in policies, f"{fs.urn}: no IA transition"
    assert {"transitionToPrimaryStorageClass": "AFTER_1_ACCESS"} in policies, f"{fs.urn}: files never come back"


def test_replication_goes_to_the_dr_region_with_the_dr_key(declared):
    [fs] = declared.of_type("aws:efs/fileSystem:FileSystem")
    [replication] = declared.of_type("aws:efs/replicationConfiguration:ReplicationConfiguration")
    assert replication.region == PRIMARY, f"{replication.urn}: must be declared in the source region"
    assert replication.inputs["sourceFileSystemId"] == fs.id, replication.urn
    destination = replication.inputs["destination"]
    assert destination["region"] == DR, f"{replication.urn}: replicates to {destination['region']}"
    assert destination["kmsKeyId"] == key_in(declared, DR).outputs["arn"], f"{replication.urn}: replica key"
    assert declared.outputs["replica_file_system_id"] == replication.outputs["destination"]["fileSystemId"]


def test_without_replication_nothing_is_declared_in_the_dr_region():
    result = evaluate(replicate=False)
    assert not result.of_type("aws:efs/replicationConfiguration:ReplicationConfiguration")
    assert result.outputs["replicated"] is False
    assert result.outputs.get("replica_file_system_id") is None
    assert_explicit_providers_in(result, (PRIMARY,))  # nothing in the DR region without replication
    [fs] = result.of_type("aws:efs/fileSystem:FileSystem")
    assert fs.inputs["kmsKeyId"] == key_in(result, PRIMARY).outputs["arn"], f"{fs.urn}: wrong key"


def test_with_a_backup_tier_aws_backup_selects_it_and_efs_automatic_backups_are_off(declared):
    [fs] = declared.of_type("aws:efs/fileSystem:FileSystem")
    [policy] = declared.of_type("aws:efs/backupPolicy:BackupPolicy")
    assert fs.inputs["tags"]["backup-tier"] == "standard", f"{fs.urn}: AWS Backup cannot select it"
    assert policy.inputs["fileSystemId"] == fs.id, policy.urn
    assert policy.inputs["backupPolicy"]["status"] == "DISABLED", f"{policy.urn}: backed up twice"


def test_without_a_backup_tier_efs_automatic_backups_are_on():
    result = evaluate(backup_tier=None)
    [fs] = result.of_type("aws:efs/fileSystem:FileSystem")
    [policy] = result.of_type("aws:efs/backupPolicy:BackupPolicy")
    assert "backup-tier" not in fs.inputs["tags"], fs.urn
    assert policy.inputs["backupPolicy"]["status"] == "ENABLED", f"{policy.urn}: file system left unprotected"


def test_archive_tier_and_mount_targets_when_asked():
    result = evaluate(transition_to_archive="AFTER_90_DAYS", mount_target_subnets={f"{PRIMARY}a": "subnet-1"})
    [fs] = result.of_type("aws:efs/fileSystem:FileSystem")
    assert {"transitionToArchive": "AFTER_90_DAYS"} in fs.inputs["lifecyclePolicies"], fs.urn
    [mount] = result.of_type("aws:efs/mountTarget:MountTarget")
    assert (mount.inputs["fileSystemId"], mount.inputs["subnetId"]) == (fs.id, "subnet-1"), mount.urn


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"dr_region": PRIMARY}, "dr_region"),
        ({"transition_to_ia": "AFTER_2_DAYS"}, "transition_to_ia"),
        ({"transition_to_archive": "AFTER_90_DAYS", "throughput_mode": "bursting"}, "transition_to_archive"),
    ],
)
def test_invalid_settings_are_refused_naming_the_field(overrides, field):
    with pytest.raises(FileStorePolicyError, match=field):
        validate_file_store_args(store_args({PRIMARY: object(), DR: object()}, **overrides))
