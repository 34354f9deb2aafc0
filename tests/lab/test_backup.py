"""The backup lab through boto3 over HTTP, on one lab for the module:
- AWS Backup: jobs, recovery points with real data, copies, restores in either region, vault lock,
  lifecycle, scheduled rules, restore testing, the failed-job alarm on its SNS topic;
- hands-on lab 1: RDS snapshots with real PostgreSQL data (manual, automated with retention);
- hands-on lab 3: export the latest snapshot, let the bucket's lifecycle take it to Deep Archive,
  restore it, load it into a fresh PostgreSQL and find the canary's rows.
Tests that need AWS days to pass set the backup clock's factor (`POST /_lab/backup/clock`) and put
it back; none asserts a duration.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg
import pytest
from botocore.exceptions import ClientError

from chaos.lab.backup.clock import LabClock
from chaos.lab.backup.engine import BackupEngine
from chaos.lab.backup.providers import LabServices
from infra.envelope.figures import FIGURES
from tests.lab._lab_fixtures import (
    ARCHIVE_BUCKET, BACKUP_ROLE, DR, PRIMARY, TEST_TIME_FACTOR, backup_inventory, backup_time_factor, client,
    deployed_lab, eventually, inventory,
)

pytestmark = pytest.mark.skipif(
    not Path("/usr/lib/postgresql/15/bin/postgres").exists() and shutil.which("postgres") is None,
    reason="PostgreSQL server binaries not installed")

ROLE = BACKUP_ROLE
ARCHIVE = ARCHIVE_BUCKET


@pytest.fixture(scope="module")
def lab():
    """(endpoint, LabClient, deploy summary) of a lab running `backup_inventory()`."""
    with deployed_lab(declared=backup_inventory()) as (server, lab_client, summary):
        yield server.endpoint, lab_client, summary


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
    source = backup(endpoint).describe_recovery_point(BackupVaultName="vault-primary",
                                                      RecoveryPointArn=started["RecoveryPointArn"])
    assert dr_point["CreationDate"] == source["CreationDate"]  # AWS: a copy keeps its source's creation date
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

    with backup_time_factor(lab_client, 1e-5):  # one AWS day = 0.864 lab seconds
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
    with backup_time_factor(lab_client, 1e-5):  # one AWS day = 0.864 lab seconds
        eventually(lambda: describe(short["RecoveryPointArn"]) is None, timeout=30)
        eventually(lambda: describe(cold["RecoveryPointArn"])["StorageClass"] == "COLD", timeout=30)
    assert describe(cold["RecoveryPointArn"])["Status"] == "COMPLETED"


def test_plan_rules_run_on_their_schedule_and_copy_to_the_dr_vault(lab):
    endpoint, lab_client, _ = lab
    with backup_time_factor(lab_client, 2e-5):  # a daily rule fires within ~1.7 lab seconds
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
    events = client(endpoint, "events", PRIMARY)  # the monitoring component's rule shape: failed jobs -> a target
    events_queue = sqs.create_queue(QueueName="backup-events")["QueueUrl"]
    events_arn = sqs.get_queue_attributes(QueueUrl=events_queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="backup-job-failed", EventPattern=json.dumps(
        {"source": ["aws.backup"], "detail-type": ["Backup Job State Change"], "detail": {"state": ["FAILED"]}}))
    events.put_targets(Rule="backup-job-failed", Targets=[{"Id": "inbox", "Arn": events_arn}])
    lab_client.add_faults([{"service": "backup", "operation": "BackupJob", "resource": TABLE_ARN}])
    try:
        _, job = run_backup(endpoint, TABLE_ARN)
    finally:
        lab_client.clear_faults()
    assert job["State"] == "FAILED" and "fault rule" in job["StatusMessage"]

    with backup_time_factor(lab_client, 1e-3):  # 5 AWS minutes = 0.3 lab seconds, the alarm's hour 3.6 s
        message = eventually(lambda: sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=0).get("Messages"),
                             timeout=30)[0]
        state = cloudwatch.describe_alarms(AlarmNames=["backup-jobs-failed"])["MetricAlarms"][0]["StateValue"]
    alarm = json.loads(message["Body"])
    assert alarm["AlarmName"] == "backup-jobs-failed" and alarm["NewStateValue"] == "ALARM"
    assert alarm["Trigger"]["MetricName"] == "NumberOfBackupJobsFailed"
    assert state == "ALARM"
    event = json.loads(eventually(lambda: sqs.receive_message(QueueUrl=events_queue).get("Messages"))[0]["Body"])
    assert event["source"] == "aws.backup" and event["detail-type"] == "Backup Job State Change"
    assert event["detail"]["state"] == "FAILED" and event["detail"]["resourceArn"] == TABLE_ARN
    kinds = {e["kind"] for e in lab_client.events()}
    assert {"backup_job_failed", "backup_event_published", "alarm_notified"} <= kinds


def test_the_deploy_summary_lists_backup_as_emulated(lab):
    _, _, summary = lab
    assert any(text.startswith("AWS Backup:") for text in summary["emulations"])
    assert not any(row["resource"].startswith("backup-plan:") for row in summary["declared_not_emulated"])


def test_a_plan_rule_without_a_valid_schedule_is_refused_with_the_field_named(tmp_path):
    engine = BackupEngine(tmp_path, LabClock(1.0), LabServices(client=None, data_plane=lambda: None,
                                                               bucket_regions={}, workdir=tmp_path),
                          job_fault=lambda *args: None, on_event=lambda *args, **kwargs: None)
    try:
        for schedule in ("rate(1 day)", "cron(0 5 * * ?)", None):
            inv = backup_inventory()
            inv["backup"]["plans"][0]["rules"][0]["schedule"] = schedule
            with pytest.raises(ValueError) as refused:
                engine.configure(inv)
            assert "schedule" in str(refused.value) and "cron(" in str(refused.value)
    finally:
        engine.close()


# --- hands-on labs 1 and 3: RDS snapshots and the archive -----------------------------------------

def connect(endpoint: str, identifier: str, region: str = PRIMARY) -> psycopg.Connection:
    described = client(endpoint, "rds", region).describe_db_instances(DBInstanceIdentifier=identifier)
    address = described["DBInstances"][0]["Endpoint"]
    # The master user's credentials from the secret the lab keeps for the workload (as RDS does).
    secret = client(endpoint, "secretsmanager", PRIMARY).get_secret_value(SecretId="rds!db-orders-primary")
    credentials = json.loads(secret["SecretString"])
    return psycopg.connect(host=address["Address"], port=address["Port"], dbname="orders",
                           user=credentials["username"], password=credentials["password"],
                           autocommit=True, connect_timeout=5)


def write_orders(endpoint: str, *ids: int) -> None:
    with connect(endpoint, "orders-primary") as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS canary (seq int PRIMARY KEY)")
        for seq in ids:
            conn.execute("INSERT INTO canary VALUES (%s)", (seq,))


def orders_in(endpoint: str, identifier: str, region: str = PRIMARY) -> set[int]:
    with connect(endpoint, identifier, region) as conn:
        return {row[0] for row in conn.execute("SELECT seq FROM canary")}


def test_manual_snapshot_restores_the_data_as_of_the_snapshot_and_can_be_deleted(lab):
    endpoint, _, _ = lab
    rds = client(endpoint, "rds", PRIMARY)
    write_orders(endpoint, 1, 2)
    rds.create_db_snapshot(DBInstanceIdentifier="orders-primary", DBSnapshotIdentifier="before-3")
    write_orders(endpoint, 3)
    described = rds.describe_db_snapshots(DBSnapshotIdentifier="before-3")["DBSnapshots"][0]
    assert described["SnapshotType"] == "manual" and described["DBInstanceIdentifier"] == "orders-primary"

    rds.restore_db_instance_from_db_snapshot(DBInstanceIdentifier="orders-from-snapshot",
                                             DBSnapshotIdentifier="before-3")
    assert orders_in(endpoint, "orders-from-snapshot") == {1, 2}

    rds.delete_db_snapshot(DBSnapshotIdentifier="before-3")
    with pytest.raises(ClientError) as gone:
        rds.describe_db_snapshots(DBSnapshotIdentifier="before-3")
    assert gone.value.response["Error"]["Code"] == "DBSnapshotNotFound"
    with pytest.raises(ClientError) as unknown:
        rds.create_db_snapshot(DBInstanceIdentifier="no-such-db", DBSnapshotIdentifier="x")
    assert unknown.value.response["Error"]["Code"] == "DBInstanceNotFound"


def test_automated_snapshots_follow_the_backup_window_and_expire_after_the_retention(lab):
    endpoint, lab_client, _ = lab
    rds = client(endpoint, "rds", PRIMARY)

    def automated() -> list[str]:
        return [s["DBSnapshotIdentifier"] for s in rds.describe_db_snapshots(
            DBInstanceIdentifier="orders-primary", SnapshotType="automated")["DBSnapshots"]]

    rds.modify_db_instance(DBInstanceIdentifier="orders-primary", BackupRetentionPeriod=1, ApplyImmediately=True)
    try:
        with backup_time_factor(lab_client, 2e-5):  # one AWS day = 1.7 lab seconds; retention is 1 day
            first = eventually(automated, timeout=30)[0]
            assert first.startswith("rds:orders-primary-")
            with pytest.raises(ClientError) as refused:  # only the retention period removes it
                rds.delete_db_snapshot(DBSnapshotIdentifier=first)
            assert refused.value.response["Error"]["Code"] == "InvalidDBSnapshotState"
            eventually(lambda: first not in automated(), timeout=30)
    finally:  # automated backups off again, as the shared lab started
        rds.modify_db_instance(DBInstanceIdentifier="orders-primary", BackupRetentionPeriod=0, ApplyImmediately=True)
    kinds = [e["kind"] for e in lab_client.events()]
    assert "rds_automated_snapshot_expired" in kinds


def test_aws_backup_of_rds_restores_a_new_instance_from_the_postgresql_snapshot(lab):
    endpoint, _, _ = lab
    write_orders(endpoint, 10)
    backup = client(endpoint, "backup", PRIMARY)
    started = backup.start_backup_job(BackupVaultName="vault-primary", IamRoleArn=ROLE,
                                      ResourceArn=f"arn:aws:rds:{PRIMARY}:123456789012:db:orders-primary")
    job = eventually(lambda: (lambda j: j if j["State"] in ("COMPLETED", "FAILED") else None)(
        backup.describe_backup_job(BackupJobId=started["BackupJobId"])), timeout=60)
    assert job["State"] == "COMPLETED", job.get("StatusMessage")
    write_orders(endpoint, 11)
    restore = backup.start_restore_job(RecoveryPointArn=started["RecoveryPointArn"], IamRoleArn=ROLE,
                                       Metadata={"DBInstanceIdentifier": "orders-from-backup"})
    done = eventually(lambda: (lambda j: j if j["Status"] in ("COMPLETED", "FAILED") else None)(
        backup.describe_restore_job(RestoreJobId=restore["RestoreJobId"])), timeout=60)
    assert done["Status"] == "COMPLETED", done.get("StatusMessage")
    restored = orders_in(endpoint, "orders-from-backup")
    assert 10 in restored and 11 not in restored


def test_archive_round_trip_deep_archive_restore_and_load_into_fresh_postgresql(lab, tmp_path):
    endpoint, lab_client, _ = lab
    s3 = client(endpoint, "s3", PRIMARY)  # automated RDS backups are off (retention 0) while months pass
    write_orders(endpoint, 100, 101)
    client(endpoint, "rds", PRIMARY).create_db_snapshot(DBInstanceIdentifier="orders-primary",
                                                        DBSnapshotIdentifier="to-archive")
    exported = lab_client.export_snapshot(PRIMARY, "orders-primary", ARCHIVE)
    assert exported["snapshot"] == "to-archive" and exported["bytes"] > 0
    key = exported["key"]

    with backup_time_factor(lab_client, 1e-8):  # 180 AWS days = 0.16 lab seconds
        eventually(lambda: s3.head_object(Bucket=ARCHIVE, Key=key).get("StorageClass") == "DEEP_ARCHIVE", timeout=30)
    with pytest.raises(ClientError) as archived:
        s3.get_object(Bucket=ARCHIVE, Key=key)
    assert archived.value.response["Error"]["Code"] == "InvalidObjectState"
    assert archived.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403

    first = s3.restore_object(Bucket=ARCHIVE, Key=key, RestoreRequest={"Days": 30, "GlacierJobParameters": {"Tier": "Bulk"}})
    assert first["ResponseMetadata"]["HTTPStatusCode"] == 202
    with pytest.raises(ClientError) as again:
        s3.restore_object(Bucket=ARCHIVE, Key=key, RestoreRequest={"Days": 2})
    assert again.value.response["Error"]["Code"] == "RestoreAlreadyInProgress"
    assert s3.head_object(Bucket=ARCHIVE, Key=key)["Restore"] == 'ongoing-request="true"'
    with backup_time_factor(lab_client, 1e-6):  # Deep Archive Bulk: 48 AWS hours = 0.17 lab seconds
        body = eventually(lambda: _readable(s3, key), timeout=30)
    assert 'ongoing-request="false"' in s3.head_object(Bucket=ARCHIVE, Key=key)["Restore"]
    dump = tmp_path / "orders.dump"
    dump.write_bytes(body)
    assert {100, 101} <= _rows_after_pg_restore(dump)


def _readable(s3, key: str) -> bytes | None:
    try:
        return s3.get_object(Bucket=ARCHIVE, Key=key)["Body"].read()
    except ClientError as error:
        assert error.response["Error"]["Code"] == "InvalidObjectState"
        return None


def _rows_after_pg_restore(dump: Path) -> set[int]:
    """A fresh PostgreSQL (its own initdb copy), the dump loaded with pg_restore, the canary read back."""
    from chaos.lab.postgres.cluster import TEMPLATES, PgServer, make_owned_dir, require_binaries

    bins = require_binaries()
    home = Path(tempfile.mkdtemp(prefix="archive-restore-"))
    make_owned_dir(home, mode=0o755, within=home)
    sockets = Path(tempfile.mkdtemp(prefix="scpg-"))
    make_owned_dir(sockets, within=sockets)
    server = PgServer(name="fresh", bins=bins, data_dir=home / "data", socket_dir=sockets, log_file=home / "pg.log")
    try:
        server.init_from_template()
        server.configure({})
        server.start()
        server.query("CREATE DATABASE orders")
        dump.chmod(0o644)
        subprocess.run([bins("pg_restore"), "-d", f"host=127.0.0.1 port={server.port} user=postgres dbname=orders "
                        f"passfile={TEMPLATES.passfile()}", "--no-owner", str(dump)],
                       check=True, capture_output=True, timeout=120)
        return {row[0] for row in server.query("SELECT seq FROM canary", dbname="orders")}
    finally:
        server.stop("immediate")
        shutil.rmtree(home, ignore_errors=True)
        shutil.rmtree(sockets, ignore_errors=True)


# ---------------------------------------------------------------- restore jobs take AWS's time (`aws` profile)

PAD_FACTOR = 0.0005  # backup clock: DynamoDB's worst-case restore, 3600 AWS s, lasts 1.8 lab seconds


@pytest.fixture
def aws_profile(lab):
    """The module's lab redeployed under the `aws` timing profile (restore jobs padded; the test
    inventory without RDS: no PostgreSQL to start), its backup clock at PAD_FACTOR; the module's
    `mechanics` deploy comes back afterwards."""
    endpoint, lab_client, _ = lab
    summary = lab_client.deploy(inventory(), time_factor=TEST_TIME_FACTOR, profile="aws")
    lab_client.set_backup_time_factor(PAD_FACTOR)
    try:
        yield endpoint, lab_client, summary
    finally:
        lab_client.deploy(backup_inventory(), time_factor=TEST_TIME_FACTOR)


def _restore_states(endpoint, job_id, table=None):
    """Every DescribeRestoreJob answer until the job ends (bounded); with `table`, also the restored
    table's status whenever the job answered RUNNING."""
    seen, table_states = [], []

    def ended():
        reply = backup(endpoint).describe_restore_job(RestoreJobId=job_id)
        seen.append(reply)
        if table and reply["Status"] == "RUNNING":
            try:
                table_states.append(client(endpoint, "dynamodb", PRIMARY).describe_table(TableName=table)
                                    ["Table"]["TableStatus"])
            except ClientError as error:  # not created yet
                assert error.response["Error"]["Code"] == "ResourceNotFoundException"
        return reply["Status"] in ("COMPLETED", "FAILED", "ABORTED")
    eventually(ended, timeout=60)
    return (seen, table_states) if table else seen


def _completed_event(lab_client, job_id):
    return eventually(lambda: [e["detail"] for e in lab_client.events() if e["kind"] == "restore_job_completed"
                               and e["detail"].get("job_id") == job_id], timeout=15)[0]


def test_each_backup_resource_type_restores_in_its_figures_worst_case_under_aws_only():
    from chaos.lab.timing import lab_timing
    aws = lab_timing("aws", 0.01)
    expected = {"DynamoDB": "restore.dynamodb", "S3": "restore.s3", "RDS": "restore.rds", "EFS": "restore.efs",
                "EBS": "restore.ebs"}
    assert aws.backup_restore_pads() == {kind: FIGURES[key].worst_seconds for kind, key in expected.items()}
    assert aws.pad("backup_restore_s3") == FIGURES["restore.s3"].worst_seconds * 0.01  # lab seconds
    assert lab_timing("mechanics", 0.1).backup_restore_pads() == {}


def test_under_aws_restore_jobs_and_restore_tests_run_for_the_kinds_worst_case_restore_time(aws_profile):
    endpoint, lab_client, summary = aws_profile
    pad = FIGURES["restore.dynamodb"].worst_seconds * PAD_FACTOR
    assert summary["timing"]["pads"]["backup_restore_dynamodb"]["aws_seconds"] == FIGURES["restore.dynamodb"].worst_seconds
    client(endpoint, "dynamodb", PRIMARY).put_item(TableName="catalog", Item={"pk": {"S": "kept"}, "sk": {"S": "1"}})
    started, _ = run_backup(endpoint, TABLE_ARN)
    job_id = backup(endpoint).start_restore_job(RecoveryPointArn=started["RecoveryPointArn"], IamRoleArn=ROLE,
                                                Metadata={"targetTableName": "catalog-padded"})["RestoreJobId"]
    seen, table_states = _restore_states(endpoint, job_id, table="catalog-padded")

    statuses = [reply["Status"] for reply in seen]
    assert "RUNNING" in statuses and statuses[-1] == "COMPLETED", statuses
    assert set(statuses[:-1]) <= {"PENDING", "RUNNING"}
    running = [reply for reply in seen if reply["Status"] == "RUNNING"]
    assert all("CreatedResourceArn" not in r and "CompletionDate" not in r for r in running)
    assert all(0.0 <= float(r["PercentDone"]) < 100.0 for r in running)
    done = seen[-1]
    assert done["PercentDone"] == "100.0" and done["CreatedResourceArn"].endswith(":table/catalog-padded")
    assert (done["CompletionDate"] - done["CreationDate"]).total_seconds() >= pad - 0.002  # ms precision
    event = _completed_event(lab_client, job_id)
    assert event["padded"] is True and event["padded_to_seconds"] == pytest.approx(pad, abs=0.01)
    # While the job ran, the new table was CREATING (as AWS's is); once done, ACTIVE with the data.
    assert "CREATING" in table_states, table_states
    ddb = client(endpoint, "dynamodb", PRIMARY)
    assert ddb.describe_table(TableName="catalog-padded")["Table"]["TableStatus"] == "ACTIVE"
    assert {"kept"} <= {item["pk"]["S"] for item in ddb.scan(TableName="catalog-padded")["Items"]}

    # Restore testing restores the same way: its recorded restore time includes the padding.
    tested = [j for j in lab_client.run_restore_tests() if j["region"] == PRIMARY and backup(endpoint)
              .describe_restore_job(RestoreJobId=j["restore_job_id"])["SourceResourceArn"] == TABLE_ARN]
    test_job = tested[0]["restore_job_id"]
    early = backup(endpoint).describe_restore_job(RestoreJobId=test_job)
    assert early["Status"] in ("PENDING", "RUNNING") and "ValidationStatus" not in early
    # No verdict comes: after the restore and a validation window of one AWS hour, TIMED_OUT, then deleted.
    result = eventually(lambda: [r for r in lab_client.restore_test_results() if r["restore_job_id"] == test_job],
                        timeout=60)[0]
    assert result["restore_seconds"] >= pad - 0.002
    assert result["validation"] == "TIMED_OUT" and result["deletion"] == "SUCCESSFUL"


def test_under_mechanics_a_restore_job_is_not_padded(lab):
    endpoint, lab_client, summary = lab
    assert summary["timing"]["profile"] == "mechanics" and not summary["timing"]["pads"]
    started, _ = run_backup(endpoint, TABLE_ARN)
    job_id = backup(endpoint).start_restore_job(RecoveryPointArn=started["RecoveryPointArn"], IamRoleArn=ROLE,
                                                Metadata={"targetTableName": "catalog-unpadded"})["RestoreJobId"]
    done = _restore_states(endpoint, job_id)[-1]
    assert done["Status"] == "COMPLETED"
    # What `aws` would hold it for at this factor: 72 lab seconds; mechanics does not wait for it.
    assert (done["CompletionDate"] - done["CreationDate"]).total_seconds() \
        < FIGURES["restore.dynamodb"].worst_seconds * TEST_TIME_FACTOR
    assert "padded" not in _completed_event(lab_client, job_id)
