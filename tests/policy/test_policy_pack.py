"""The DR policy pack, run offline over the real program's resources (mock runtime).

The shipped stacks must pass; each deliberately broken copy must fail with its policy's message
and at the right enforcement level (mandatory where the break loses data).
"""
from __future__ import annotations

import copy

import pytest

from infra.offline import evaluate_stack
from policy.dr_rules import POLICIES
from policy.offline import main, policy_resources, run_policies


@pytest.fixture(scope="module")
def prod_resources():
    return policy_resources(evaluate_stack("prod").resources)


def broken(resources, mutate):
    """Violations after `mutate(resources_copy)`; the fixture stays intact."""
    resources = copy.deepcopy(resources)
    mutate(resources)
    return run_policies(resources)


def one(resources, token, name_part=""):
    return next(r for r in resources if r.resource_type == token and name_part in r.name)


def found(violations, policy, level, *fragments):
    hits = [v for v in violations if v.policy == policy
            and all(fragment in v.message for fragment in fragments)]
    assert hits, f"no {policy} violation with {fragments}: {violations}"
    assert {v.level for v in hits} == {level}
    return hits


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_the_shipped_stacks_pass(stack):
    violations = run_policies(policy_resources(evaluate_stack(stack).resources))
    assert violations == []


def test_every_policy_has_a_level_and_a_description():
    names = [p.name for p in POLICIES]
    assert len(names) == len(set(names))
    assert all(p.description and p.enforcement_level.value in ("mandatory", "advisory") for p in POLICIES)


def test_dynamodb_without_pitr(prod_resources):
    def mutate(rs):
        table = one(rs, "aws:dynamodb/table:Table", "catalog")
        table.props["pointInTimeRecovery"] = {"enabled": False}
    found(broken(prod_resources, mutate), "dynamodb-pitr", "mandatory", "catalog-table",
          "point-in-time recovery is off")


def test_dynamodb_replica_without_pitr_and_a_short_period(prod_resources):
    def mutate(rs):
        table = one(rs, "aws:dynamodb/table:Table", "sessions")
        table.props["pointInTimeRecovery"] = {"enabled": True, "recoveryPeriodInDays": 3}
        table.props["replicas"][0]["pointInTimeRecovery"] = False
    violations = broken(prod_resources, mutate)
    found(violations, "dynamodb-pitr", "mandatory", "keeps 3 days")
    found(violations, "dynamodb-pitr", "mandatory", "replica in us-west-2 has PITR off")


def test_bucket_without_versioning_or_lifecycle(prod_resources):
    def mutate(rs):
        for token in ("aws:s3/bucketVersioning:BucketVersioning",
                      "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"):
            rs.remove(one(rs, token, "logs-us-east-1"))
    violations = broken(prod_resources, mutate)
    found(violations, "s3-versioning", "mandatory", "logs-us-east-1", "versioning is not enabled")
    found(violations, "s3-lifecycle", "advisory", "logs-us-east-1", "no lifecycle")


def test_rds_short_retention_single_az_unprotected_unencrypted(prod_resources):
    def mutate(rs):
        primary = one(rs, "aws:rds/instance:Instance", "orders-primary")
        primary.props.update(backupRetentionPeriod=1, multiAz=False, deletionProtection=False,
                             storageEncrypted=False)
    violations = broken(prod_resources, mutate)
    found(violations, "rds-backup-retention", "mandatory", "1 days is under the pack's minimum of 7")
    found(violations, "rds-production-hardening", "mandatory", "without Multi-AZ")
    found(violations, "rds-production-hardening", "mandatory", "without deletion protection")
    found(violations, "rds-production-hardening", "mandatory", "not encrypted")


def test_store_no_plan_selects(prod_resources):
    def mutate(rs):
        for selection in [r for r in rs if r.resource_type == "aws:backup/selection:Selection"]:
            rs.remove(selection)
    found(broken(prod_resources, mutate), "backup-coverage", "mandatory", "catalog-table",
          "no AWS Backup selection covers it")


def test_critical_tier_without_cross_region_copy(prod_resources):
    def mutate(rs):
        for plan in [r for r in rs if r.resource_type == "aws:backup/plan:Plan"]:
            for rule in plan.props["rules"]:
                rule.pop("copyActions", None)
    violations = broken(prod_resources, mutate)
    found(violations, "cross-region-copy", "mandatory", "tier 'critical'", "no copy to another region")
    # backup-restore workloads lose their only region-loss recovery too
    found(violations, "strategy-pieces", "mandatory", "backup-restore needs a backup plan")


def test_vault_without_lock_and_rule_outside_the_lock(prod_resources):
    def mutate(rs):
        rs.remove(one(rs, "aws:backup/vaultLockConfiguration:VaultLockConfiguration", "us-west-2"))
        plan = one(rs, "aws:backup/plan:Plan", "critical")
        plan.props["rules"][0]["lifecycle"]["deleteAfter"] = 3
    violations = broken(prod_resources, mutate)
    found(violations, "vault-lock", "mandatory", "us-west-2", "no vault lock")
    found(violations, "vault-lock", "mandatory", "keeps 3 days, outside its vault lock")


def test_early_deletion_from_glacier_deep_archive_and_cold_storage(prod_resources):
    def mutate(rs):
        lifecycle = one(rs, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "logs")
        rule = lifecycle.props["rules"][0]
        rule["transitions"] = [{"storageClass": "GLACIER", "days": 30},
                               {"storageClass": "DEEP_ARCHIVE", "days": 60}]
        rule["expiration"] = {"days": 200}
        plan = one(rs, "aws:backup/plan:Plan", "standard")
        plan.props["rules"][-1]["lifecycle"] = {"coldStorageAfter": 30, "deleteAfter": 100}
    violations = broken(prod_resources, mutate)
    found(violations, "retention-minimums", "advisory", "30 days in GLACIER", "90-day minimum")
    found(violations, "retention-minimums", "advisory", "140 days in DEEP_ARCHIVE", "180-day minimum")
    found(violations, "retention-minimums", "advisory", "deletes 70 days after moving to cold storage")


def test_replication_alarm_looser_than_the_target(prod_resources):
    def mutate(rs):
        alarm = next(r for r in rs if r.resource_type == "aws:cloudwatch/metricAlarm:MetricAlarm"
                     and r.props.get("metricName") == "ReplicaLag")
        alarm.props["threshold"] = 100_000
    found(broken(prod_resources, mutate), "alarm-thresholds", "advisory", "ReplicaLag threshold 100000 s",
          "orders's RPO target")


def test_public_bucket(prod_resources):
    def mutate(rs):
        block = one(rs, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "product-images-us-east-1")
        block.props["blockPublicPolicy"] = False
        policy = next((r for r in rs if r.resource_type == "aws:s3/bucketPolicy:BucketPolicy"), None)
        policy.props["policy"] = ('{"Statement": [{"Effect": "Allow", "Principal": "*", '
                                  '"Action": "s3:GetObject", "Resource": "*"}]}')
    violations = broken(prod_resources, mutate)
    found(violations, "no-public-buckets", "mandatory", "product-images-us-east-1", "not fully blocked")
    found(violations, "no-public-buckets", "mandatory", "allows any principal")


def test_strategy_without_its_recovery_piece(prod_resources):
    def mutate(rs):
        rs.remove(next(r for r in rs if r.resource_type == "aws:rds/instance:Instance"
                       and r.props.get("replicateSourceDb")))
        one(rs, "aws:dynamodb/table:Table", "catalog").props["replicas"] = []
        config = one(rs, "aws:s3/bucketReplicationConfig:BucketReplicationConfig")
        for rule in config.props["rules"]:
            rule["destination"].pop("replicationTime", None)
    violations = broken(prod_resources, mutate)
    found(violations, "strategy-pieces", "mandatory", "orders", "cross-region read replica")
    found(violations, "strategy-pieces", "mandatory", "catalog", "global-table replica")
    found(violations, "strategy-pieces", "mandatory", "product-images", "Replication Time Control")


def test_cli_exit_codes(capsys):
    assert main(["--stack", "no-such-stack"]) == 2
    assert "--stack no-such-stack" in capsys.readouterr().err
