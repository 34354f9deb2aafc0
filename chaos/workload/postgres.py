"""PostgreSQL writer and audit for RDS workloads: a real driver (psycopg 3), autocommit, so a
returned INSERT is a commit and the commit is the acknowledgement.

The endpoint is whatever the RDS API says (`DescribeDBInstances` Address/Port) at connect time, so
after a Multi-AZ failover, a promotion or a restore the writer follows the control plane, as an
application using the instance endpoint does.
"""
from __future__ import annotations

import json
import threading
import weakref
from typing import Any

import psycopg

from chaos.targets.base import Target
from chaos.workload.stores import RecordStream, StoreRef

TABLE = "canary_orders"
CREATE_TABLE = (f"CREATE TABLE IF NOT EXISTS {TABLE} (stream text NOT NULL, seq integer NOT NULL,"
                " written_at double precision NOT NULL, payload text,"
                " PRIMARY KEY (stream, seq))")
# libpq treats connect timeouts below 2 s as 2 s; a statement that hangs (a frozen server) is cut
# at the same bound so the canary records a failure instead of stalling.
CONNECT_TIMEOUT_SECONDS = 2
STATEMENT_TIMEOUT_MS = 2000


def resolve_endpoint(target: Target, store: StoreRef, *, fail_fast: bool = True) -> tuple[str, int]:
    """Address and port of `store` as the RDS API reports them now."""
    client = target.client("rds", store.region, fail_fast=fail_fast)
    instance = client.describe_db_instances(DBInstanceIdentifier=store.name)["DBInstances"][0]
    endpoint = instance.get("Endpoint") or {}
    if not endpoint.get("Address"):
        raise ConnectionError(f"{store.name} has no endpoint (status "
                              f"{instance.get('DBInstanceStatus')})")
    return endpoint["Address"], int(endpoint["Port"])


# target -> {secret ARN: password}; weak, so a finished game day's target takes its passwords along.
_PASSWORDS: "weakref.WeakKeyDictionary[Target, dict[str, str]]" = weakref.WeakKeyDictionary()
_PASSWORDS_LOCK = threading.Lock()


def _password(target: Target, workload: dict[str, Any]) -> str | None:
    """The master password from the Secrets Manager secret the inventory names (RDS-managed on
    AWS; the lab's own, with a random password per lab: docs/postgres-lab.md).

    Read once per target and secret, then kept, as an application reads its database secret at
    start: the secret lives in the primary region, and a region outage must not take the password
    away from a writer that fails over to the DR replica."""
    secret_arn = workload["stores"]["primary"].get("master_secret_arn")
    if not secret_arn:
        return None
    with _PASSWORDS_LOCK:
        known = _PASSWORDS.get(target, {}).get(secret_arn)
    if known is not None:
        return known
    region = workload["stores"]["primary"]["region"]
    secret = target.client("secretsmanager", region).get_secret_value(SecretId=secret_arn)
    password = json.loads(secret["SecretString"])["password"]
    with _PASSWORDS_LOCK:
        _PASSWORDS.setdefault(target, {})[secret_arn] = password
    return password


def connect(target: Target, workload: dict[str, Any], store: StoreRef, *,
            fail_fast: bool = True) -> psycopg.Connection:
    """An autocommit connection to `store`'s current endpoint."""
    host, port = resolve_endpoint(target, store, fail_fast=fail_fast)
    primary = workload["stores"]["primary"]
    return psycopg.connect(host=host, port=port, dbname=primary.get("db_name") or "postgres",
                           user=primary.get("master_username") or "postgres",
                           password=_password(target, workload), autocommit=True,
                           connect_timeout=CONNECT_TIMEOUT_SECONDS,
                           options=f"-c statement_timeout={STATEMENT_TIMEOUT_MS}")


def writable(target: Target, workload: dict[str, Any], store: StoreRef) -> bool:
    """The instance accepts writes: it leaves recovery when promoted, restored or failed over."""
    with connect(target, workload, store) as conn:
        return conn.execute("SELECT NOT pg_is_in_recovery()").fetchone()[0]


def available_and_writable(target: Target, workload: dict[str, Any], store: StoreRef) -> bool:
    """RDS says the instance is available, and its server really takes writes (a runbook waits for
    both: the control plane can say available before the data plane has finished promoting)."""
    client = target.client("rds", store.region)
    instance = client.describe_db_instances(DBInstanceIdentifier=store.name)["DBInstances"][0]
    return instance.get("DBInstanceStatus") == "available" and writable(target, workload, store)


def ensure_table(target: Target, workload: dict[str, Any], store: StoreRef) -> None:
    """Create the canary table on the primary before the run (replicas receive it by WAL)."""
    with connect(target, workload, store, fail_fast=False) as conn:
        conn.execute(CREATE_TABLE)


class PostgresWriter:
    """Writes and reads records for one workload; one instance per thread (its own connection)."""

    def __init__(self, target: Target, workload: dict[str, Any], *, fail_fast: bool = True) -> None:
        self._target = target
        self._workload = workload
        self._fail_fast = fail_fast
        self._conn: psycopg.Connection | None = None
        self._conn_store: StoreRef | None = None

    def _connection(self, store: StoreRef) -> psycopg.Connection:
        if self._conn is None or self._conn.closed or self._conn_store != store:
            self.close()
            self._conn = connect(self._target, self._workload, store, fail_fast=self._fail_fast)
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
        rows = self._run(store, f"SELECT 1 FROM {TABLE} WHERE stream = %s AND seq = %s",
                         (stream.key, seq))
        return bool(rows)

    def close(self) -> None:
        conn, self._conn, self._conn_store = self._conn, None, None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # closing a connection to a dead server must never raise
                pass


def audit(target: Target, workload: dict[str, Any], store: StoreRef,
          stream: RecordStream) -> set[int]:
    """The sequence numbers of `stream` committed in `store` (an empty set if the table is gone)."""
    with connect(target, workload, store, fail_fast=False) as conn:
        exists = conn.execute("SELECT to_regclass(%s)", (TABLE,)).fetchone()[0]
        if exists is None:
            return set()
        rows = conn.execute(f"SELECT seq FROM {TABLE} WHERE stream = %s", (stream.key,)).fetchall()
    return {row[0] for row in rows}
