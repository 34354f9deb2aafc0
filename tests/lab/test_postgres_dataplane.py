"""The PostgreSQL data plane on real PostgreSQL processes: failover, promotion, point-in-time restore.

Each test deploys a workload, writes through the instance endpoint with psycopg (a commit is an
acknowledgement), applies a fault or control-plane call, and audits which acknowledged rows survived.
"""
from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
from tenacity import retry, retry_if_result, stop_after_delay, wait_fixed

from chaos.errors import ChaosError
from chaos.lab.postgres.cluster import find_binaries

if find_binaries() is None and os.environ.get("CI"):
    pytest.fail("PostgreSQL server binaries are missing in CI; .ci/run must install postgresql-15",
                pytrace=False)
pytestmark = pytest.mark.skipif(
    find_binaries() is None,
    reason="PostgreSQL server binaries not found (pg_config --bindir); install postgresql-15 to run these",
)

PRIMARY = "orders-primary"
REPLICA = "orders-replica-us-west-2"
WRITE_INTERVAL = 0.01  # 100 writes/s


def rds_workload(*, multi_az: bool, replicas: bool) -> dict:
    """An inventory workload entry shaped like docs/inventory.md (only what the data plane reads)."""
    return {
        "kind": "rds", "strategy": "warm-standby", "primary_region": "us-east-1", "dr_region": "us-west-2",
        "stores": {
            "primary": {"identifier": PRIMARY, "region": "us-east-1", "port": 5432, "engine": "postgres",
                        "db_name": "orders", "master_username": "securecart", "multi_az": multi_az,
                        "availability_zone": "us-east-1a"},
            "replicas": [{"identifier": REPLICA, "region": "us-west-2", "port": 5432,
                          "role": "cross-region-read-replica"}] if replicas else [],
        },
    }


def connect(dataplane, identifier: str) -> psycopg.Connection:
    host, port = dataplane.endpoint(identifier)
    return psycopg.connect(host=host, port=port, dbname="orders", user="securecart",
                           password=dataplane.master_password, autocommit=True, connect_timeout=2)


def wait_for(predicate, seconds: float = 30.0, message: str = "condition"):
    @retry(stop=stop_after_delay(seconds), wait=wait_fixed(0.05), retry=retry_if_result(lambda ok: not ok),
           retry_error_callback=lambda _: False)
    def check() -> bool:
        try:
            return bool(predicate())
        except (psycopg.Error, OSError):
            return False

    assert check(), f"timed out after {seconds} s waiting for {message}"


def present_seqs(dataplane, identifier: str) -> set[int]:
    with connect(dataplane, identifier) as conn:
        return {row[0] for row in conn.execute("SELECT seq FROM canary").fetchall()}


@dataclass
class Canary:
    """Writes sequence-numbered rows through the endpoint; an ack is a returned commit."""

    dataplane: object
    identifier: str = PRIMARY
    acks: dict[int, float] = field(default_factory=dict)  # seq -> ack time
    failures: int = 0

    def __post_init__(self) -> None:
        with connect(self.dataplane, self.identifier) as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS canary (seq int PRIMARY KEY, sent_at float8)")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Canary:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        seq, conn = 0, None
        while not self._stop.is_set():
            started = time.time()
            try:
                conn = conn or connect(self.dataplane, self.identifier)
                conn.execute("INSERT INTO canary VALUES (%s, %s)", (seq, started))
                self.acks[seq] = time.time()
                seq += 1
            except (psycopg.Error, OSError):
                self.failures += 1
                if conn is not None:
                    conn.close()
                conn = None
                seq += 1  # an unacknowledged write keeps its number: it may or may not have landed
            self._stop.wait(max(0.0, WRITE_INTERVAL - (time.time() - started)))
        if conn is not None:
            conn.close()


@pytest.fixture
def dataplane():
    from chaos.lab.postgres.dataplane import PostgresDataPlane

    plane = PostgresDataPlane(failover_detection_seconds=0.2)
    try:
        yield plane
    finally:
        plane.close()


def event_kinds(dataplane) -> list[str]:
    return [event["kind"] for event in dataplane.events()]


def test_zone_outage_fails_over_to_the_sync_standby_without_losing_a_commit(dataplane):
    dataplane.deploy_workload("orders", rds_workload(multi_az=True, replicas=False), lag_seconds=None)
    with Canary(dataplane) as canary:
        wait_for(lambda: len(canary.acks) >= 50, message="50 acknowledged writes")
        dataplane.on_zone_outage("us-east-1a", True)
        wait_for(lambda: "rds_failover" in event_kinds(dataplane), message="the automatic failover")
        acked_before = len(canary.acks)
        wait_for(lambda: len(canary.acks) >= acked_before + 20, message="writes on the new primary")
    assert canary.failures > 0, "the outage never interrupted the writer: the fault did not bite"
    missing = set(canary.acks) - present_seqs(dataplane, PRIMARY)
    assert missing == set(), f"acknowledged commits lost by a synchronous Multi-AZ failover: {sorted(missing)}"
    summary = {row["role"]: row for row in dataplane.servers("orders")}
    assert summary["primary"]["zone"] == "us-east-1b"
    dataplane.on_zone_outage("us-east-1a", False)
    wait_for(lambda: "rds_standby_replaced" in event_kinds(dataplane), message="a new standby in us-east-1a")


def test_losing_the_standby_zone_keeps_the_primary_writable(dataplane):
    dataplane.deploy_workload("orders", rds_workload(multi_az=True, replicas=False))
    with Canary(dataplane) as canary:
        wait_for(lambda: len(canary.acks) >= 20, message="20 acknowledged writes")
        dataplane.on_zone_outage("us-east-1b", True)  # the standby's AZ
        acked_before = len(canary.acks)
        wait_for(lambda: len(canary.acks) >= acked_before + 50, message="commits without the synchronous standby")
        assert [row["role"] for row in dataplane.servers("orders")] == ["primary"]
        dataplane.on_zone_outage("us-east-1b", False)
        wait_for(lambda: "rds_standby_replaced" in event_kinds(dataplane), message="a new standby in us-east-1b")
        acked_before = len(canary.acks)
        wait_for(lambda: len(canary.acks) >= acked_before + 20, message="commits with the new standby")
    assert set(canary.acks) - present_seqs(dataplane, PRIMARY) == set()


def test_instance_crash_then_reboot_with_failover_keeps_every_commit(dataplane):
    dataplane.deploy_workload("orders", rds_workload(multi_az=True, replicas=False))
    with Canary(dataplane) as canary:
        wait_for(lambda: len(canary.acks) >= 50, message="50 acknowledged writes")
        dataplane.on_resource_fault(f"arn:aws:rds:us-east-1:123456789012:db:{PRIMARY}", True)
        wait_for(lambda: canary.failures > 0, message="the crash to fail a write")
        assert "rds_failover" not in event_kinds(dataplane), "an instance crash must wait for the runbook's failover"
        dataplane.on_reboot(PRIMARY, force_failover=True)
        acked_before = len(canary.acks)
        wait_for(lambda: len(canary.acks) >= acked_before + 20, message="writes after the failover")
    assert set(canary.acks) - present_seqs(dataplane, PRIMARY) == set()
    dataplane.on_resource_fault(PRIMARY, False)


def test_single_az_crash_is_recovered_when_the_fault_is_reverted(dataplane):
    dataplane.deploy_workload("orders", rds_workload(multi_az=False, replicas=False))
    with Canary(dataplane) as canary:
        wait_for(lambda: len(canary.acks) >= 20, message="20 acknowledged writes")
        dataplane.on_resource_fault(PRIMARY, True)
        wait_for(lambda: canary.failures > 0, message="the crash to fail a write")
        dataplane.on_resource_fault(PRIMARY, False)
        acked_before = len(canary.acks)
        wait_for(lambda: len(canary.acks) >= acked_before + 10, message="writes after crash recovery")
    assert set(canary.acks) - present_seqs(dataplane, PRIMARY) == set(), "crash recovery lost a commit (fsync on)"


def region_outage_then_promote(dataplane, canary: Canary) -> tuple[float, set[int]]:
    """Take the primary's region down, promote the replica; returns (fault time, seqs on the replica)."""
    fault_at = time.time()
    dataplane.on_region_outage("us-east-1", True)
    canary.stop()
    dataplane.on_promote(REPLICA)
    return fault_at, present_seqs(dataplane, REPLICA)


@pytest.mark.parametrize("lag", [0.5, 2.0])
def test_cross_region_promote_loses_the_last_lag_seconds_of_commits(dataplane, lag):
    dataplane.deploy_workload("orders", rds_workload(multi_az=False, replicas=True), lag_seconds=lag)
    assert dataplane.links()[0]["lag_seconds"] == lag
    canary = Canary(dataplane)
    with canary:
        wait_for(lambda: len(canary.acks) >= 100 + lag / WRITE_INTERVAL, message="steady writes")
        fault_at, present = region_outage_then_promote(dataplane, canary)
    acked_before_fault = {seq: at for seq, at in canary.acks.items() if at < fault_at}
    lost = set(acked_before_fault) - present
    newest_kept = max(acked_before_fault[seq] for seq in acked_before_fault if seq in present)
    rpo = fault_at - newest_kept
    tolerance = 0.1 + 0.25 * lag  # scheduling on a shared 2-core machine, replay and the write interval
    assert lag - WRITE_INTERVAL - 0.1 <= rpo <= lag + tolerance, f"RPO {rpo:.3f} s for a lag of {lag} s"
    assert all(acked_before_fault[seq] >= fault_at - lag - tolerance for seq in lost), \
        "a commit older than the lag window was lost"
    writes_in_window = sum(1 for at in acked_before_fault.values() if at >= fault_at - lag)
    assert abs(len(lost) - writes_in_window) <= tolerance / WRITE_INTERVAL
    assert "rds_replication_dropped" in event_kinds(dataplane)


def test_promotion_faster_than_aws_is_padded_and_labelled(dataplane):
    """Under the aws profile a promotion takes AWS's time (scaled): the real `pg_ctl promote`
    happens at once, then the endpoint refuses clients until the padded duration has passed."""
    pad = 10.0  # far above a real promotion here, even on a busy machine
    dataplane.deploy_workload("orders", rds_workload(multi_az=False, replicas=True), lag_seconds=0.1)
    dataplane.set_pads({"rds_promotion": pad})
    dataplane.on_region_outage("us-east-1", True)
    dataplane.on_promote(REPLICA)
    promoted = [e["detail"] for e in dataplane.events() if e["kind"] == "rds_promoted"][-1]
    assert promoted["padded"] is True and promoted["padded_to_seconds"] == pad
    assert promoted["seconds"] < pad
    with pytest.raises(psycopg.OperationalError):
        connect(dataplane, REPLICA).close()
    def serving() -> bool:
        with connect(dataplane, REPLICA) as conn:
            return conn.execute("SELECT NOT pg_is_in_recovery()").fetchone()[0]

    wait_for(serving, seconds=pad + 30, message="the padded promotion to end")


def test_an_instance_held_for_a_running_restore_job_refuses_clients_until_released(dataplane):
    """An AWS Backup restore job still RUNNING under the aws profile (chaos.lab.backup.engine): its
    new instance refuses clients; the job's completion releases it at once."""
    dataplane.deploy_workload("orders", rds_workload(multi_az=False, replicas=False))
    wait_for(lambda: connect(dataplane, PRIMARY).close() is None, message="the new instance")
    dataplane.hold_unavailable(PRIMARY, time.time() + 600)
    with pytest.raises(psycopg.OperationalError):
        connect(dataplane, PRIMARY).close()
    dataplane.hold_unavailable(PRIMARY, 0.0)
    wait_for(lambda: connect(dataplane, PRIMARY).close() is None, seconds=30, message="the released instance")


def test_pausing_the_link_grows_the_loss(dataplane):
    lag, pause = 0.2, 2.0
    dataplane.deploy_workload("orders", rds_workload(multi_az=False, replicas=True), lag_seconds=lag)
    canary = Canary(dataplane)
    with canary:
        wait_for(lambda: len(canary.acks) >= 50, message="steady writes")
        paused_at = time.time()
        dataplane.set_paused("orders", True)
        wait_for(lambda: time.time() - paused_at >= pause, seconds=pause + 5, message="the pause")
        assert dataplane.links()[0]["paused"] and dataplane.links()[0]["backlog"] > 0
        fault_at, present = region_outage_then_promote(dataplane, canary)
    newest_kept = max(canary.acks[seq] for seq in present if seq in canary.acks)
    assert fault_at - newest_kept >= pause, "the replica received commits while its link was paused"
    assert all(at < paused_at for seq, at in canary.acks.items() if seq in present)


@pytest.mark.parametrize("mistake", ["DELETE FROM canary", "DROP TABLE canary"])
def test_point_in_time_restore_brings_back_rows_deleted_after_the_target(dataplane, mistake):
    dataplane.deploy_workload("orders", rds_workload(multi_az=True, replicas=False))
    with connect(dataplane, PRIMARY) as conn:
        conn.execute("CREATE TABLE canary (seq int PRIMARY KEY, sent_at float8)")
        for seq in range(30):
            conn.execute("INSERT INTO canary VALUES (%s, %s)", (seq, time.time()))
        time.sleep(0.05)
        restore_to = time.time()
        time.sleep(0.05)
        for seq in range(30, 40):  # committed after the target: must not come back
            conn.execute("INSERT INTO canary VALUES (%s, %s)", (seq, time.time()))
        conn.execute(mistake)
    dataplane.on_restore_to_point_in_time(PRIMARY, "orders-restored", restore_to, use_latest=False)
    assert present_seqs(dataplane, "orders-restored") == set(range(30))
    with connect(dataplane, "orders-restored") as conn:  # the restored instance takes writes
        conn.execute("INSERT INTO canary VALUES (100, 0)")


def test_restore_to_latest_time_and_to_a_time_after_the_last_commit(dataplane):
    dataplane.deploy_workload("orders", rds_workload(multi_az=False, replicas=False))
    with connect(dataplane, PRIMARY) as conn:
        conn.execute("CREATE TABLE canary (seq int PRIMARY KEY, sent_at float8)")
        conn.execute("INSERT INTO canary SELECT g, 0 FROM generate_series(0, 9) g")
    # No commit follows this target: recovery must still end with every archived row.
    dataplane.on_restore_to_point_in_time(PRIMARY, "orders-at-now", time.time(), use_latest=False)
    dataplane.on_restore_to_point_in_time(PRIMARY, "orders-latest", None, use_latest=True)
    assert present_seqs(dataplane, "orders-at-now") == set(range(10))
    assert present_seqs(dataplane, "orders-latest") == set(range(10))
    with pytest.raises(ChaosError, match="RestoreTime"):
        dataplane.on_restore_to_point_in_time(PRIMARY, "orders-too-early", time.time() - 3600, use_latest=False)


def test_the_replica_follows_two_failovers_in_a_row(dataplane):
    dataplane.deploy_workload("orders", rds_workload(multi_az=True, replicas=True), lag_seconds=0.3)
    with connect(dataplane, PRIMARY) as conn:
        conn.execute("CREATE TABLE canary (seq int PRIMARY KEY, sent_at float8)")
        conn.execute("INSERT INTO canary VALUES (1, 0)")
    wait_for(lambda: present_seqs(dataplane, REPLICA) == {1}, message="the replica to stream")
    # Hold the replica on the first timeline: after two failovers it needs WAL from before the
    # second primary's base backup, which that primary must still be able to serve.
    dataplane.set_paused("orders", True)
    dataplane.on_reboot(PRIMARY, force_failover=True)
    wait_for(lambda: len([row for row in dataplane.servers("orders") if row["role"] == "standby"]) == 1,
             message="the replacement standby")
    with connect(dataplane, PRIMARY) as conn:
        conn.execute("INSERT INTO canary VALUES (2, 0)")
    dataplane.on_zone_outage("us-east-1b", True)  # the first failover's new primary
    wait_for(lambda: [e for e in dataplane.events() if e["kind"] == "rds_failover"][1:], message="the 2nd failover")
    with connect(dataplane, PRIMARY) as conn:
        conn.execute("INSERT INTO canary VALUES (3, 0)")
    dataplane.set_paused("orders", False)
    wait_for(lambda: present_seqs(dataplane, REPLICA) == {1, 2, 3}, message="the replica to follow both failovers")
    dataplane.on_zone_outage("us-east-1b", False)


def test_region_outage_revert_brings_the_primary_back_and_stop_delete_take_effect(dataplane):
    dataplane.deploy_workload("orders", rds_workload(multi_az=True, replicas=True), lag_seconds=0.2)
    with connect(dataplane, PRIMARY) as conn:
        conn.execute("CREATE TABLE canary (seq int PRIMARY KEY, sent_at float8)")
        conn.execute("INSERT INTO canary VALUES (1, 0)")
    dataplane.on_region_outage("us-east-1", True)
    with pytest.raises(psycopg.OperationalError):
        connect(dataplane, PRIMARY)
    assert dataplane.links()[0]["down"]
    dataplane.on_region_outage("us-east-1", False)
    assert present_seqs(dataplane, PRIMARY) == {1}
    wait_for(lambda: present_seqs(dataplane, REPLICA) == {1}, message="the replica to stream again")
    dataplane.on_stop(PRIMARY)
    with pytest.raises(psycopg.OperationalError):
        connect(dataplane, PRIMARY)
    dataplane.on_start(PRIMARY)
    assert present_seqs(dataplane, PRIMARY) == {1}
    dataplane.on_delete(REPLICA)
    assert dataplane.endpoint(REPLICA) is None


def server_pids(plane) -> set[int]:
    """The postmasters of the data plane and every backend they started."""
    from chaos.lab.postgres.cluster import _children_of

    pids: set[int] = set()
    for server in plane._servers:
        pid = server.postmaster_pid()
        if pid is not None:
            pids |= {pid, *_children_of(pid)}
    return pids


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def test_close_leaves_no_process_and_no_data_directory():
    from chaos.lab.postgres.dataplane import PostgresDataPlane

    plane = PostgresDataPlane()
    try:
        plane.deploy_workload("orders", rds_workload(multi_az=True, replicas=True), lag_seconds=0.2)
        pids = server_pids(plane)
        assert len(pids) >= 3 * 4, "expected three servers with their background processes"
    finally:
        plane.close()
    plane.close()  # idempotent
    assert [pid for pid in pids if alive(pid)] == []
    assert not plane.root.exists() and not plane.socket_dir.exists()
