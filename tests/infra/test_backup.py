"""The Backup component under Pulumi's mock runtime: vaults, lock, plans, copies, reports, audit."""

from __future__ import annotations

import json

import pulumi_aws as aws
import pytest

from infra.components.backup import (
    COLD_STORAGE_MINIMUM_DAYS,
    CONTINUOUS_BACKUP_MAX_DAYS,
    RESOURCE_ARN_PATTERNS,
    Backup,
    BackupArgs,
    BackupPolicyError,
    BackupRuleSpec,
    BackupTierSpec,
    validate_backup_args,
)
from infra.offline import OfflineResult, run_program
from tests.infra.conftest import assert_explicit_providers_in

PRIMARY, DR = "us-east-1", "us-west-2"

CRITICAL = BackupTierSpec(
    name="critical",
    rules=[
        BackupRuleSpec("daily", "cron(0 5 ? * * *)", delete_after_days=35),
        BackupRuleSpec("weekly", "cron(0 5 ? * SUN *)", delete_after_days=120, cold_storage_after_days=14,
                       copy_delete_after_days=120, copy_cold_storage_after_days=14),
        BackupRuleSpec("monthly", "cron(0 5 1 * ? *)", delete_after_days=365, cold_storage_after_days=30,
                       copy_cold_storage_after_days=30),
    ],
    continuous_backup_days=35,
    restore_testing=True,
    resource_types=("RDS", "S3"),  # what the critical tier holds: restore testing selects RDS only
)
STANDARD = BackupTierSpec(
    name="standard",
    rules=[BackupRuleSpec("daily", "cron(0 6 ? * * *)", delete_after_days=14, copy_to_dr=False)],
)


def backup_args(providers, **overrides) -> BackupArgs:
    values = dict(
        primary_region=PRIMARY,
        dr_region=DR,
        providers=providers,
        tiers=[CRITICAL, STANDARD],
        lock_mode="compliance",
        lock_min_retention_days=7,
        lock_max_retention_days=400,
        lock_changeable_for_days=3,
        audit_framework=True,
        declare_config_recorder=True,
        notification_subscribers=[("email", "ops@example.com"), ("https", "https://hooks.example.com/backup")],
        tags={"project": "securecart"},
    )
    values.update(overrides)
    return BackupArgs(**values)


def evaluate(**overrides) -> tuple[OfflineResult, dict]:
    handles: dict = {}

    def program() -> None:
        providers = {region: aws.Provider(f"aws-{region}", region=region) for region in (PRIMARY, DR)}
        handles["backup"] = Backup("backup", backup_args(providers, **overrides))

    return run_program(program), handles


@pytest.fixture(scope="module")
def declared() -> OfflineResult:
    result, _ = evaluate()
    return result


def one(result: OfflineResult, type_token: str, name: str):
    matches = [r for r in result.of_type(type_token) if r.name == name]
    assert len(matches) == 1, f"expected one {type_token} named {name}, found {len(matches)}"
    return matches[0]


def region_of(arn: str) -> str:
    return arn.split(":")[3]


def test_every_child_uses_an_explicit_provider_of_one_of_the_two_regions(declared):
    assert_explicit_providers_in(declared, (PRIMARY, DR))


def test_each_region_has_a_vault_encrypted_with_a_key_of_its_own_region(declared):
    for region in (PRIMARY, DR):
        vault = one(declared, "aws:backup/vault:Vault", f"backup-vault-{region}")
        key = one(declared, "aws:kms/key:Key", f"backup-vault-key-{region}")
        assert vault.region == region, f"{vault.urn}: in {vault.region}"
        assert vault.inputs["kmsKeyArn"] == key.outputs["arn"], f"{vault.urn}: not encrypted with {key.urn}"
        assert region_of(vault.inputs["kmsKeyArn"]) == region, f"{vault.urn}: key from another region"
        assert key.inputs["enableKeyRotation"] is True, f"{key.urn}: rotation off"


def test_compliance_lock_sets_a_grace_period_and_the_retention_bounds(declared):
    for region in (PRIMARY, DR):
        lock = one(declared, "aws:backup/vaultLockConfiguration:VaultLockConfiguration", f"backup-vault-lock-{region}")
        vault = one(declared, "aws:backup/vault:Vault", f"backup-vault-{region}")
        assert lock.inputs["backupVaultName"] == vault.outputs["name"], f"{lock.urn}: locks another vault"
        assert lock.inputs["changeableForDays"] == 3, f"{lock.urn}: compliance mode needs changeable_for_days"
        assert (lock.inputs["minRetentionDays"], lock.inputs["maxRetentionDays"]) == (7, 400), lock.urn


def test_governance_lock_has_no_grace_period():
    result, handles = evaluate(lock_mode="governance")
    assert handles["backup"].lock_mode == "governance"
    for lock in result.of_type("aws:backup/vaultLockConfiguration:VaultLockConfiguration"):
        assert "changeableForDays" not in lock.inputs, f"{lock.urn}: governance lock would become immutable"


def test_each_tier_gets_a_tiered_plan_and_a_warm_plan_in_the_primary_region(declared):
    names = sorted(plan.name for plan in declared.of_type("aws:backup/plan:Plan"))
    assert names == sorted(f"backup-plan-{t}-{c}" for t in ("critical", "standard") for c in ("tiered", "warm"))
    for plan in declared.of_type("aws:backup/plan:Plan"):
        assert plan.region == PRIMARY, f"{plan.urn}: in {plan.region}"


def _lifecycles(rule: dict) -> list[tuple[str, dict]]:
    found = [("rule", rule.get("lifecycle") or {})]
    found += [("copy", action.get("lifecycle") or {}) for action in rule.get("copyActions") or []]
    return found


def test_cold_storage_only_in_tiered_plans_and_always_90_days_before_deletion(declared):
    cold_rules = 0
    for plan in declared.of_type("aws:backup/plan:Plan"):
        for rule in plan.inputs["rules"]:
            for where, lifecycle in _lifecycles(rule):
                cold = lifecycle.get("coldStorageAfter")
                if cold is None:
                    continue
                cold_rules += 1
                assert plan.name.endswith("-tiered"), (
                    f"{plan.urn}: rule {rule['ruleName']} ({where}) sends RDS/S3 to cold storage"
                )
                assert lifecycle["deleteAfter"] >= cold + COLD_STORAGE_MINIMUM_DAYS, (
                    f"{plan.urn}: rule {rule['ruleName']} ({where}) deletes before 90 days in cold storage"
                )
    assert cold_rules == 4, "the weekly and monthly rules and their copies should tier to cold storage"


def test_continuous_backup_only_in_the_warm_plan_within_35_days(declared):
    warm = one(declared, "aws:backup/plan:Plan", "backup-plan-critical-warm")
    continuous = [rule for rule in warm.inputs["rules"] if rule.get("enableContinuousBackup")]
    assert len(continuous) == 1, f"{warm.urn}: expected one continuous rule"
    assert continuous[0]["lifecycle"]["deleteAfter"] <= CONTINUOUS_BACKUP_MAX_DAYS, warm.urn
    for plan in declared.of_type("aws:backup/plan:Plan"):
        if plan.name == warm.name:
            continue
        for rule in plan.inputs["rules"]:
            assert not rule.get("enableContinuousBackup"), f"{plan.urn}: continuous rule {rule['ruleName']}"


def test_rules_keep_schedule_windows_and_copy_to_the_dr_vault(declared):
    dr_vault = one(declared, "aws:backup/vault:Vault", f"backup-vault-{DR}")
    primary_vault = one(declared, "aws:backup/vault:Vault", f"backup-vault-{PRIMARY}")
    tiered = one(declared, "aws:backup/plan:Plan", "backup-plan-critical-tiered")
    rules = {rule["ruleName"]: rule for rule in tiered.inputs["rules"]}
    assert set(rules) == {"daily", "weekly", "monthly"}, tiered.urn
    for rule in rules.values():
        assert rule["targetVaultName"] == primary_vault.outputs["name"], f"{tiered.urn}: {rule['ruleName']}"
        assert rule["schedule"].startswith("cron("), f"{tiered.urn}: {rule['ruleName']} has no schedule"
        assert rule["startWindow"] > 0 and rule["completionWindow"] > rule["startWindow"], tiered.urn
        destinations = [action["destinationVaultArn"] for action in rule["copyActions"]]
        assert destinations == [dr_vault.outputs["arn"]], f"{tiered.urn}: {rule['ruleName']} copies to {destinations}"
    standard = one(declared, "aws:backup/plan:Plan", "backup-plan-standard-tiered")
    assert "copyActions" not in standard.inputs["rules"][0], f"{standard.urn}: copy_to_dr=False was ignored"


def test_selections_pick_a_type_family_and_the_tier_tag(declared):
    role = one(declared, "aws:iam/role:Role", "backup-role")
    for selection in declared.of_type("aws:backup/selection:Selection"):
        tier, plan_class = selection.name.removeprefix("backup-selection-").rsplit("-", 1)
        plan = one(declared, "aws:backup/plan:Plan", f"backup-plan-{tier}-{plan_class}")
        assert selection.inputs["planId"] == plan.id, f"{selection.urn}: attached to another plan"
        assert selection.inputs["iamRoleArn"] == role.outputs["arn"], selection.urn
        expected_types = ("EFS", "EBS", "EC2", "DynamoDB") if plan_class == "tiered" else ("RDS", "S3")
        assert sorted(selection.inputs["resources"]) == sorted(RESOURCE_ARN_PATTERNS[t] for t in expected_types), (
            f"{selection.urn}: selects {selection.inputs['resources']}"
        )
        [condition] = selection.inputs["conditions"]
        assert condition["stringEquals"] == [{"key": "aws:ResourceTag/backup-tier", "value": tier}], selection.urn


def test_backup_role_trusts_backup_and_has_backup_restore_and_s3_policies(declared):
    role = one(declared, "aws:iam/role:Role", "backup-role")
    trust = json.loads(role.inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "backup.amazonaws.com"}, role.urn
    attached = {a.inputs["policyArn"].rsplit("/", 1)[-1] for a in declared.of_type(
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment") if a.inputs["role"] == role.outputs["name"]}
    assert attached == {
        "AWSBackupServiceRolePolicyForBackup",
        "AWSBackupServiceRolePolicyForRestores",
        "AWSBackupServiceRolePolicyForS3Backup",
        "AWSBackupServiceRolePolicyForS3Restore",
    }, f"{role.urn}: {attached}"


def test_vault_notifications_go_to_a_topic_backup_may_publish_to(declared):
    for region in (PRIMARY, DR):
        notifications = one(declared, "aws:backup/vaultNotifications:VaultNotifications",
                            f"backup-vault-notifications-{region}")
        topic = one(declared, "aws:sns/topic:Topic", f"backup-vault-events-{region}")
        policy = one(declared, "aws:sns/topicPolicy:TopicPolicy", f"backup-vault-events-policy-{region}")
        assert notifications.inputs["snsTopicArn"] == topic.outputs["arn"], notifications.urn
        assert region_of(topic.outputs["arn"]) == region, f"{topic.urn}: not in the vault's region"
        events = set(notifications.inputs["backupVaultEvents"])
        assert {"BACKUP_JOB_COMPLETED", "COPY_JOB_FAILED", "RESTORE_JOB_COMPLETED"} <= events, notifications.urn
        document = json.loads(policy.inputs["policy"])
        assert document["Statement"][0]["Principal"] == {"Service": "backup.amazonaws.com"}, policy.urn


def test_report_plans_deliver_job_reports_to_a_private_versioned_encrypted_bucket(declared):
    bucket = one(declared, "aws:s3/bucket:Bucket", "backup-reports")
    templates = {}
    for plan in declared.of_type("aws:backup/reportPlan:ReportPlan"):
        assert plan.inputs["reportDeliveryChannel"]["s3BucketName"] == bucket.outputs["bucket"], plan.urn
        assert plan.inputs["name"].replace("_", "").isalnum(), f"{plan.urn}: name {plan.inputs['name']} is invalid"
        templates[plan.inputs["reportSetting"]["reportTemplate"]] = plan
        assert sorted(plan.inputs["reportSetting"]["regions"]) == sorted((PRIMARY, DR)), plan.urn
    assert set(templates) == {"BACKUP_JOB_REPORT", "COPY_JOB_REPORT", "RESTORE_JOB_REPORT"}

    versioning = one(declared, "aws:s3/bucketVersioning:BucketVersioning", "backup-reports-versioning")
    assert versioning.inputs["versioningConfiguration"]["status"] == "Enabled", versioning.urn
    encryption = one(declared, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
                     "backup-reports-encryption")
    assert encryption.inputs["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"], encryption.urn
    block = one(declared, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "backup-reports-public-access-block")
    for flag in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"):
        assert block.inputs[flag] is True, f"{block.urn}: {flag} off"
    lifecycle = one(declared, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "backup-reports-lifecycle")
    [rule] = lifecycle.inputs["rules"]
    assert [t["storageClass"] for t in rule["transitions"]] == ["GLACIER", "DEEP_ARCHIVE"], lifecycle.urn
    assert rule["abortIncompleteMultipartUpload"]["daysAfterInitiation"] > 0, lifecycle.urn
    for child in (versioning, encryption, block, lifecycle):
        assert child.inputs["bucket"] == bucket.id, f"{child.urn}: configures another bucket"


def test_framework_declares_the_six_controls_with_their_parameters(declared):
    [framework] = declared.of_type("aws:backup/framework:Framework")
    controls = {c["name"]: {p["name"]: p["value"] for p in c.get("inputParameters") or []}
                for c in framework.inputs["controls"]}
    assert set(controls) == {
        "BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK",
        "BACKUP_RESOURCES_PROTECTED_BY_BACKUP_PLAN",
        "BACKUP_RECOVERY_POINT_ENCRYPTED",
        "BACKUP_RECOVERY_POINT_MINIMUM_RETENTION_CHECK",
        "BACKUP_RESOURCES_PROTECTED_BY_CROSS_REGION",
        "BACKUP_RESOURCES_PROTECTED_BY_BACKUP_VAULT_LOCK",
    }, framework.urn
    frequency = controls["BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK"]
    assert frequency == {"requiredFrequencyUnit": "hours", "requiredFrequencyValue": "24",
                         "requiredRetentionDays": "14"}, f"{framework.urn}: {frequency}"
    assert controls["BACKUP_RESOURCES_PROTECTED_BY_CROSS_REGION"] == {"crossRegionList": DR}, framework.urn
    assert controls["BACKUP_RESOURCES_PROTECTED_BY_BACKUP_VAULT_LOCK"] == {
        "minRetentionDays": "7", "maxRetentionDays": "400"}, framework.urn


def test_restore_testing_covers_the_primary_vault_and_the_dr_copies(declared):
    plans = {p.region: p for p in declared.of_type("aws:backup/restoreTestingPlan:RestoreTestingPlan")}
    assert set(plans) == {PRIMARY, DR}, "restore testing must also cover the DR vault's copies"
    for region, plan in plans.items():
        vault = one(declared, "aws:backup/vault:Vault", f"backup-vault-{region}")
        selection = plan.inputs["recoveryPointSelection"]
        assert selection["includeVaults"] == [vault.outputs["arn"]], plan.urn
        assert selection["algorithm"] == "LATEST_WITHIN_WINDOW", plan.urn
    tested = declared.of_type("aws:backup/restoreTestingSelection:RestoreTestingSelection")
    # The critical tier holds RDS and S3; S3 is not restore-tested, so RDS alone: no selection
    # for a type the tier does not hold (it would match nothing).
    assert sorted((s.region, s.inputs["protectedResourceType"]) for s in tested) == sorted([(DR, "RDS"), (PRIMARY, "RDS")])
    for selection in tested:
        plan = plans[selection.region]
        assert selection.inputs["restoreTestingPlanName"] == plan.inputs["name"], selection.urn
        if selection.region == PRIMARY:
            conditions = selection.inputs["protectedResourceConditions"]["stringEquals"]
            assert conditions == [{"key": "aws:ResourceTag/backup-tier", "value": "critical"}], selection.urn


def test_report_bucket_policy_waits_for_the_report_plans_that_create_its_principal(declared):
    policy = one(declared, "aws:s3/bucketPolicy:BucketPolicy", "backup-reports-policy")
    document = json.loads(policy.inputs["policy"])
    assert "AWSServiceRoleForBackupReports" in json.dumps(document), policy.urn
    creators = [r.urn for r in declared.of_type("aws:backup/reportPlan:ReportPlan")]
    creators += [r.urn for r in declared.of_type("aws:backup/framework:Framework")]
    assert creators and set(creators) <= set(policy.dependencies), \
        f"{policy.urn}: declared before the report plans/framework that create the service-linked role"


def test_audit_framework_is_opt_in_and_comes_with_config_recording(declared):
    recorder = one(declared, "aws:cfg/recorder:Recorder", "backup-config-recorder")
    assert "AWS::Backup::RecoveryPoint" in recorder.inputs["recordingGroup"]["resourceTypes"], recorder.urn
    status = one(declared, "aws:cfg/recorderStatus:RecorderStatus", "backup-config-recorder-status")
    channel = one(declared, "aws:cfg/deliveryChannel:DeliveryChannel", "backup-config-delivery")
    assert status.inputs["isEnabled"] is True and channel.urn in status.dependencies, status.urn
    [framework] = declared.of_type("aws:backup/framework:Framework")
    assert recorder.urn in framework.dependencies, f"{framework.urn}: evaluated before recording is on"
    result, _ = evaluate(audit_framework=False, declare_config_recorder=False)
    assert not result.of_type("aws:backup/framework:Framework"), "the framework must be opt-in"
    assert not result.of_type("aws:cfg/recorder:Recorder")


def test_vault_events_reach_the_configured_subscribers(declared):
    subscriptions = declared.of_type("aws:sns/topicSubscription:TopicSubscription")
    for region in (PRIMARY, DR):
        topic = one(declared, "aws:sns/topic:Topic", f"backup-vault-events-{region}")
        mine = {(s.inputs["protocol"], s.inputs["endpoint"]) for s in subscriptions
                if s.inputs["topic"] == topic.outputs["arn"]}
        assert mine == {("email", "ops@example.com"), ("https", "https://hooks.example.com/backup")}, topic.urn


def test_region_settings_enable_dynamodb_advanced_features_in_both_regions(declared):
    settings = declared.of_type("aws:backup/regionSettings:RegionSettings")
    assert sorted(s.region for s in settings) == sorted((PRIMARY, DR))
    for setting in settings:
        assert setting.inputs["resourceTypeManagementPreference"]["DynamoDB"] is True, setting.urn


def test_plan_for_maps_resource_types_to_the_plan_that_selects_them():
    _, handles = evaluate(manage_region_settings=False)
    backup: Backup = handles["backup"]
    assert backup.plan_for("critical", "RDS") is backup.plans["critical-warm"]
    assert backup.plan_for("critical", "S3") is backup.plans["critical-warm"]
    for resource_type in ("DynamoDB", "EFS", "EC2", "EBS"):
        assert backup.plan_for("standard", resource_type) is backup.plans["standard-tiered"]
    with pytest.raises(KeyError):
        backup.plan_for("critical", "Redshift")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"tiers": [BackupTierSpec("t", [BackupRuleSpec("r", "cron(0 5 ? * * *)", 100, cold_storage_after_days=30)])]},
         "delete_after_days 100 leaves less than 90"),
        ({"tiers": [BackupTierSpec("t", [BackupRuleSpec("r", "cron(0 5 ? * * *)", 200, cold_storage_after_days=30,
                                                        copy_delete_after_days=60, copy_cold_storage_after_days=30)])]},
         r"\(DR copy\)"),
        ({"tiers": [BackupTierSpec("t", [BackupRuleSpec("r", "cron(0 5 ? * * *)", 35)], continuous_backup_days=36)]},
         "continuous_backup_days must be 1..35"),
        ({"lock_min_retention_days": 30}, "lock_min_retention_days: tier standard rule daily keeps 14 days"),
        ({"lock_max_retention_days": 300}, "lock_max_retention_days: tier critical rule monthly keeps 365"),
        ({"lock_changeable_for_days": 2}, "lock_changeable_for_days"),
        ({"dr_region": PRIMARY}, "dr_region"),
        ({"tiers": []}, "tiers"),
        ({"notification_subscribers": []}, "notification_subscribers: vault events would reach nobody"),
        ({"audit_framework": False}, "declare_config_recorder: only the audit framework needs it"),
    ],
)
def test_invalid_settings_are_refused_naming_the_field(overrides, field):
    providers = {PRIMARY: object(), DR: object()}
    with pytest.raises(BackupPolicyError, match=field):
        validate_backup_args(backup_args(providers, **overrides))


def test_valid_settings_pass_validation():
    validate_backup_args(backup_args({PRIMARY: object(), DR: object()}))
