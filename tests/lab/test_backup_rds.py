"""Hands-on labs 1 and 3 through boto3 over HTTP: RDS snapshots with real PostgreSQL data (manual,
automated with retention, restored), AWS Backup of RDS, and the archive round trip: export the
latest snapshot, let the bucket's lifecycle take it to Deep Archive, restore it, load it into a
fresh PostgreSQL and find the canary's rows."""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from botocore.exceptions import ClientError

from tests.lab._lab_fixtures import DR, PRIMARY, client, deployed_lab, eventually, inventory

pytestmark = pytest.mark.skipif(
    not Path("/usr/lib/postgresql/15/bin/postgres").exists() and shutil.which("postgres") is None,
    reason="PostgreSQL server binaries not installed")

DEPLOY_FACTOR = 0.02
ROLE = "arn:aws:iam::123456789012:role/lab-backup"
ARCHIVE = "orders-archive"


def rds_inventory() -> dict:
    inv = inventory()
    inv["workloads"] = {"orders": {
        "kind": "rds", "strategy": "backup-restore", "targets": {"rto_seconds": 3600, "rpo_seconds": 3600},
        "primary_region": PRIMARY, "dr_region": DR,
        "stores": {
            "primary": {"identifier": "orders-primary", "arn": "arn:aws:rds:us-east-1:1:db:orders-primary",
                        "region": PRIMARY, "address": "orders.example", "port": 5432, "engine": "postgres",
                        "engine_version": "15", "db_name": "orders", "master_username": "securecart",
                        "master_secret_arn": None, "multi_az": False, "availability_zone": "us-east-1a",
                        "backup_retention_days": 1, "instance_class": "db.t4g.medium"},
            "replicas": [],
            "archive_bucket": {"name": ARCHIVE, "arn": "arn:aws:s3:::orders-archive", "region": PRIMARY,
                               "lifecycle": [{"id": "tiering-and-expiry", "prefix": "",
                                              "transitions": [{"days": 30, "storage_class": "STANDARD_IA"},
                                                              {"days": 90, "storage_class": "GLACIER"},
                                                              {"days": 180, "storage_class": "DEEP_ARCHIVE"}],
                                              "expiration_days": 3650}]}},
        "failover": None, "backup": {"tier": "gold", "plan_name": "daily", "continuous": False},
        "fis_templates": {}}}
    return inv


@pytest.fixture(scope="module")
def rds_lab():
    with deployed_lab(time_factor=DEPLOY_FACTOR, declared=rds_inventory()) as (server, lab, summary):
        yield server.endpoint, lab, summary


@contextmanager
def backup_factor(lab, factor: float):
    lab.set_backup_time_factor(factor)
    try:
        yield
    finally:
        lab.set_backup_time_factor(DEPLOY_FACTOR)


def connect(endpoint: str, identifier: str, region: str = PRIMARY) -> psycopg.Connection:
    described = client(endpoint, "rds", region).describe_db_instances(DBInstanceIdentifier=identifier)
    address = described["DBInstances"][0]["Endpoint"]
    return psycopg.connect(host=address["Address"], port=address["Port"], dbname="orders", user="postgres",
                           autocommit=True, connect_timeout=5)


def write_orders(endpoint: str, *ids: int) -> None:
    with connect(endpoint, "orders-primary") as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS canary (seq int PRIMARY KEY)")
        for seq in ids:
            conn.execute("INSERT INTO canary VALUES (%s)", (seq,))


def orders_in(endpoint: str, identifier: str, region: str = PRIMARY) -> set[int]:
    with connect(endpoint, identifier, region) as conn:
        return {row[0] for row in conn.execute("SELECT seq FROM canary")}


def test_manual_snapshot_restores_the_data_as_of_the_snapshot_and_can_be_deleted(rds_lab):
    endpoint, _, _ = rds_lab
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


def test_automated_snapshots_follow_the_backup_window_and_expire_after_the_retention(rds_lab):
    endpoint, lab, _ = rds_lab
    rds = client(endpoint, "rds", PRIMARY)

    def automated() -> list[str]:
        return [s["DBSnapshotIdentifier"] for s in rds.describe_db_snapshots(
            DBInstanceIdentifier="orders-primary", SnapshotType="automated")["DBSnapshots"]]

    with backup_factor(lab, 2e-5):  # one AWS day = 1.7 lab seconds; retention is 1 day
        first = eventually(automated, timeout=30)[0]
        assert first.startswith("rds:orders-primary-")
        eventually(lambda: first not in automated(), timeout=30)
    kinds = [e["kind"] for e in lab.events()]
    assert "rds_automated_snapshot_expired" in kinds


def test_aws_backup_of_rds_restores_a_new_instance_from_the_postgresql_snapshot(rds_lab):
    endpoint, _, _ = rds_lab
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


def test_archive_round_trip_deep_archive_restore_and_load_into_fresh_postgresql(rds_lab, tmp_path):
    endpoint, lab, _ = rds_lab
    s3 = client(endpoint, "s3", PRIMARY)
    # No automated snapshots while AWS months pass in seconds (BackupRetentionPeriod 0 turns them off).
    client(endpoint, "rds", PRIMARY).modify_db_instance(DBInstanceIdentifier="orders-primary",
                                                        BackupRetentionPeriod=0, ApplyImmediately=True)
    write_orders(endpoint, 100, 101)
    client(endpoint, "rds", PRIMARY).create_db_snapshot(DBInstanceIdentifier="orders-primary",
                                                        DBSnapshotIdentifier="to-archive")
    exported = lab.export_snapshot(PRIMARY, "orders-primary", ARCHIVE)
    assert exported["snapshot"] == "to-archive" and exported["bytes"] > 0
    key = exported["key"]

    with backup_factor(lab, 1e-8):  # 180 AWS days = 0.16 lab seconds
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
    with backup_factor(lab, 1e-6):  # Deep Archive Bulk: 48 AWS hours = 0.17 lab seconds
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
    from chaos.lab.postgres.cluster import PgServer, make_owned_dir, require_binaries

    bins = require_binaries()
    home = make_owned_dir(Path(tempfile.mkdtemp(prefix="archive-restore-")), mode=0o755)
    sockets = make_owned_dir(Path(tempfile.mkdtemp(prefix="scpg-")))
    server = PgServer(name="fresh", bins=bins, data_dir=home / "data", socket_dir=sockets, log_file=home / "pg.log")
    try:
        server.init_from_template()
        server.configure({})
        server.start()
        server.query("CREATE DATABASE orders")
        dump.chmod(0o644)
        subprocess.run([bins("pg_restore"), "-h", "127.0.0.1", "-p", str(server.port), "-U", "postgres",
                        "-d", "orders", "--no-owner", str(dump)], check=True, capture_output=True, timeout=120)
        return {row[0] for row in server.query("SELECT seq FROM canary", dbname="orders")}
    finally:
        server.stop("immediate")
        shutil.rmtree(home, ignore_errors=True)
        shutil.rmtree(sockets, ignore_errors=True)
