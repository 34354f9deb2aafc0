"""The lab as a root-run local service (issue 11): what another local user, or a hostile request,
can no longer do. One lab with an RDS workload (real PostgreSQL) serves every test here."""
from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path

import psycopg
import pytest

from chaos.errors import ChaosError
from chaos.lab.postgres.cluster import find_binaries, make_owned_dir
from tests.lab._lab_fixtures import DR, PRIMARY, client, deployed_lab, inventory, rds_workload

pytestmark = pytest.mark.skipif(find_binaries() is None, reason="PostgreSQL server binaries not found")
AS_ROOT = os.geteuid() == 0


def with_rds() -> dict:
    """The lab test inventory plus one RDS workload (real PostgreSQL: primary, DR replica)."""
    inv = inventory()
    inv["workloads"]["orders"] = rds_workload(multi_az=False)
    return inv


@pytest.fixture(scope="module")
def lab_with_rds():
    with deployed_lab(declared=with_rds()) as (server, lab, summary):
        yield server, lab, summary


def master_credentials(endpoint: str, summary: dict) -> tuple[str, int, dict]:
    """What a canary does: the instance endpoint from RDS, the password from the inventory's secret."""
    primary = summary["inventory"]["workloads"]["orders"]["stores"]["primary"]
    secret = client(endpoint, "secretsmanager", PRIMARY).get_secret_value(SecretId=primary["master_secret_arn"])
    described = client(endpoint, "rds", PRIMARY).describe_db_instances(
        DBInstanceIdentifier="orders-primary")["DBInstances"][0]["Endpoint"]
    return described["Address"], int(described["Port"]), json.loads(secret["SecretString"])


def master_connection(endpoint: str, summary: dict) -> psycopg.Connection:
    host, port, secret = master_credentials(endpoint, summary)
    return psycopg.connect(host=host, port=port, dbname="orders", user=secret["username"],
                           password=secret["password"], autocommit=True, connect_timeout=2)


def test_canary_reads_the_master_password_from_the_inventorys_secret(lab_with_rds):
    server, _, summary = lab_with_rds
    with master_connection(server.endpoint, summary) as conn:
        assert conn.execute("SELECT current_user").fetchone() == ("securecart",)
    _, _, secret = master_credentials(server.endpoint, summary)
    assert secret["username"] == "securecart" and len(secret["password"]) >= 24


@pytest.mark.skipif(not AS_ROOT, reason="switching to another OS user needs root")
def test_another_os_user_cannot_connect_to_the_labs_postgresql(lab_with_rds):
    """`nobody` used to connect as superuser `postgres` (trust on 127.0.0.1) and run programs."""
    server, _, summary = lab_with_rds
    host, port, _ = master_credentials(server.endpoint, summary)
    instance_ports = {row["port"] for row in summary["postgres"]} | {port}
    for target_port in sorted(instance_ports):
        for user in ("postgres", "securecart"):
            attempt = subprocess.run(
                ["runuser", "-u", "nobody", "--", shutil.which("psql") or "psql", "-w", "-X",
                 f"host={host} port={target_port} user={user} dbname=postgres connect_timeout=3",
                 "-c", "COPY (SELECT 1) TO PROGRAM 'id'"],
                capture_output=True, text=True, timeout=30, env={"PATH": os.environ["PATH"]}, cwd="/")
            assert attempt.returncode != 0, (target_port, user, attempt.stdout)
            assert "password" in attempt.stderr, (target_port, user, attempt.stderr)


def test_pg_hba_has_no_trust_line(lab_with_rds):
    from chaos.lab.postgres.cluster import PG_HBA
    rules = [line.split() for line in PG_HBA.splitlines() if line.strip() and not line.startswith("#")]
    assert rules and all(rule[-1] == "scram-sha-256" for rule in rules), PG_HBA


def test_traversal_in_a_workload_name_is_refused_and_touches_nothing(lab_with_rds, tmp_path):
    """A workload named `../../../tmp/x/victim-dir` answered 200 and chowned a root-owned dir."""
    server, lab, summary = lab_with_rds
    victim = Path(tempfile.mkdtemp(prefix="victim-"))
    try:
        victim.chmod(0o700)
        before = victim.stat()
        for name in ("../../../" + str(victim).lstrip("/"), "orders/../../x", "Orders", "a" * 64):
            hostile = with_rds()
            hostile["workloads"][name] = hostile["workloads"].pop("orders")
            with pytest.raises(ChaosError, match=r"inventory\.workloads"):
                lab.deploy(hostile)
        for field, value in (("identifier", "../../" + victim.name), ("availability_zone", "../../x")):
            hostile = with_rds()
            hostile["workloads"]["orders"]["stores"]["primary"][field] = value
            with pytest.raises(ChaosError, match=rf"stores\.primary\.{field}"):
                lab.deploy(hostile)
        after = victim.stat()
        assert (after.st_uid, after.st_gid, stat.S_IMODE(after.st_mode)) == \
            (before.st_uid, before.st_gid, 0o700)
        assert list(victim.iterdir()) == []
    finally:
        shutil.rmtree(victim, ignore_errors=True)


def test_make_owned_dir_refuses_paths_outside_its_root(tmp_path):
    root = tmp_path / "lab"
    root.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir(mode=0o700)
    (root / "link").symlink_to(outside)
    for path in (root / ".." / "outside" / "x", root / "link" / "x", Path("/tmp")):
        with pytest.raises(ChaosError, match="outside the lab directory"):
            make_owned_dir(path, within=root)
    assert list(outside.iterdir()) == [] and stat.S_IMODE(outside.stat().st_mode) == 0o700
    assert make_owned_dir(root / "ok" / "nested", within=root).is_dir()
    # The backup lab checks the paths it builds from request fields (vault names, snapshot ids) alike.
    from chaos.lab.postgres.cluster import inside
    with pytest.raises(ChaosError, match="outside the lab directory"):
        inside(root / "us-east-1" / ".." / ".." / "outside", root)
    assert inside(root / "us-east-1" / "snap", root) == (root / "us-east-1" / "snap").resolve()


def test_a_refused_deploy_leaves_the_running_lab_as_it_was(lab_with_rds):
    """A 400 deploy used to tear the lab down first: its PostgreSQL servers stopped listening."""
    server, lab, summary = lab_with_rds
    with master_connection(server.endpoint, summary) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS kept (v int)")
        conn.execute("INSERT INTO kept VALUES (1)")
    lab.add_faults([{"service": "sqs", "region": DR}])
    try:
        broken = with_rds()
        broken["workloads"]["orders"]["stores"]["primary"]["identifier"] = "../escape"
        wrong_zone = with_rds()
        wrong_zone["workloads"]["orders"]["stores"]["primary"]["availability_zone"] = "us-west-2a"
        twice = with_rds()
        twice["workloads"]["orders"]["stores"]["replicas"][0]["identifier"] = "orders-primary"
        no_zone = with_rds()
        no_zone["hosted_zone"] = None  # the application record needs it
        for bad in (broken, wrong_zone, twice, no_zone, {"workloads": []}, "not an object"):
            with pytest.raises(ChaosError):
                lab.deploy(bad)
        with pytest.raises(ChaosError, match="replication_lag_seconds"):
            lab.deploy(with_rds(), replication_lag_seconds=1e9)
        with master_connection(server.endpoint, summary) as conn:  # still listening, data kept
            assert conn.execute("SELECT v FROM kept").fetchall() == [(1,)]
        assert [rule["service"] for rule in lab.faults()] == ["sqs"]
        assert client(server.endpoint, "dynamodb", PRIMARY).describe_table(TableName="catalog")
    finally:
        lab.clear_faults()


def test_replication_control_refuses_bad_values_with_one_line(lab_with_rds):
    _, lab, _ = lab_with_rds
    for body, field in (({"workload": ["orders"]}, "workload"), ({"lag_seconds": -1}, "lag_seconds"),
                        ({"lag_seconds": 1e9}, "lag_seconds"), ({"lag_seconds": "NaN"}, "lag_seconds")):
        with pytest.raises(ChaosError, match=field):
            lab.set_replication(**body)

