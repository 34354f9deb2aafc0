"""The lab's AWS Backup through boto3 over HTTP: jobs, recovery points with real data, copies,
restores, vault lock, lifecycle, scheduled rules, restore testing, and the failed-job alarm.

One lab for the module. Tests that need AWS days to pass set the backup clock's factor
(`POST /_lab/backup/clock`) and put it back; none asserts a duration.
"""
from __future__ import annotations

import json
from contextlib import contextmanager

import pytest
from botocore.exceptions import ClientError

from tests.lab._lab_fixtures import DR, PRIMARY, client, deployed_lab, eventually, inventory

ROLE = "arn:aws:iam::123456789012:role/lab-backup"
DEPLOY_FACTOR = 0.02


def backup_inventory() -> dict:
    inv = inventory()
    inv["backup"]["plans"] = [{
        "name": "daily", "id": "plan-1", "arn": "arn:plan", "resource_types": ["DynamoDB", "S3"],
        "rules": [{"name": "daily", "schedule": "cron(0 5 * * ? *)", "vault_name": "vault-primary",
                   "vault_region": PRIMARY, "start_window_minutes": 60,
                   "lifecycle": {"cold_storage_after_days": None, "delete_after_days": 35},
                   "copy_actions": [{"region": DR, "vault_name": "vault-dr",
                                     "lifecycle": {"cold_storage_after_days": None, "delete_after_days": 90}}]}]}]
    return inv


@pytest.fixture(scope="module")
def lab():
    with deployed_lab(time_factor=DEPLOY_FACTOR, declared=backup_inventory()) as (server, lab_client, summary):
        yield server.endpoint, lab_client, summary


@contextmanager
def backup_factor(lab_client, factor: float):
    lab_client.set_backup_time_factor(factor)
    try:
        yield
    finally:
        lab_client.set_backup_time_factor(DEPLOY_FACTOR)


def backup(endpoint, region=PRIMARY):
    return client(endpoint, "backup", region)


def finished(describe, key="State"):
    def check():
        reply = describe()
        return reply if reply[key] in ("COMPLETED", "FAILED", "ABORTED") else None
    return eventually(check, timeout=60)


def run_backup(endpoint, resource_arn, vault="vault-primary", region=PRIMARY, **extra):
    started = backup(endpoint, region).start_backup_job(BackupVaultName=vault, ResourceArn=resource_arn,
                                                        IamRoleArn=ROLE, **extra)
    return started, finished(lambda: backup(endpoint, region).describe_backup_job(BackupJobId=started["BackupJobId"]))


TABLE_ARN = f"arn:aws:dynamodb:{PRIMARY}:123456789012:table/catalog"


def test_dynamodb_backup_holds_the_items_and_restores_them_as_of_the_backup(lab):
    endpoint, _, _ = lab
    ddb = client(endpoint, "dynamodb", PRIMARY)
    ddb.put_item(TableName="catalog", Item={"pk": {"S": "before"}, "sk": {"S": "1"}})
    started, job = run_backup(endpoint, TABLE_ARN, Lifecycle={"DeleteAfterDays": 35})
    ddb.put_item(TableName="catalog", Item={"pk": {"S": "after"}, "sk": {"S": "1"}})

    assert job["State"] == "COMPLETED" and job["ResourceType"] == "DynamoDB"
    assert job["RecoveryPointArn"] == started["RecoveryPointArn"] and job["BackupSizeInBytes"] > 0
    point = backup(endpoint).describe_recovery_point(BackupVaultName="vault-primary",
                                                     RecoveryPointArn=started["RecoveryPointArn"])
    assert point["Status"] == "COMPLETED" and point["StorageClass"] == "WARM"
    assert point["Lifecycle"] == {"DeleteAfterDays": 35} and "DeleteAt" in point["CalculatedLifecycle"]
    listed = backup(endpoint).list_recovery_points_by_backup_vault(BackupVaultName="vault-primary",
                                                                   ByResourceArn=TABLE_ARN)["RecoveryPoints"]
    assert started["RecoveryPointArn"] in [p["RecoveryPointArn"] for p in listed]

    restore = backup(endpoint).start_restore_job(RecoveryPointArn=started["RecoveryPointArn"], IamRoleArn=ROLE,
                                                 Metadata={"targetTableName": "catalog-restored"})
    done = finished(lambda: backup(endpoint).describe_restore_job(RestoreJobId=restore["RestoreJobId"]), key="Status")
    assert done["Status"] == "COMPLETED"
    assert done["CreatedResourceArn"].endswith(":table/catalog-restored")
    keys = {item["pk"]["S"] for item in ddb.scan(TableName="catalog-restored")["Items"]}
    assert "before" in keys and "after" not in keys


def test_s3_backup_is_copied_to_the_dr_vault_and_restored_in_the_dr_region(lab):
    endpoint, _, _ = lab
    s3 = client(endpoint, "s3", PRIMARY)
    s3.put_object(Bucket="images-primary", Key="a.png", Body=b"version-1")
    s3.put_object(Bucket="images-primary", Key="a.png", Body=b"version-2")
    started, job = run_backup(endpoint, "arn:aws:s3:::images-primary")
    assert job["State"] == "COMPLETED"

    copy = backup(endpoint).start_copy_job(
        RecoveryPointArn=started["RecoveryPointArn"], SourceBackupVaultName="vault-primary",
        DestinationBackupVaultArn=f"arn:aws:backup:{DR}:123456789012:backup-vault:vault-dr", IamRoleArn=ROLE,
        Lifecycle={"DeleteAfterDays": 90})
    copied = finished(lambda: backup(endpoint).describe_copy_job(CopyJobId=copy["CopyJobId"])["CopyJob"])
    assert copied["State"] == "COMPLETED"
    copy_arn = copied["DestinationRecoveryPointArn"]
    dr_point = backup(endpoint, DR).describe_recovery_point(BackupVaultName="vault-dr", RecoveryPointArn=copy_arn)
    assert dr_point["SourceBackupVaultArn"].endswith(":backup-vault:vault-primary")
    assert dr_point["Lifecycle"] == {"DeleteAfterDays": 90}

    restore = backup(endpoint, DR).start_restore_job(RecoveryPointArn=copy_arn, IamRoleArn=ROLE,
                                                     Metadata={"DestinationBucketName": "images-from-backup"})
    done = finished(lambda: backup(endpoint, DR).describe_restore_job(RestoreJobId=restore["RestoreJobId"]),
                    key="Status")
    assert done["Status"] == "COMPLETED", done.get("StatusMessage")
    dr_s3 = client(endpoint, "s3", DR)
    assert dr_s3.get_bucket_location(Bucket="images-from-backup")["LocationConstraint"] == DR
    assert dr_s3.get_object(Bucket="images-from-backup", Key="a.png")["Body"].read() == b"version-2"


def test_unknown_jobs_vaults_and_points_answer_aws_errors(lab):
    endpoint, _, _ = lab
    with pytest.raises(ClientError) as job:
        backup(endpoint).describe_backup_job(BackupJobId="NOPE")
    assert job.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as vault:
        backup(endpoint).start_backup_job(BackupVaultName="no-such-vault", ResourceArn=TABLE_ARN, IamRoleArn=ROLE)
    assert vault.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as point:
        backup(endpoint).describe_recovery_point(
            BackupVaultName="vault-primary", RecoveryPointArn=f"arn:aws:backup:{PRIMARY}:123456789012:recovery-point:x")
    assert point.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as bad_arn:
        backup(endpoint).start_backup_job(BackupVaultName="vault-primary", ResourceArn="arn:aws:sqs:x", IamRoleArn=ROLE)
    assert bad_arn.value.response["Error"]["Code"] == "InvalidParameterValueException"


def test_vault_lock_refuses_early_deletes_and_a_compliance_lock_sets_after_its_grace(lab):
    endpoint, lab_client, _ = lab
    api = backup(endpoint)
    api.create_backup_vault(BackupVaultName="locked")
    api.put_backup_vault_lock_configuration(BackupVaultName="locked", MinRetentionDays=1, MaxRetentionDays=30,
                                            ChangeableForDays=3)
    locked_at = lab_client.backup_status()["aws_now"]
    too_long = run_backup(endpoint, TABLE_ARN, vault="locked", Lifecycle={"DeleteAfterDays": 31})[1]
    assert too_long["State"] == "FAILED" and "maximum retention" in too_long["StatusMessage"]
    started, job = run_backup(endpoint, TABLE_ARN, vault="locked", Lifecycle={"DeleteAfterDays": 7})
    assert job["State"] == "COMPLETED"

    with pytest.raises(ClientError) as refused:
        api.delete_recovery_point(BackupVaultName="locked", RecoveryPointArn=started["RecoveryPointArn"])
    assert refused.value.response["Error"]["Code"] == "InvalidRequestException"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400

    with backup_factor(lab_client, 1e-5):  # one AWS day = 0.864 lab seconds
        def deleted_once_old_enough():
            try:
                api.delete_recovery_point(BackupVaultName="locked", RecoveryPointArn=started["RecoveryPointArn"])
            except ClientError as error:
                assert error.response["Error"]["Code"] == "InvalidRequestException"
                return False
            return True
        eventually(deleted_once_old_enough, timeout=30)
        eventually(lambda: lab_client.backup_status()["aws_now"] > locked_at + 3.1 * 86400, timeout=30)
        with pytest.raises(ClientError) as immutable:
            api.delete_backup_vault_lock_configuration(BackupVaultName="locked")
    assert immutable.value.response["Error"]["Code"] == "InvalidRequestException"
    with pytest.raises(ClientError) as gone:
        api.describe_recovery_point(BackupVaultName="locked", RecoveryPointArn=started["RecoveryPointArn"])
    assert gone.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_a_governance_lock_can_be_removed(lab):
    endpoint, _, _ = lab
    api = backup(endpoint)
    api.create_backup_vault(BackupVaultName="governed")
    api.put_backup_vault_lock_configuration(BackupVaultName="governed", MinRetentionDays=1)
    api.delete_backup_vault_lock_configuration(BackupVaultName="governed")
    assert api.describe_backup_vault(BackupVaultName="governed").get("Locked") is False


def test_lifecycle_moves_points_to_cold_storage_and_deletes_them_when_due(lab):
    endpoint, lab_client, _ = lab
    api = backup(endpoint)
    cold = run_backup(endpoint, TABLE_ARN, Lifecycle={"MoveToColdStorageAfterDays": 1, "DeleteAfterDays": 91})[0]
    short = run_backup(endpoint, TABLE_ARN, Lifecycle={"DeleteAfterDays": 1})[0]

    def describe(arn):
        try:
            return api.describe_recovery_point(BackupVaultName="vault-primary", RecoveryPointArn=arn)
        except ClientError as error:
            assert error.response["Error"]["Code"] == "ResourceNotFoundException"
            return None

    assert describe(cold["RecoveryPointArn"])["StorageClass"] == "WARM"
    with backup_factor(lab_client, 1e-5):  # one AWS day = 0.864 lab seconds
        eventually(lambda: describe(short["RecoveryPointArn"]) is None, timeout=30)
        eventually(lambda: describe(cold["RecoveryPointArn"])["StorageClass"] == "COLD", timeout=30)
    assert describe(cold["RecoveryPointArn"])["Status"] == "COMPLETED"


def test_plan_rules_run_on_their_schedule_and_copy_to_the_dr_vault(lab):
    endpoint, lab_client, _ = lab
    with backup_factor(lab_client, 2e-5):  # a daily rule fires within ~1.7 lab seconds
        scheduled = eventually(lambda: [j for j in backup(endpoint).list_backup_jobs()["BackupJobs"]
                                        if j.get("CreatedBy", {}).get("BackupPlanName") == "daily"
                                        and j["State"] == "COMPLETED"], timeout=30)
        assert {j["ResourceType"] for j in scheduled} >= {"DynamoDB"}
        copies = eventually(lambda: [p for p in backup(endpoint, DR).list_recovery_points_by_backup_vault(
            BackupVaultName="vault-dr")["RecoveryPoints"]
            if p["ResourceArn"] == TABLE_ARN and p["Lifecycle"] == {"DeleteAfterDays": 90}], timeout=30)
    assert copies[0]["SourceBackupVaultArn"].endswith("vault-primary")


def test_restore_testing_restores_validates_deletes_and_records_the_time(lab):
    endpoint, lab_client, _ = lab
    run_backup(endpoint, TABLE_ARN)
    jobs = lab_client.run_restore_tests()
    ours = next(j for j in jobs if j["region"] == PRIMARY and backup(endpoint).describe_restore_job(
        RestoreJobId=j["restore_job_id"])["SourceResourceArn"] == TABLE_ARN)
    job_id = ours["restore_job_id"]
    awaiting = eventually(lambda: (lambda r: r if r.get("ValidationStatus") == "VALIDATING" else None)(
        backup(endpoint).describe_restore_job(RestoreJobId=job_id)), timeout=60)
    restored_table = awaiting["CreatedResourceArn"].rsplit("/", 1)[-1]
    items = client(endpoint, "dynamodb", PRIMARY).scan(TableName=restored_table)["Items"]
    backup(endpoint).put_restore_validation_result(RestoreJobId=job_id, ValidationStatus="SUCCESSFUL" if items else "FAILED",
                                                   ValidationStatusMessage=f"{len(items)} items")
    done = eventually(lambda: (lambda r: r if r.get("DeletionStatus") == "SUCCESSFUL" else None)(
        backup(endpoint).describe_restore_job(RestoreJobId=job_id)), timeout=60)
    assert done["ValidationStatus"] == "SUCCESSFUL"
    assert done["CreatedBy"]["RestoreTestingPlanArn"].startswith(f"arn:aws:backup:{PRIMARY}:")
    with pytest.raises(ClientError):
        client(endpoint, "dynamodb", PRIMARY).describe_table(TableName=restored_table)
    results = eventually(lambda: [r for r in lab_client.restore_test_results() if r["restore_job_id"] == job_id])
    assert results[0]["restore_seconds"] >= 0 and results[0]["validation"] == "SUCCESSFUL"


def test_a_failed_backup_job_raises_the_alarm_on_its_sns_topic(lab):
    endpoint, lab_client, _ = lab
    sns, sqs, cloudwatch = (client(endpoint, s, PRIMARY) for s in ("sns", "sqs", "cloudwatch"))
    topic = sns.create_topic(Name="alerts")["TopicArn"]
    queue = sqs.create_queue(QueueName="alerts-inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    cloudwatch.put_metric_alarm(AlarmName="backup-jobs-failed", Namespace="AWS/Backup",
                                MetricName="NumberOfBackupJobsFailed", Statistic="Sum", Period=3600,
                                EvaluationPeriods=1, Threshold=0, ComparisonOperator="GreaterThanThreshold",
                                TreatMissingData="notBreaching", AlarmActions=[topic])
    lab_client.add_faults([{"service": "backup", "operation": "BackupJob", "resource": TABLE_ARN}])
    try:
        _, job = run_backup(endpoint, TABLE_ARN)
    finally:
        lab_client.clear_faults()
    assert job["State"] == "FAILED" and "fault rule" in job["StatusMessage"]

    with backup_factor(lab_client, 1e-4):  # 5 AWS minutes = 0.03 lab seconds
        message = eventually(lambda: sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=0).get("Messages"),
                             timeout=30)[0]
    alarm = json.loads(message["Body"])
    assert alarm["AlarmName"] == "backup-jobs-failed" and alarm["NewStateValue"] == "ALARM"
    assert alarm["Trigger"]["MetricName"] == "NumberOfBackupJobsFailed"
    state = cloudwatch.describe_alarms(AlarmNames=["backup-jobs-failed"])["MetricAlarms"][0]["StateValue"]
    assert state == "ALARM"
    kinds = {e["kind"] for e in lab_client.events()}
    assert {"backup_job_failed", "backup_event_published", "alarm_notified"} <= kinds


def test_the_deploy_summary_lists_backup_as_emulated(lab):
    _, _, summary = lab
    assert any(text.startswith("AWS Backup:") for text in summary["emulations"])
    assert not any(row["resource"].startswith("backup-plan:") for row in summary["declared_not_emulated"])
