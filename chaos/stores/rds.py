"""RDS PostgreSQL: a primary instance (Multi-AZ or not) and cross-region read replicas.

The canary writes rows through a real driver (psycopg 3) in autocommit, so a returned INSERT is a
commit and the commit is the acknowledgement. The endpoint is whatever the RDS API says
(`DescribeDBInstances` Address/Port) at connect time, so after a Multi-AZ failover, a promotion or
a restore the writer follows the control plane, as an application using the instance endpoint
does.
- deletion: `items` runs `DELETE FROM canary_orders WHERE stream = ...`; `table` runs `DROP TABLE`;
- point-in-time restore: `RestoreDBInstanceToPointInTime` into `<id>-restored-<run>`, wait until
  available and writable, switch the application;
- regional failover: `PromoteReadReplica` on the DR replica, wait until available and writable;
- inside a region: reboot with failover (instance failure), or wait for RDS's own Multi-AZ
  failover (AZ outage). The application keeps the instance endpoint.
"""
from __future__ import annotations

import json
import threading
import weakref
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import psycopg

from chaos.stores.base import RecordStream, StoreRef, Stores, blocks, field, optional

if TYPE_CHECKING:
    from chaos.runbooks.context import RunbookContext
    from chaos.targets.base import Target

TABLE = "canary_orders"
CREATE_TABLE = (f"CREATE TABLE IF NOT EXISTS {TABLE} (stream text NOT NULL, seq integer NOT NULL,"
                " written_at double precision NOT NULL, payload text,"
                " PRIMARY KEY (stream, seq))")
# libpq treats connect timeouts below 2 s as 2 s; a statement that hangs (a frozen server) is cut
# at the same bound so the canary records a failure instead of stalling.
CONNECT_TIMEOUT_SECONDS = 2
STATEMENT_TIMEOUT_MS = 2000
# target -> {secret ARN: password}; weak, so a finished game day's target takes its passwords along.
_PASSWORDS: "weakref.WeakKeyDictionary[Target, dict[str, str]]" = weakref.WeakKeyDictionary()
_PASSWORDS_LOCK = threading.Lock()


@dataclass(frozen=True)
class RdsStores(Stores):
    kind = "rds"
    deletion_modes = ("items", "table")
    backup_resource_type = "RDS"
    arn_format = "arn:aws:rds:{region}:{account}:db:{name}"

    def restore_metadata(self, new_name: str, region: str) -> dict[str, str]:
        return {"DBInstanceIdentifier": new_name}

    identifier: str
    region: str
    db_name: str
    master_username: str
    master_secret_arn: str | None
    multi_az: bool
    availability_zone: str | None
    backup_retention_days: int
    replica_instances: tuple[StoreRef, ...]

    @classmethod
    def parse(cls, raw: dict[str, Any], where: str) -> "RdsStores":
        primary = field(raw, "primary", where, dict)
        at = f"{where}.primary"
        return cls(identifier=field(primary, "identifier", at), region=field(primary, "region", at),
                   db_name=optional(primary, "db_name", "postgres"),
                   master_username=optional(primary, "master_username", "postgres"),
                   master_secret_arn=primary.get("master_secret_arn"),
                   multi_az=bool(primary.get("multi_az")),
                   availability_zone=primary.get("availability_zone"),
                   backup_retention_days=int(optional(primary, "backup_retention_days", 0)),
                   replica_instances=tuple(
                       StoreRef(cls.kind, field(r, "region", f"{where}.replicas[{i}]"),
                                field(r, "identifier", f"{where}.replicas[{i}]"))
                       for i, r in enumerate(blocks(raw, "replicas", where))))

    def primary(self) -> StoreRef:
        return StoreRef(self.kind, self.region, self.identifier)

    def replicas(self) -> list[StoreRef]:
        return list(self.replica_instances)

    # -- connections -------------------------------------------------------------------------
    def connect(self, target: "Target", store: StoreRef, *,
                fail_fast: bool = True) -> psycopg.Connection:
        """An autocommit connection to `store`'s current endpoint."""
        host, port = resolve_endpoint(target, store, fail_fast=fail_fast)
        return psycopg.connect(host=host, port=port, dbname=self.db_name,
                               user=self.master_username, password=self._password(target),
                               autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS,
                               options=f"-c statement_timeout={STATEMENT_TIMEOUT_MS}")

    def _password(self, target: "Target") -> str | None:
        """The master password from the Secrets Manager secret the inventory names (RDS-managed
        on AWS; the lab's own, random per lab: docs/postgres-lab.md).

        Read once per target and secret, then kept, as an application reads its database secret
        at start: the secret lives in the primary region, and a region outage must not take the
        password away from a writer that fails over to the DR replica."""
        if not self.master_secret_arn:
            return None
        with _PASSWORDS_LOCK:
            known = _PASSWORDS.get(target, {}).get(self.master_secret_arn)
        if known is not None:
            return known
        secret = target.client("secretsmanager", self.region).get_secret_value(
            SecretId=self.master_secret_arn)
        password = json.loads(secret["SecretString"])["password"]
        with _PASSWORDS_LOCK:
            _PASSWORDS.setdefault(target, {})[self.master_secret_arn] = password
        return password

    def writable(self, target: "Target", store: StoreRef) -> bool:
        """The instance accepts writes: it leaves recovery when promoted, restored or failed over."""
        with self.connect(target, store) as conn:
            return conn.execute("SELECT NOT pg_is_in_recovery()").fetchone()[0]

    def available_and_writable(self, target: "Target", store: StoreRef) -> bool:
        """RDS says the instance is available, and its server really takes writes (a runbook
        waits for both: the control plane can say available before the data plane has finished
        promoting)."""
        client = target.client("rds", store.region)
        instance = client.describe_db_instances(DBInstanceIdentifier=store.name)["DBInstances"][0]
        return instance.get("DBInstanceStatus") == "available" and self.writable(target, store)

    def taken_over(self, target: "Target", dr: StoreRef) -> bool:
        """Promoted by the Region switch plan's RdsPromoteReadReplica step: available and writable."""
        return self.available_and_writable(target, dr)

    # -- canary ------------------------------------------------------------------------------
    def prepare(self, target: "Target") -> StoreRef:
        """Create the canary table on the primary before the run (replicas receive it by WAL)."""
        with self.connect(target, self.primary(), fail_fast=False) as conn:
            conn.execute(CREATE_TABLE)
        return self.primary()

    def writer(self, target: "Target", *, fail_fast: bool = True) -> "PostgresWriter":
        return PostgresWriter(target, self, fail_fast=fail_fast)

    def audit(self, target: "Target", store: StoreRef, stream: RecordStream) -> set[int]:
        """The sequence numbers of `stream` committed in `store` (empty if the table is gone)."""
        with self.connect(target, store, fail_fast=False) as conn:
            if conn.execute("SELECT to_regclass(%s)", (TABLE,)).fetchone()[0] is None:
                return set()
            rows = conn.execute(f"SELECT seq FROM {TABLE} WHERE stream = %s",
                                (stream.key,)).fetchall()
        return {row[0] for row in rows}

    # -- accidental deletion and point-in-time restore --------------------------------------
    def delete(self, target: "Target", store: StoreRef, stream: RecordStream,
               mode: str) -> int | str:
        with self.connect(target, store, fail_fast=False) as conn:
            if mode == "table":
                conn.execute(f"DROP TABLE {TABLE}")
                return "table"
            return conn.execute(f"DELETE FROM {TABLE} WHERE stream = %s", (stream.key,)).rowcount

    def why_no_point_in_time_restore(self) -> str | None:
        if not self.backup_retention_days:
            return "the instance keeps no automated backups: no point-in-time restore"
        return None

    def restore_point_in_time(self, ctx: "RunbookContext", stream: RecordStream) -> None:
        source = ctx.routing.current
        restored = StoreRef(source.kind, source.region, f"{source.name}-restored-{ctx.short_run}")
        ctx.started("rds-point-in-time-restore")
        ctx.target.client("rds", source.region).restore_db_instance_to_point_in_time(
            SourceDBInstanceIdentifier=source.name, TargetDBInstanceIdentifier=restored.name,
            RestoreTime=datetime.fromtimestamp(ctx.fault_time, tz=timezone.utc))
        ctx.wait_until(f"instance {restored.name} available",
                       lambda: self.available_and_writable(ctx.target, restored))
        ctx.routing.switch(restored)
        ctx.done(f"restored {source.name} as of the deletion into {restored.name}; "
                 "application switched")

    def snapshots_to_attack(self, target: "Target", workload: Any) -> list[tuple[str, str, str, Any]]:
        found = []
        for region in sorted({self.region, workload.dr_region}):
            client = target.client("rds", region)
            for snap in client.describe_db_snapshots(DBInstanceIdentifier=self.identifier).get("DBSnapshots", []):
                ident = snap["DBSnapshotIdentifier"]
                found.append(("rds", region, ident,
                              lambda c=client, i=ident: c.delete_db_snapshot(DBSnapshotIdentifier=i)))
        return found

    # -- regional failover -------------------------------------------------------------------
    def take_over(self, ctx: "RunbookContext", dr: StoreRef) -> None:
        """Promote the cross-region read replica and wait until it takes writes."""
        ctx.target.client("rds", dr.region).promote_read_replica(DBInstanceIdentifier=dr.name)
        ctx.wait_until(f"promotion of {dr.name}",
                       lambda: self.available_and_writable(ctx.target, dr))
        ctx.done(f"promoted read replica {dr.name}", at=ctx.last_observed_at)

    # -- failover inside a region ------------------------------------------------------------
    def why_no_multi_az_failover(self) -> str | None:
        if not self.multi_az:
            return "the DB instance is not Multi-AZ: it has no standby to fail over to"
        return None

    def primary_zone(self) -> str | None:
        return self.availability_zone

    def fail_over_within_region(self, ctx: "RunbookContext", *, forced: bool) -> None:
        """`forced`: `RebootDBInstance(ForceFailover=True)`, the documented way to move a Multi-AZ
        instance to its standby. Otherwise RDS fails over by itself and this only waits."""
        store = self.primary()
        how = "reboot with failover" if forced else "automatic"
        ctx.started("rds-reboot-with-failover" if forced else "rds-await-multi-az-failover")
        if forced:
            ctx.target.client("rds", store.region).reboot_db_instance(
                DBInstanceIdentifier=store.name, ForceFailover=True)
        ctx.wait_until(f"{store.name} writable after {'failover' if forced else 'automatic failover'}",
                       lambda: self.writable(ctx.target, store))
        ctx.done(f"{store.name} failed over to its Multi-AZ standby ({how})",
                 at=ctx.last_observed_at)


def resolve_endpoint(target: "Target", store: StoreRef, *, fail_fast: bool = True) -> tuple[str, int]:
    """Address and port of `store` as the RDS API reports them now."""
    client = target.client("rds", store.region, fail_fast=fail_fast)
    instance = client.describe_db_instances(DBInstanceIdentifier=store.name)["DBInstances"][0]
    endpoint = instance.get("Endpoint") or {}
    if not endpoint.get("Address"):
        raise ConnectionError(f"{store.name} has no endpoint (status "
                              f"{instance.get('DBInstanceStatus')})")
    return endpoint["Address"], int(endpoint["Port"])


class PostgresWriter:
    """Writes and reads records for one workload; one instance per thread (its own connection)."""

    def __init__(self, target: "Target", stores: RdsStores, *, fail_fast: bool = True) -> None:
        self._target = target
        self._stores = stores
        self._fail_fast = fail_fast
        self._conn: psycopg.Connection | None = None
        self._conn_store: StoreRef | None = None

    def _connection(self, store: StoreRef) -> psycopg.Connection:
        if self._conn is None or self._conn.closed or self._conn_store != store:
            self.close()
            self._conn = self._stores.connect(self._target, store, fail_fast=self._fail_fast)
            self._conn_store = store
        return self._conn

    def _run(self, store: StoreRef, sql: str, params: tuple) -> list[tuple]:
        try:
            cursor = self._connection(store).execute(sql, params)
            return cursor.fetchall() if cursor.description else []
        except Exception:
            # Any failure may have left the session unusable (server gone, failover): reconnect,
            # re-resolving the endpoint, on the next call.
            self.close()
            raise

    def write(self, store: StoreRef, stream: RecordStream, seq: int, written_at: float) -> None:
        self._run(store, f"INSERT INTO {TABLE} (stream, seq, written_at, payload)"
                         " VALUES (%s, %s, %s, %s)", (stream.key, seq, written_at, f"order {seq}"))

    def read(self, store: StoreRef, stream: RecordStream, seq: int) -> bool:
        return bool(self._run(store, f"SELECT 1 FROM {TABLE} WHERE stream = %s AND seq = %s",
                              (stream.key, seq)))

    def close(self) -> None:
        conn, self._conn, self._conn_store = self._conn, None, None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # closing a connection to a dead server must never raise
                pass
