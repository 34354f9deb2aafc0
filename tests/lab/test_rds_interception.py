"""RDS calls through the lab reach the real PostgreSQL data plane, and endpoints point at it."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import psycopg
import pytest

from tests.lab._lab_fixtures import DR, PRIMARY, client, deployed_lab, eventually, inventory, rds_workload

pytestmark = pytest.mark.skipif(
    not Path("/usr/lib/postgresql/15/bin/postgres").exists() and shutil.which("postgres") is None,
    reason="PostgreSQL server binaries not installed")


def rds_inventory() -> dict:
    inv = inventory()
    inv["workloads"] = {"orders": rds_workload(multi_az=True)}
    return inv


@pytest.fixture(scope="module")
def rds_lab():
    with deployed_lab(declared=rds_inventory()) as (server, lab, summary):
        yield server.endpoint, lab, summary


def master_password(endpoint: str, summary: dict) -> str:
    """From the secret the deployed inventory names, as a canary reads it."""
    arn = summary["inventory"]["workloads"]["orders"]["stores"]["primary"]["master_secret_arn"]
    secret = client(endpoint, "secretsmanager", PRIMARY).get_secret_value(SecretId=arn)
    return json.loads(secret["SecretString"])["password"]


def endpoint_of(endpoint: str, region: str, identifier: str) -> dict:
    instances = client(endpoint, "rds", region).describe_db_instances(DBInstanceIdentifier=identifier)
    return instances["DBInstances"][0]["Endpoint"]


def test_describe_points_at_the_live_postgresql_processes(rds_lab):
    endpoint, lab, summary = rds_lab
    ports = {(row["identifier"], row["role"]): row["port"] for row in summary["postgres"]}
    primary = endpoint_of(endpoint, PRIMARY, "orders-primary")
    replica = endpoint_of(endpoint, DR, "orders-replica-us-west-2")

    assert primary == {"Address": "127.0.0.1", "Port": ports[("orders-primary", "primary")]}
    assert replica["Port"] == ports[("orders-replica-us-west-2", "replica")]
    with psycopg.connect(host=primary["Address"], port=primary["Port"], dbname="orders",
                         user="securecart", password=master_password(endpoint, summary),
                         connect_timeout=5) as conn:
        assert conn.execute("select 1").fetchone() == (1,)


def test_forced_failover_reboot_reaches_the_data_plane(rds_lab):
    endpoint, lab, summary = rds_lab
    client(endpoint, "rds", PRIMARY).reboot_db_instance(DBInstanceIdentifier="orders-primary", ForceFailover=True)
    eventually(lambda: any(e["kind"] == "rds_failover" for e in lab.events()), timeout=60)
    primary = endpoint_of(endpoint, PRIMARY, "orders-primary")
    with psycopg.connect(host=primary["Address"], port=primary["Port"], dbname="orders",
                         user="securecart", password=master_password(endpoint, summary),
                         connect_timeout=5) as conn:
        assert conn.execute("select pg_is_in_recovery()").fetchone() == (False,)
