"""Shared by the lab tests: a hand-written inventory (docs/inventory.md) and boto3 clients on the lab.

The inventory follows the contract so the tests do not depend on infra/ being evaluable; it
declares two regions, a global table with PITR, a replicated bucket, failover DNS with health
checks, an EFS file system with a replica and an EC2 fleet with a DLM policy (both partly not
emulated), and no RDS (the PostgreSQL data plane has its own tests).
"""
from __future__ import annotations

import copy
import functools
from contextlib import contextmanager
from typing import Any, Callable, Iterator

import boto3
from botocore.config import Config
from tenacity import retry, retry_if_exception_type, stop_after_delay, wait_fixed

PRIMARY, DR = "us-east-1", "us-west-2"

_INVENTORY: dict[str, Any] = {
    "schema_version": 2, "project": "securecart-dr", "stack": "labtest",
    "primary_region": PRIMARY, "dr_region": DR, "chaos_enabled": True, "tags": {},
    "hosted_zone": {"id": "Z-FROM-PULUMI", "name": "securecart.example.com"},
    "private_zone": None,
    # The application's record: one answer per region, each guarded by its endpoint's check.
    "application": {
        "record_name": "www.securecart.example.com", "record_type": "CNAME",
        "routing": "failover",
        "records": [
            {"set_identifier": "application-primary", "region": PRIMARY, "failover": "PRIMARY",
             "weight": None, "value": "shop.us-east-1.example.com", "alias_zone_id": None,
             "health_check_id": "hc-primary"},
            {"set_identifier": "application-dr", "region": DR, "failover": "SECONDARY",
             "weight": None, "value": "shop.us-west-2.example.com", "alias_zone_id": None,
             "health_check_id": "hc-dr"}],
        "health_checks": [
            {"id": "hc-primary", "region": PRIMARY, "type": "HTTPS", "fqdn": "a", "port": 443,
             "path": "/health", "interval_seconds": 10, "failure_threshold": 3},
            {"id": "hc-dr", "region": DR, "type": "HTTPS", "fqdn": "b", "port": 443,
             "path": "/health", "interval_seconds": 10, "failure_threshold": 3}]},
    "backup": {"vaults": {PRIMARY: {"name": "vault-primary", "arn": "arn:aws:backup:us-east-1:123456789012:backup-vault:vault-primary", "lock_mode": None},
                          DR: {"name": "vault-dr", "arn": "arn:aws:backup:us-west-2:123456789012:backup-vault:vault-dr", "lock_mode": None}},
               "plans": [{"name": "daily", "id": "plan-1", "arn": "arn:aws:backup:us-east-1:123456789012:backup-plan:plan-1"}], "report_bucket": None},
    "fis": None,
    "workloads": {
        "catalog": {
            "kind": "dynamodb", "strategy": "active-active",
            "targets": {"rto_seconds": 60, "rpo_seconds": 1},
            "primary_region": PRIMARY, "dr_region": DR,
            "stores": {"table": {"name": "catalog", "arn": "arn:aws:dynamodb:us-east-1:123456789012:table/catalog", "stream_arn": "arn:aws:dynamodb:us-east-1:123456789012:table/catalog/stream/2026-01-01T00:00:00.000",
                                 "region": PRIMARY, "hash_key": "pk", "range_key": "sk", "pitr": True,
                                 "pitr_recovery_period_days": 35, "deletion_protection": False},
                       "replicas": [{"region": DR, "kms_key_arn": None}]},
            "failover": {"switch": "application-config",
                         "endpoints": {PRIMARY: "catalog", DR: "catalog"}, "private_record": None},
            "backup": {"tier": "gold", "plan_name": "daily", "continuous": True}, "fis_templates": {}},
        "images": {
            "kind": "s3", "strategy": "warm-standby",
            "targets": {"rto_seconds": 300, "rpo_seconds": 900},
            "primary_region": PRIMARY, "dr_region": DR,
            "stores": {"bucket": {"name": "images-primary", "arn": "arn:aws:s3:::images-primary", "region": PRIMARY, "versioning": True},
                       "replicas": [{"name": "images-dr", "arn": "arn:aws:s3:::images-dr", "region": DR,
                                     "replication_time_control": True, "delete_marker_replication": True}]},
            "failover": None, "backup": {"tier": "silver", "plan_name": "daily", "continuous": False},
            "fis_templates": {}},
        "applogs": {
            "kind": "efs", "strategy": "backup-restore",
            "targets": {"rto_seconds": 3600, "rpo_seconds": 3600},
            "primary_region": PRIMARY, "dr_region": DR,
            "stores": {"file_system": {"id": "fs-pulumi", "arn": "arn:aws:elasticfilesystem:us-east-1:123456789012:file-system/fs-pulumi", "region": PRIMARY},
                       "replicas": [{"region": DR, "file_system_id": "fs-dr"}]},
            "failover": None, "backup": {"tier": "bronze", "plan_name": "daily", "continuous": False},
            "fis_templates": {}},
        "web": {
            "kind": "ec2", "strategy": "pilot-light",
            "targets": {"rto_seconds": 900, "rpo_seconds": 3600},
            "primary_region": PRIMARY, "dr_region": DR,
            "stores": {"instances": [{"id": "i-pulumi", "region": PRIMARY,
                                      "availability_zone": "us-east-1a", "role": "web"}],
                       "dlm_policy_id": "policy-1", "dr_capacity": 0},
            "failover": None, "backup": {"tier": "bronze", "plan_name": "daily", "continuous": False},
            "fis_templates": {}},
    },
}


def inventory() -> dict[str, Any]:
    return copy.deepcopy(_INVENTORY)


def rds_workload(*, multi_az: bool) -> dict[str, Any]:
    """An RDS workload entry by the contract: `orders-primary` in us-east-1a, one DR replica
    `orders-replica-us-west-2` (the lab runs real PostgreSQL for it)."""
    return {
        "kind": "rds", "strategy": "warm-standby", "targets": {"rto_seconds": 60, "rpo_seconds": 5},
        "primary_region": PRIMARY, "dr_region": DR,
        "stores": {
            "primary": {"identifier": "orders-primary", "arn": "arn:aws:rds:us-east-1:1:db:orders-primary",
                        "region": PRIMARY, "address": "orders.example", "port": 5432, "engine": "postgres",
                        "engine_version": "15", "db_name": "orders", "master_username": "securecart",
                        "master_secret_arn": None, "multi_az": multi_az, "availability_zone": "us-east-1a",
                        "backup_retention_days": 35, "instance_class": "db.r6g.large"},
            "replicas": [{"identifier": "orders-replica-us-west-2",
                          "arn": "arn:aws:rds:us-west-2:1:db:orders-replica-us-west-2", "region": DR,
                          "address": "replica.example", "port": 5432, "role": "cross-region-read-replica",
                          "instance_class": "db.t4g.medium"}],
            "archive_bucket": None},
        "failover": None, "backup": {"tier": "gold", "plan_name": "daily", "continuous": True},
        "fis_templates": {}}


ARCHIVE_BUCKET = "orders-archive"
BACKUP_ROLE = "arn:aws:iam::123456789012:role/lab-backup"


def backup_inventory() -> dict[str, Any]:
    """The test inventory plus what the backup lab runs: a daily rule (DynamoDB, S3) copying to the DR
    vault, and an RDS workload with an archive bucket whose lifecycle reaches Deep Archive. Automated
    RDS backups start off (retention 0): the test that needs them turns them on."""
    inv = inventory()
    inv["backup"]["plans"] = [{
        "name": "daily", "id": "plan-1", "arn": "arn:aws:backup:us-east-1:123456789012:backup-plan:plan-1",
        "resource_types": ["DynamoDB", "S3"],
        "rules": [{"name": "daily", "schedule": "cron(0 5 * * ? *)", "vault_name": "vault-primary",
                   "vault_region": PRIMARY, "start_window_minutes": 60,
                   "lifecycle": {"cold_storage_after_days": None, "delete_after_days": 35},
                   "copy_actions": [{"region": DR, "vault_name": "vault-dr",
                                     "lifecycle": {"cold_storage_after_days": None, "delete_after_days": 90}}]}]}]
    inv["workloads"]["orders"] = {
        "kind": "rds", "strategy": "backup-restore", "targets": {"rto_seconds": 3600, "rpo_seconds": 3600},
        "primary_region": PRIMARY, "dr_region": DR,
        "stores": {
            "primary": {"identifier": "orders-primary", "arn": "arn:aws:rds:us-east-1:1:db:orders-primary",
                        "region": PRIMARY, "address": "orders.example", "port": 5432, "engine": "postgres",
                        "engine_version": "15", "db_name": "orders", "master_username": "securecart",
                        "master_secret_arn": None, "multi_az": False, "availability_zone": "us-east-1a",
                        "backup_retention_days": 0, "instance_class": "db.t4g.medium"},
            "replicas": [],
            "archive_bucket": {"name": ARCHIVE_BUCKET, "arn": f"arn:aws:s3:::{ARCHIVE_BUCKET}", "region": PRIMARY,
                               "lifecycle": [{"id": "tiering-and-expiry", "prefix": "",
                                              "transitions": [{"days": 30, "storage_class": "STANDARD_IA"},
                                                              {"days": 90, "storage_class": "GLACIER"},
                                                              {"days": 180, "storage_class": "DEEP_ARCHIVE"}],
                                              "expiration_days": 3650}]}},
        "failover": None, "backup": {"tier": "gold", "plan_name": "daily", "continuous": False},
        "fis_templates": {}}
    return inv


# The AWS keys of each lab a test started (chaos.lab.auth): the lab refuses any other signature.
LAB_KEYS: dict[str, dict[str, str]] = {}


@functools.lru_cache(maxsize=None)
def client(endpoint: str, service: str, region: str = PRIMARY, retries: int = 1) -> Any:
    """Cached: building a botocore client costs ~0.1 s, and polling loops ask for one each time."""
    session = boto3.Session(region_name=region, **LAB_KEYS[endpoint])
    return session.client(service, endpoint_url=endpoint,
                          config=Config(retries={"max_attempts": retries, "mode": "standard"}))


TEST_TIME_FACTOR = 0.02  # health checks every 10 s x 0.02 = 0.2 s: a 3-failure detection in ~0.6 s


@contextmanager
def deployed_lab(time_factor: float = TEST_TIME_FACTOR, lag: float | None = None,
                 declared: dict | None = None) -> Iterator[tuple[Any, Any, dict]]:
    """A LabServer on 127.0.0.1 with an inventory (default: the test one) deployed;
    yields (server, LabClient, summary)."""
    from chaos.lab.process import LabClient
    from chaos.lab.server import LabServer

    with LabServer(time_factor=time_factor) as server:
        LAB_KEYS[server.endpoint] = server.lab.credentials.boto3
        lab = LabClient(server.endpoint, token=server.lab.credentials.token)
        summary = lab.deploy(declared or inventory(), replication_lag_seconds=lag, time_factor=time_factor)
        yield server, lab, summary


@contextmanager
def backup_time_factor(lab: Any, factor: float, restore_to: float = TEST_TIME_FACTOR) -> Iterator[None]:
    """Run the backup lab's AWS clock at `factor` (lab seconds per AWS second) inside the block."""
    lab.set_backup_time_factor(factor)
    try:
        yield
    finally:
        lab.set_backup_time_factor(restore_to)


def eventually(check: Callable[[], Any], timeout: float = 15.0) -> Any:
    """Poll `check` until it returns a truthy value (bounded); its last AssertionError otherwise."""
    @retry(stop=stop_after_delay(timeout), wait=wait_fixed(0.05), reraise=True,
           retry=retry_if_exception_type(AssertionError))
    def attempt() -> Any:
        result = check()
        assert result, f"{getattr(check, '__name__', 'check')} still false"
        return result

    return attempt()
