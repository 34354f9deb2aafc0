"""Benchmark of the lab's PostgreSQL data plane for a stack's RDS workloads. Prints figures.

    /work/venv/bin/python -m bench.postgres_lab [--stack prod] [--repeat 3] [--workdir DIR]

Per RDS workload of the stack (evaluated offline, as the game day does), each round measures:
- bring-up: primary + Multi-AZ standby + base backup + cross-region replicas, streaming (the first
  round of the process also pays for the initdb template);
- commit rate: sequential autocommit INSERTs through the instance endpoint for 2 s (one client,
  synchronous standby in the commit path when Multi-AZ);
- reboot with failover: `on_reboot(force_failover=True)` call time, and the time until the first
  write succeeds again through the endpoint;
- AZ outage: outage to first successful write (detection delay + promotion + reconnect);
- replica promote: the `pg_ctl promote` time and the whole `on_promote` call;
- point-in-time restore: `on_restore_to_point_in_time` call time (WAL switch + archive wait +
  copy of the base backup + replay + promotion).
Medians (and min/max) over the rounds. Nothing here is asserted: it is for the report.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable

import psycopg
from tenacity import retry, stop_after_delay, wait_fixed

from chaos.lab.postgres.dataplane import PostgresDataPlane, standby_zone_for

COMMIT_SECONDS = 2.0


def rds_workloads(stack: str) -> dict[str, dict]:
    from infra.offline import evaluate_stack

    inventory = evaluate_stack(stack).inventory
    return {name: w for name, w in inventory["workloads"].items() if w["kind"] == "rds"}


def connect(plane: PostgresDataPlane, identifier: str, stores: dict) -> psycopg.Connection:
    host, port = plane.endpoint(identifier)
    primary = stores["primary"]
    return psycopg.connect(host=host, port=port, dbname=primary["db_name"], user=primary["master_username"],
                           password=plane.master_password_for(primary["master_username"]),
                           autocommit=True, connect_timeout=2)


def seconds_until_writable(plane: PostgresDataPlane, identifier: str, stores: dict, since: float) -> float:
    """Time from `since` until an INSERT through the endpoint commits (bounded at 60 s)."""
    @retry(stop=stop_after_delay(60), wait=wait_fixed(0.01), reraise=True)
    def write() -> None:
        with connect(plane, identifier, stores) as conn:
            conn.execute("INSERT INTO bench_orders (at) VALUES (%s)", (time.time(),))

    write()
    return time.monotonic() - since


def commits_per_second(plane: PostgresDataPlane, identifier: str, stores: dict) -> float:
    with connect(plane, identifier, stores) as conn:
        count, started = 0, time.monotonic()
        while time.monotonic() - started < COMMIT_SECONDS:
            conn.execute("INSERT INTO bench_orders (at) VALUES (%s)", (time.time(),))
            count += 1
        return count / (time.monotonic() - started)


def timed(call: Callable[[], object]) -> float:
    started = time.monotonic()
    call()
    return time.monotonic() - started


def one_round(plane: PostgresDataPlane, name: str, workload: dict) -> dict[str, float]:
    stores = workload["stores"]
    primary = stores["primary"]["identifier"]
    figures: dict[str, float] = {}
    figures["bring-up (s)"] = timed(lambda: plane.deploy_workload(name, workload))
    with connect(plane, primary, stores) as conn:
        conn.execute("CREATE TABLE bench_orders (id bigserial PRIMARY KEY, at float8)")
    figures["commits/s (1 client)"] = commits_per_second(plane, primary, stores)
    if stores["primary"].get("multi_az"):
        started = time.monotonic()
        figures["reboot-with-failover call (s)"] = timed(lambda: plane.on_reboot(primary, force_failover=True))
        figures["reboot-with-failover to first write (s)"] = seconds_until_writable(plane, primary, stores, started)
        _wait_for_standby(plane, name)
        zone = next(row["zone"] for row in plane.servers(name) if row["role"] == "primary")
        started = time.monotonic()
        plane.on_zone_outage(zone, True)
        figures["AZ outage to first write (s)"] = seconds_until_writable(plane, primary, stores, started)
        plane.on_zone_outage(zone, False)
    restore_from = time.time()
    with connect(plane, primary, stores) as conn:
        conn.execute("INSERT INTO bench_orders (at) VALUES (%s)", (time.time(),))
    figures["PITR restore (s)"] = timed(
        lambda: plane.on_restore_to_point_in_time(primary, f"{primary}-bench-restore", restore_from, False))
    for replica in stores.get("replicas") or []:
        figures["promote call (s)"] = timed(lambda: plane.on_promote(replica["identifier"]))
        promoted = [e for e in plane.events() if e["kind"] == "rds_promoted"]
        figures["pg_ctl promote (s)"] = promoted[-1]["detail"]["seconds"]
    return figures


def _wait_for_standby(plane: PostgresDataPlane, name: str) -> None:
    @retry(stop=stop_after_delay(60), wait=wait_fixed(0.05), reraise=True)
    def has_standby() -> None:
        assert any(row["role"] == "standby" for row in plane.servers(name))

    has_standby()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default="prod")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workdir", default=None, help="parent of the data directories (default: tmpfs)")
    args = parser.parse_args(argv)
    workloads = rds_workloads(args.stack)
    if not workloads:
        print(f"stack {args.stack} declares no RDS workload")
        return 0
    plane = PostgresDataPlane(args.workdir)
    try:
        print(f"PostgreSQL data plane benchmark, stack {args.stack}, {args.repeat} rounds; data under {plane.root}")
        print(f"{plane.bins.version}; failover detection delay {plane.failover_detection_seconds} s")
        for name, workload in workloads.items():
            primary = workload["stores"]["primary"]
            replicas = [r["region"] for r in workload["stores"].get("replicas") or []]
            print(f"\nworkload {name} ({workload['strategy']}): multi_az={primary.get('multi_az')} "
                  f"(standby in {standby_zone_for(primary.get('availability_zone') or primary['region'] + 'a')}), "
                  f"replicas in {replicas or 'none'}")
            rounds: list[dict[str, float]] = []
            for index in range(args.repeat):
                plane.reset()
                rounds.append(one_round(plane, name, workload))
                print(f"  round {index + 1}: " + ", ".join(f"{k} {v:.3f}" for k, v in rounds[-1].items()))
            print(f"  {'figure':42} {'median':>9} {'min':>9} {'max':>9}")
            for key in rounds[0]:
                values = [r[key] for r in rounds if key in r]
                print(f"  {key:42} {statistics.median(values):9.3f} {min(values):9.3f} {max(values):9.3f}")
            plane.reset()
    finally:
        plane.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
