"""The real PostgreSQL data plane behind the lab's RDS API.

moto keeps RDS as metadata; this module runs the databases. Per RDS workload of the inventory:
- the primary instance: a PostgreSQL server, with a synchronous Multi-AZ standby in another AZ of
  the same region when `multi_az` (commits wait for the standby's flush, as RDS Multi-AZ does);
- per inventory replica: an asynchronous cross-region read replica streaming through a delay line
  (real network lag L, pausable, dropped by a region outage);
- a base backup at deploy plus WAL archiving, so a point-in-time restore replays real WAL.

Every RDS instance has a stable endpoint (a loopback port, like the instance's DNS name) that
forwards to whichever server currently serves it. The lab core calls the `on_*` methods after moto
accepted the corresponding API call or Chaos API rule; this module never imports moto.
"""
from __future__ import annotations

import atexit
import re
import secrets
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import psycopg
from psycopg import sql
from tenacity import retry, retry_if_result, stop_after_delay, wait_fixed

from chaos.errors import ChaosError
from chaos.lab.postgres.backup import (
    BaseBackup, archive_settings, force_archive, recovery_ended_early, recovery_settings, take_base_backup,
)
from chaos.lab.postgres.cluster import (
    ADMIN_PASSWORD, ADMIN_ROLE, TEMPLATES, PgBinaries, PgServer, make_owned_dir, memory_backed_dir, quote,
    require_binaries, run_as_postgres,
)
from chaos.lab.postgres.delayline import DelayLine
from chaos.lab.scratch import LEFTOVERS

DEFAULT_CROSS_REGION_LAG_SECONDS = 1.0
# RDS Multi-AZ detects a lost primary and fails over in 60-120 s; the lab keeps it short so a game
# day does not wait, and configurable.
DEFAULT_FAILOVER_DETECTION_SECONDS = 0.5
REPLICATION_WAIT_SECONDS = 60.0
RESTORE_WAIT_SECONDS = 120.0
HOST = "127.0.0.1"


def zone_region(zone: str) -> str:
    """`us-east-1a` -> `us-east-1` (an AZ name is its region plus a letter)."""
    return re.sub(r"[a-z]+$", "", zone)


def standby_zone_for(zone: str) -> str:
    """The AZ the lab puts a Multi-AZ standby in: the next letter of the primary's region."""
    letter = zone[-1]
    return zone[:-1] + ("b" if letter != "b" else "a")


@dataclass
class DbInstance:
    """One RDS DB instance as the API sees it, and the servers that make it up right now."""

    identifier: str
    workload: str
    role: str                    # "primary", "replica" (cross-region read replica), "restored"
    region: str
    zone: str                    # AZ of the server that serves the instance now
    db_name: str
    master_username: str
    archive_dir: Path
    endpoint: DelayLine          # the stable endpoint (lag 0) clients connect to
    server: PgServer | None = None
    multi_az: bool = False
    standby: PgServer | None = None
    standby_zone: str | None = None
    base_backup: BaseBackup | None = None
    source: str | None = None    # replica: identifier of the instance it replicates
    link: DelayLine | None = None  # replica: the cross-region replication link from its source
    state: str = "available"     # "available", "stopped", "deleted"
    switching: bool = False      # a reboot or failover is in progress: the endpoint refuses clients
    available_at: float = 0.0    # epoch: until then the endpoint refuses clients (padding to AWS's time)
    crashed: set[str] = field(default_factory=set)  # names of servers a fault/outage took down

    @property
    def standby_application_name(self) -> str:
        return f"{self.identifier}-standby"


@dataclass(frozen=True)
class LabEvent:
    t: float
    kind: str
    detail: dict

    def as_dict(self) -> dict:
        return {"t": self.t, "kind": self.kind, "detail": self.detail}


class PostgresDataPlane:
    """Real PostgreSQL processes for the lab's RDS workloads; see the module docstring.

    Thread-safe: the lab core calls it from its threaded HTTP server. Control operations are
    serialized; `endpoint()` and `links()` never wait for them.
    """

    def __init__(self, workdir: str | Path | None = None, *,
                 failover_detection_seconds: float = DEFAULT_FAILOVER_DETECTION_SECONDS,
                 default_lag_seconds: float = DEFAULT_CROSS_REGION_LAG_SECONDS,
                 binaries: PgBinaries | None = None) -> None:
        self.bins = binaries or require_binaries()
        self.failover_detection_seconds = failover_detection_seconds
        self.default_lag_seconds = default_lag_seconds
        parent = Path(workdir) if workdir else memory_backed_dir()
        if workdir:
            parent.mkdir(parents=True, exist_ok=True)
        self.root = Path(tempfile.mkdtemp(prefix="postgres-", dir=parent))
        LEFTOVERS.add_dir(self.root)  # removed by `close`; by whoever outlives a killed lab otherwise
        try:
            make_owned_dir(self.root, within=self.root)
            _check_reachable_by_servers(self.root)
        except Exception:
            shutil.rmtree(self.root, ignore_errors=True)
            raise
        # Unix socket paths are limited to ~107 bytes: keep the socket directory short.
        socket_dir = Path(tempfile.mkdtemp(prefix="scpg-"))
        self.socket_dir = make_owned_dir(socket_dir, within=socket_dir)
        LEFTOVERS.add_dir(self.socket_dir)
        # The RDS master user's password (every instance of this lab): what RDS keeps in Secrets
        # Manager; the lab core stores it in the lab's own secret named by the inventory.
        self.master_password = secrets.token_urlsafe(24)
        self._instances: dict[str, DbInstance] = {}
        self._servers: list[PgServer] = []
        self._zones_out: set[str] = set()
        self._regions_out: set[str] = set()
        self._events: list[LabEvent] = []
        self._lock = threading.RLock()
        self._background: list[threading.Thread] = []
        self._serial = 0
        self._closed = False
        # Lab seconds an action takes at least (chaos.lab.timing pads; 0 = as fast as PostgreSQL).
        self._pads: dict[str, float] = {}
        atexit.register(self.close)

    # ================================================================ timing

    def set_pads(self, pads: dict[str, float]) -> None:
        """Minimum lab durations of `rds_failover`, `rds_promotion`, `rds_restore` (chaos.lab.timing)."""
        with self._lock:
            self._pads = {action: max(0.0, float(seconds)) for action, seconds in pads.items()}
            # Detection is part of AWS's failover time: it must fit inside the padded duration.
            failover = self._pads.get("rds_failover", 0.0)
            self.failover_detection_seconds = (min(DEFAULT_FAILOVER_DETECTION_SECONDS, failover / 2)
                                               if failover else DEFAULT_FAILOVER_DETECTION_SECONDS)

    def _hold_until_padded(self, inst: DbInstance, action: str, requested_at: float) -> dict:
        """Keep `inst` unreachable until `action`'s padded duration has passed since `requested_at`.

        The real work (promotion, WAL replay) is done already; AWS would still be at it. Returns
        what the lab event records: the real seconds and, when padded, the padded duration.
        """
        real = time.time() - requested_at
        pad = self._pads.get(action, 0.0)
        if pad <= real:
            return {"seconds": round(real, 3)}
        inst.available_at = requested_at + pad
        inst.endpoint.disconnect_all()
        return {"seconds": round(real, 3), "padded": True, "padded_to_seconds": round(pad, 3)}

    def hold_unavailable(self, identifier: str, until: float) -> None:
        """Refuse clients of `identifier` until `until` (epoch; 0 releases): the AWS Backup restore
        job that creates it is still RUNNING (chaos.lab.backup.engine pads it to AWS's time).
        A release takes no lock: the backup clock's ticker releases, and must not wait for a deploy."""
        if until <= 0:
            self._instance(identifier).available_at = 0.0
            return
        with self._lock:
            inst = self._instance(identifier)
            inst.available_at = until
            inst.endpoint.disconnect_all()

    def master_password_for(self, username: str) -> str:
        """The password of an instance's master user (the superuser's when the master is it)."""
        return ADMIN_PASSWORD if username == ADMIN_ROLE else self.master_password

    # ================================================================ deploy

    def deploy_workload(self, workload: str, rds_inventory: dict, *, lag_seconds: float | None = None,
                        region_of: Callable[[str], str] | None = None) -> list[dict]:
        """Bring up the primary (+ Multi-AZ standby), base backup and cross-region replicas of a workload.

        `rds_inventory` is the inventory's workload entry (or its `stores`); `lag_seconds` the
        cross-region lag (None: the default, 1.0 s); `region_of` maps an AZ to its region, to check
        the inventory (default: drop the AZ letter). Returns one row per server: `{workload, role, region, zone, port,
        identifier}` (`port` is the instance endpoint; the standby has none of its own).
        """
        stores = rds_inventory.get("stores", rds_inventory)
        spec = stores["primary"]
        lag = self.default_lag_seconds if lag_seconds is None else float(lag_seconds)
        with self._lock:
            self._ensure_open()
            if spec["identifier"] in self._instances:
                raise ChaosError(f"rds: instance {spec['identifier']} is already deployed; reset the lab first")
            zone = spec.get("availability_zone") or f"{spec['region']}a"
            if (region_of or zone_region)(zone) != spec["region"]:
                raise ChaosError(f"workloads.{workload}.stores.primary.availability_zone: {zone} is not in "
                                 f"region {spec['region']}; fix the inventory")
            primary = self._new_instance(
                workload, spec["identifier"], role="primary", region=spec["region"], zone=zone,
                db_name=spec.get("db_name") or "postgres", master_username=spec.get("master_username") or ADMIN_ROLE,
            )
            primary.server = self._start_fresh_primary(primary)
            self._create_master_database(primary)
            primary.base_backup = take_base_backup(primary.server, self._workload_dir(workload) / f"{primary.identifier}.base")
            if spec.get("multi_az"):
                primary.multi_az = True
                self._attach_standby(primary, standby_zone_for(zone))
            for replica_spec in stores.get("replicas") or []:
                self._create_replica(primary, replica_spec, lag)
            self._record("rds_deployed", {"workload": workload, "identifier": primary.identifier})
            return self.servers(workload)

    def _new_instance(self, workload: str, identifier: str, **fields: object) -> DbInstance:
        archive_dir = make_owned_dir(self._workload_dir(workload) / f"{identifier}.archive", within=self.root)
        endpoint = DelayLine(f"{identifier}-endpoint", lambda: self._serving_address(identifier))
        instance = DbInstance(identifier=identifier, workload=workload, archive_dir=archive_dir, endpoint=endpoint,
                              **fields)  # type: ignore[arg-type]
        self._instances[identifier] = instance
        return instance

    def _start_fresh_primary(self, instance: DbInstance) -> PgServer:
        server = self._new_server(instance)
        server.init_from_template()
        server.configure(archive_settings(instance.archive_dir))
        server.start()
        return server

    def _create_master_database(self, instance: DbInstance) -> None:
        """The master user and the database named by the inventory, as RDS creates them."""
        assert instance.server is not None
        with instance.server.connect() as conn:
            if instance.master_username != ADMIN_ROLE:
                conn.execute(sql.SQL("CREATE ROLE {} LOGIN CREATEDB CREATEROLE PASSWORD {}").format(
                    sql.Identifier(instance.master_username), sql.Literal(self.master_password)))
            if instance.db_name != "postgres":
                conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    sql.Identifier(instance.db_name), sql.Identifier(instance.master_username)))

    def _attach_standby(self, instance: DbInstance, zone: str) -> None:
        """A synchronous standby of the instance's server in `zone`; commits then wait for it."""
        assert instance.server is not None
        standby = self._new_server(instance, suffix=zone)
        standby.init_from_base_backup(instance.server)
        # If this standby is promoted one day, lagging cross-region replicas will ask it for WAL
        # from before its base backup (to follow the timeline switch): give it that WAL now.
        standby.seed_older_wal(instance.server)
        standby.configure({
            **archive_settings(instance.archive_dir),
            "primary_conninfo": quote(_conninfo(instance.server.port, instance.standby_application_name)),
        }, standby=True)
        standby.start()
        instance.standby, instance.standby_zone = standby, zone
        instance.server.update_settings({"synchronous_standby_names": quote(f'"{instance.standby_application_name}"')})
        self._wait_replication(instance.server, instance.standby_application_name, want_sync=True)

    def _create_replica(self, source: DbInstance, spec: dict, lag: float) -> DbInstance:
        """An asynchronous cross-region replica streaming through a delay line of `lag` seconds."""
        assert source.server is not None
        replica = self._new_instance(
            source.workload, spec["identifier"], role="replica", region=spec["region"],
            zone=spec.get("availability_zone") or f"{spec['region']}a", db_name=source.db_name,
            master_username=source.master_username,
        )
        replica.source = source.identifier
        replica.link = DelayLine(f"{replica.identifier}-link", lambda: self._serving_address(source.identifier),
                                 lag_seconds=lag, delay_copy_data_only=True)
        server = self._new_server(replica)
        server.init_from_base_backup(source.server)
        server.configure({
            **archive_settings(replica.archive_dir),
            "primary_conninfo": quote(_conninfo(replica.link.port, replica.identifier)),
        }, standby=True)
        server.start()
        replica.server = server
        self._wait_replication(source.server, replica.identifier, want_sync=False)
        return replica

    def _new_server(self, instance: DbInstance, suffix: str | None = None) -> PgServer:
        self._serial += 1
        name = f"{instance.identifier}-{suffix or instance.zone}-{self._serial}"
        home = self._workload_dir(instance.workload)
        server = PgServer(name=name, bins=self.bins, data_dir=home / name, socket_dir=self.socket_dir,
                          log_file=home / f"{name}.log")
        self._servers.append(server)
        return server

    def _workload_dir(self, workload: str) -> Path:
        return make_owned_dir(self.root / workload, mode=0o755, within=self.root)

    def _wait_replication(self, upstream: PgServer, application_name: str, *, want_sync: bool) -> None:
        @retry(stop=stop_after_delay(REPLICATION_WAIT_SECONDS), wait=wait_fixed(0.05),
               retry=retry_if_result(lambda ok: not ok), retry_error_callback=lambda _: False)
        def attached() -> bool:
            rows = upstream.query("SELECT state, sync_state FROM pg_stat_replication WHERE application_name = %s",
                                  (application_name,))
            return any(state == "streaming" and (sync == "sync" or not want_sync) for state, sync in rows)

        if not attached():
            raise ChaosError(f"postgresql: {application_name} did not start streaming from {upstream.name} within "
                             f"{REPLICATION_WAIT_SECONDS:.0f} s; see {upstream.log_file}")

    def servers(self, workload: str | None = None) -> list[dict]:
        """One row per live server: `{workload, role, region, zone, port, identifier}`."""
        rows = []
        for inst in list(self._instances.values()):
            if (workload is not None and inst.workload != workload) or inst.state == "deleted":
                continue
            rows.append({"workload": inst.workload, "role": inst.role, "region": inst.region, "zone": inst.zone,
                         "port": inst.endpoint.port, "identifier": inst.identifier})
            if inst.standby is not None:
                rows.append({"workload": inst.workload, "role": "standby", "region": inst.region,
                             "zone": inst.standby_zone, "port": inst.standby.port, "identifier": inst.identifier})
        return rows

    # ================================================================ endpoints and links

    def endpoint(self, identifier: str) -> tuple[str, int] | None:
        """(host, port) clients use for the instance; it forwards to the live server. None if unknown."""
        inst = self._instances.get(identifier)
        if inst is None or inst.state == "deleted":
            return None
        return HOST, inst.endpoint.port

    def _serving_address(self, identifier: str) -> tuple[str, int] | None:
        """Where the server that serves `identifier` listens now (None: nothing to connect to)."""
        instance = self._instances.get(identifier)
        if instance is None or instance.server is None or instance.state != "available" \
                or instance.switching or instance.region in self._regions_out \
                or time.time() < instance.available_at:
            return None
        server = instance.server
        return HOST, server.port

    def links(self) -> list[dict]:
        """The cross-region replication links, in the shape of the lab's DynamoDB/S3 links."""
        rows = []
        for inst in list(self._instances.values()):
            if inst.link is None or inst.source is None:
                continue
            source = self._instances[inst.source]
            held = inst.link.bytes_held
            rows.append({"workload": inst.workload, "kind": "rds", "source_region": source.region,
                         "target_region": inst.region, "source": source.identifier, "target": inst.identifier,
                         "lag_seconds": inst.link.lag_seconds, "paused": inst.link.paused,
                         "backlog": held, "backlog_unit": "bytes", "down": inst.link.down})
        return rows

    def set_lag(self, workload: str | None, seconds: float) -> list[dict]:
        for link in self._links_of(workload):
            link.lag_seconds = seconds
        return self.links()

    def set_paused(self, workload: str | None, paused: bool) -> list[dict]:
        for link in self._links_of(workload):
            link.paused = paused
        self._record("rds_replication_paused" if paused else "rds_replication_resumed", {"workload": workload})
        return self.links()

    def _links_of(self, workload: str | None) -> list[DelayLine]:
        return [inst.link for inst in list(self._instances.values())
                if inst.link is not None and (workload is None or inst.workload == workload)]

    def events(self, since: float = 0.0) -> list[dict]:
        """Data-plane events (failovers, promotions, restores, dropped replication) for `/_lab/events`."""
        return [event.as_dict() for event in list(self._events) if event.t >= since]

    def _record(self, kind: str, detail: dict) -> None:
        self._events.append(LabEvent(time.time(), kind, detail))

    # ================================================================ control-plane effects

    def on_reboot(self, identifier: str, force_failover: bool = False) -> None:
        """RebootDBInstance: with ForceFailover and a live standby, fail over; otherwise restart the server."""
        with self._lock:
            inst = self._instance(identifier)
            if force_failover and inst.standby is not None and inst.standby.is_running():
                self._fail_over(inst, reason="reboot-with-failover", old_stop_mode="fast",
                                requested_at=time.time())
                return
            assert inst.server is not None
            started = time.monotonic()
            inst.switching = True
            try:
                inst.endpoint.disconnect_all()
                self._cut_replica_links(inst)
                inst.server.stop("fast")
                inst.server.start()
            finally:
                inst.switching = False
            inst.crashed.discard(inst.server.name)
            self._record("rds_rebooted", {"identifier": identifier, "seconds": round(time.monotonic() - started, 3)})

    def on_promote(self, identifier: str) -> None:
        """PromoteReadReplica: cut the replication link (what it holds is lost) and promote the replica."""
        with self._lock:
            inst = self._instance(identifier)
            if inst.role != "replica" or inst.server is None:
                raise ChaosError(f"DBInstanceIdentifier: {identifier} is not a read replica; promote a replica")
            if not inst.server.is_running():
                raise ChaosError(f"DBInstanceIdentifier: {identifier} is not running (its region is down?); "
                                 "promote a replica in a healthy region")
            dropped = inst.link.set_down(True) if inst.link else 0
            requested = time.time()
            inst.server.promote()
            if inst.link:
                inst.link.close()
            inst.link, inst.source, inst.role = None, None, "primary"
            timing = self._hold_until_padded(inst, "rds_promotion", requested)
            self._record("rds_promoted", {"identifier": identifier, **timing,
                                          "replication_bytes_dropped": dropped})
            # A promoted replica gets backups of its own, as RDS starts automated backups on promotion.
            self._in_background(f"{identifier}-base-backup", lambda: self._refresh_base_backup(inst))

    def on_restore_to_point_in_time(self, source_identifier: str, target_identifier: str,
                                    restore_time: float | datetime | None, use_latest: bool = False) -> None:
        """RestoreDBInstanceToPointInTime: a NEW instance from the base backup plus archived WAL."""
        with self._lock:
            source = self._instance(source_identifier)
            if target_identifier in self._instances:
                raise ChaosError(f"TargetDBInstanceIdentifier: {target_identifier} already exists; choose a new name")
            if isinstance(restore_time, datetime):
                restore_time = restore_time.timestamp()
            target_time = None if use_latest or restore_time is None else float(restore_time)
            backup = source.base_backup
            if backup is None:
                raise ChaosError(f"SourceDBInstanceIdentifier: {source_identifier} has no base backup yet; "
                                 "retry in a few seconds")
            if target_time is not None and target_time < backup.earliest_restorable_time:
                raise ChaosError(f"RestoreTime: {target_time:.3f} is before the earliest restorable time "
                                 f"{backup.earliest_restorable_time:.3f} of {source_identifier}; pick a later time")
            requested = time.time()
            if source.server is not None and source.server.is_running() and source.state == "available":
                force_archive(source.server, source.archive_dir)
            target = self._new_instance(source.workload, target_identifier, role="restored", region=source.region,
                                        zone=source.zone, db_name=source.db_name,
                                        master_username=source.master_username)
            target.server = self._recover_from_archive(target, backup, source.archive_dir, target_time)
            timing = self._hold_until_padded(target, "rds_restore", requested)
            self._record("rds_restored", {"source": source_identifier, "target": target_identifier,
                                          "restore_time": target_time, **timing})
            self._in_background(f"{target_identifier}-base-backup", lambda: self._refresh_base_backup(target))

    def _recover_from_archive(self, target: DbInstance, backup: BaseBackup, archive_dir: Path,
                              target_time: float | None) -> PgServer:
        server = self._new_server(target)
        server.init_from_copy(backup.path)
        attempts = [target_time, None] if target_time is not None else [None]
        for attempt_time in attempts:
            server.configure({**archive_settings(target.archive_dir), **recovery_settings(archive_dir, attempt_time)},
                             recovery=True)
            if self._run_recovery(server):
                return server
            if not recovery_ended_early(server):
                break
            # No archived commit is later than the target, so replaying all of the archive gives
            # exactly the database as of the target time: recover again without a target.
        raise ChaosError(f"postgresql: point-in-time restore {target.identifier} did not finish: "
                         f"{server.log_tail()}; see {server.log_file}")

    def _run_recovery(self, server: PgServer) -> bool:
        """Start a server in recovery; True once it has promoted, False if it exited or timed out."""
        try:
            server.start()
        except ChaosError:
            return False

        @retry(stop=stop_after_delay(RESTORE_WAIT_SECONDS), wait=wait_fixed(0.05),
               retry=retry_if_result(lambda state: state == "recovering"), retry_error_callback=lambda _: "timeout")
        def state() -> str:
            if not server.is_running():
                return "exited"
            try:
                return "recovering" if server.query("SELECT pg_is_in_recovery()")[0][0] else "promoted"
            except psycopg.Error:
                return "recovering"

        outcome = state()
        if outcome != "promoted":
            server.stop("immediate")
        return outcome == "promoted"

    def on_stop(self, identifier: str) -> None:
        """StopDBInstance: stop the instance's servers (clean shutdown)."""
        with self._lock:
            inst = self._instance(identifier)
            inst.state = "stopped"
            inst.endpoint.disconnect_all()
            self._cut_replica_links(inst)
            for server in (inst.server, inst.standby):
                if server is not None:
                    server.stop("fast")
            self._record("rds_stopped", {"identifier": identifier})

    def on_start(self, identifier: str) -> None:
        """StartDBInstance: start a stopped instance's servers again."""
        with self._lock:
            inst = self._instance(identifier)
            if inst.state != "stopped":
                return
            inst.state = "available"
            for server in (inst.server, inst.standby):
                if server is not None and not server.is_running():
                    server.start()
            self._record("rds_started", {"identifier": identifier})

    def on_delete(self, identifier: str) -> None:
        """DeleteDBInstance: stop the servers and close the endpoint (data removed at `close()`)."""
        with self._lock:
            inst = self._instances.get(identifier)
            if inst is None or inst.state == "deleted":
                return
            inst.state = "deleted"
            inst.endpoint.close()
            if inst.link is not None:
                inst.link.close()
            for server in (inst.server, inst.standby):
                if server is not None:
                    server.stop("immediate")
            self._record("rds_deleted", {"identifier": identifier})

    # ================================================================ snapshots (RDS snapshots, AWS Backup, archive)

    def snapshot(self, identifier: str, dest: Path) -> float:
        """A snapshot of the instance as it is now: a consistent base backup written to `dest`.

        `dest` must not exist; its parent must be writable by the servers' OS user (see
        `make_owned_dir`). Returns the lab time the snapshot is consistent at. Raises ChaosError
        when the instance cannot be read (stopped, crashed, its region down), as RDS fails the
        snapshot of an unavailable instance.
        """
        with self._lock:
            inst = self._instance(identifier)
            if inst.state != "available" or inst.region in self._regions_out or inst.server is None \
                    or not inst.server.is_running():
                raise ChaosError(f"DBInstanceIdentifier: {identifier} is not available "
                                 f"(state {inst.state}); snapshot an available instance")
            server = inst.server
        backup = take_base_backup(server, dest)  # outside the lock: a failover may run meanwhile
        self._record("rds_snapshot_taken", {"identifier": identifier, "path": str(dest)})
        return backup.earliest_restorable_time

    def restore_from_snapshot(self, snapshot_dir: Path, target_identifier: str, *, workload: str, region: str,
                              db_name: str, master_username: str) -> None:
        """A NEW instance whose data is the snapshot (RestoreDBInstanceFromDBSnapshot, AWS Backup restore)."""
        with self._lock:
            self._ensure_open()
            if target_identifier in self._instances and self._instances[target_identifier].state != "deleted":
                raise ChaosError(f"DBInstanceIdentifier: {target_identifier} already exists; choose a new name")
            self._instances.pop(target_identifier, None)
            started = time.monotonic()
            target = self._new_instance(workload, target_identifier, role="restored", region=region,
                                        zone=f"{region}a", db_name=db_name, master_username=master_username)
            server = self._new_server(target)
            server.init_from_copy(snapshot_dir)
            server.configure(archive_settings(target.archive_dir))
            server.start()
            target.server = server
            self._record("rds_restored_from_snapshot", {"target": target_identifier, "region": region,
                                                        "seconds": round(time.monotonic() - started, 3)})
            self._in_background(f"{target_identifier}-base-backup", lambda: self._refresh_base_backup(target))

    def copy_base_backup(self, identifier: str, dest: Path) -> float | None:
        """Copy the instance's newest base backup (taken at deploy, promotion or restore) to `dest`.

        RDS's first automated snapshot is taken when the instance is created; the deploy's base
        backup is exactly that, so copying it avoids a second backup (and its checkpoint) while a
        scenario starts. Returns the time the copy is consistent at, or None if there is none yet.
        """
        inst = self._instance(identifier)
        backup = inst.base_backup
        if backup is None:
            return None
        run_as_postgres(["cp", "-a", str(backup.path), str(dest)])
        return backup.earliest_restorable_time

    def describe(self, identifier: str) -> dict:
        """What a snapshot records about its instance: `{workload, region, db_name, master_username}`."""
        inst = self._instance(identifier)
        return {"workload": inst.workload, "region": inst.region, "db_name": inst.db_name,
                "master_username": inst.master_username}

    def dump_snapshot(self, snapshot_dir: Path, db_name: str, dest_file: Path) -> None:
        """`pg_dump -Fc` of `db_name` as the snapshot holds it: a throw-away server starts from a copy
        of the snapshot, is dumped and removed (the lab's archive export reads the snapshot, not the
        live instance)."""
        with self._lock:
            self._ensure_open()
            self._serial += 1
            name = f"export-{self._serial}"
        home = make_owned_dir(self.root / "_exports", mode=0o755, within=self.root)
        server = PgServer(name=name, bins=self.bins, data_dir=home / name, socket_dir=self.socket_dir,
                          log_file=home / f"{name}.log")
        with self._lock:
            self._servers.append(server)  # stopped by teardown too, should the lab stop mid-export
        try:
            server.init_from_copy(snapshot_dir)
            server.configure({})
            server.start()
            # The password from the 0600 passfile, never the command line (`ps` shows it to everyone).
            result = subprocess.run([self.bins("pg_dump"), "-Fc", "-f", str(dest_file), "-d",
                                     f"host={HOST} port={server.port} user={ADMIN_ROLE} dbname={_conn_value(db_name)} "
                                     f"passfile={TEMPLATES.passfile()}"],
                                    capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
            if result.returncode != 0:
                raise ChaosError(f"postgresql: pg_dump of the snapshot failed: {result.stderr.strip()[-200:]}")
        finally:
            server.stop("immediate")
            with self._lock:
                self._servers.remove(server)
            shutil.rmtree(home / name, ignore_errors=True)

    # ================================================================ faults

    def on_resource_fault(self, resource: str, active: bool) -> None:
        """Instance failure: crash the server serving the instance; on revert, bring it back.

        The lab does not fail over by itself here: the instance-failure runbook does
        (RebootDBInstance with ForceFailover), so the scenario measures the runbook's failover.
        """
        with self._lock:
            inst = self._find(resource)
            if inst is None or inst.server is None:
                return
            if active:
                inst.endpoint.disconnect_all()
                inst.server.crash()
                inst.crashed.add(inst.server.name)
                self._record("rds_instance_crashed", {"identifier": inst.identifier, "server": inst.server.name})
            else:
                self._recover_crashed(inst)

    def on_zone_outage(self, zone: str, active: bool) -> None:
        """An AZ outage: servers in `zone` crash; a Multi-AZ primary fails over to its standby by itself."""
        with self._lock:
            if not active:
                self._zones_out.discard(zone)
                for inst in self._live_instances():
                    self._recover_crashed(inst)
                return
            self._zones_out.add(zone)
            for inst in self._live_instances():
                if inst.standby is not None and inst.standby_zone == zone:
                    self._lose_standby(inst)
                if inst.server is not None and inst.zone == zone and inst.server.is_running():
                    inst.server.crash()
                    inst.crashed.add(inst.server.name)
                    inst.endpoint.disconnect_all()
                    self._record("rds_instance_crashed", {"identifier": inst.identifier, "zone": zone})
                    if inst.standby is not None:
                        self._in_background(f"{inst.identifier}-auto-failover",
                                            lambda inst=inst: self._automatic_failover(inst, zone))

    def on_region_outage(self, region: str, active: bool) -> None:
        """A region outage: its servers stop answering (crash), links into/out of it drop what they hold.

        Links drop first: that is instant, while crashing a server runs `pg_ctl` (tens to hundreds of
        milliseconds on a loaded machine), and WAL a link delivered meanwhile would reach the replica
        after the outage began, shrinking the measured RPO below the lag."""
        with self._lock:
            if active:
                self._regions_out.add(region)
            else:
                self._regions_out.discard(region)
            # Cutting links is instant, crashing a region's servers takes a while (longer on a
            # busy machine): WAL shipped meanwhile would shrink the measured RPO. So at the start
            # of an outage links go first; at its end servers come back first, then the links.
            steps = (self._region_links, self._region_servers)
            for step in (steps if active else reversed(steps)):
                step(region, active)
            self._record("rds_region_outage" if active else "rds_region_restored", {"region": region})

    def _region_links(self, region: str, active: bool) -> None:
        for inst in self._live_instances():
            if inst.link is not None and inst.source is not None:
                source_region = self._instances[inst.source].region
                if region in (source_region, inst.region):
                    down = bool({source_region, inst.region} & self._regions_out)
                    dropped = inst.link.set_down(down)
                    if down:
                        self._record("rds_replication_dropped", {"identifier": inst.identifier,
                                                                 "bytes_dropped": dropped})

    def _region_servers(self, region: str, active: bool) -> None:
        for inst in self._live_instances():
            if inst.region == region:
                inst.endpoint.set_down(active)
                if active:
                    for server in (inst.server, inst.standby):
                        if server is not None and server.is_running():
                            server.crash()
                            inst.crashed.add(server.name)
                else:
                    self._recover_crashed(inst)

    # ---- failover and recovery internals --------------------------------------------------------

    def _automatic_failover(self, inst: DbInstance, zone: str) -> None:
        """Multi-AZ: after the detection delay, promote the standby if the primary is still down."""
        lost_at = time.time()  # AWS's failover time counts from the loss of the primary
        time.sleep(self.failover_detection_seconds)
        with self._lock:
            if self._closed or inst.state != "available" or inst.server is None or inst.server.is_running():
                return
            if inst.standby is None or not inst.standby.is_running():
                self._record("rds_failover_impossible", {"identifier": inst.identifier, "zone": zone})
                return
            self._fail_over(inst, reason=f"zone-outage {zone}", old_stop_mode="immediate",
                            requested_at=lost_at)

    def _fail_over(self, inst: DbInstance, *, reason: str, old_stop_mode: str, requested_at: float) -> None:
        """Promote the standby; the endpoint and the cross-region replicas follow it."""
        assert inst.server is not None and inst.standby is not None
        old, old_zone = inst.server, inst.zone
        inst.switching = True
        try:
            self._cut_replica_links(inst)
            inst.endpoint.disconnect_all()
            old.stop(old_stop_mode)
            inst.standby.promote()
            inst.server, inst.zone = inst.standby, inst.standby_zone or inst.zone
            inst.standby, inst.standby_zone = None, old_zone
        finally:
            inst.switching = False
        inst.crashed.discard(old.name)
        timing = self._hold_until_padded(inst, "rds_failover", requested_at)
        # Replicas reconnect through their link, which now resolves to the new primary; with
        # recovery_target_timeline='latest' they follow the new timeline.
        self._cut_replica_links(inst)
        self._record("rds_failover", {"identifier": inst.identifier, "reason": reason, **timing,
                                      "new_zone": inst.zone})
        if old_zone not in self._zones_out:
            self._in_background(f"{inst.identifier}-replace-standby", lambda: self._replace_standby(inst))

    def _cut_replica_links(self, inst: DbInstance) -> None:
        """Disconnect the cross-region replicas of `inst`; they re-connect and re-request from where they are.

        Nothing is lost (undelivered WAL is streamed again). Needed before a clean shutdown: it
        waits for every replica to confirm the last WAL, which a paused or lagging link withholds.
        """
        for other in self._live_instances():
            if other.source == inst.identifier and other.link is not None:
                other.link.disconnect_all()

    def _lose_standby(self, inst: DbInstance) -> None:
        """The standby is gone: the primary stops waiting for it (RDS keeps the primary writable)."""
        assert inst.standby is not None
        inst.standby.crash()
        if inst.server is not None and inst.server.is_running():
            inst.server.update_settings({"synchronous_standby_names": "''"})
        inst.standby = None
        self._record("rds_standby_lost", {"identifier": inst.identifier})

    def _replace_standby(self, inst: DbInstance) -> None:
        """RDS rebuilds a lost standby; the lab takes a fresh base backup of the current primary."""
        with self._lock:
            if (self._closed or not inst.multi_az or inst.standby is not None or inst.state != "available"
                    or inst.server is None or not inst.server.is_running() or inst.standby_zone is None
                    or inst.standby_zone in self._zones_out or inst.region in self._regions_out):
                return
            self._attach_standby(inst, inst.standby_zone)
            self._record("rds_standby_replaced", {"identifier": inst.identifier, "zone": inst.standby_zone})

    def _recover_crashed(self, inst: DbInstance) -> None:
        """After a fault is reverted: restart what crashed if it still serves the instance, rebuild a standby."""
        if inst.region in self._regions_out or inst.state != "available":
            return
        server = inst.server
        if server is not None and server.name in inst.crashed and inst.zone not in self._zones_out:
            server.start()
            inst.crashed.discard(server.name)
            self._record("rds_instance_recovered", {"identifier": inst.identifier})
        standby = inst.standby
        if standby is not None and standby.name in inst.crashed and inst.standby_zone not in self._zones_out:
            standby.start()
            inst.crashed.discard(standby.name)
        # Whatever crashed and no longer serves the instance was replaced by a failover.
        current = {srv.name for srv in (inst.server, inst.standby) if srv is not None}
        inst.crashed &= current
        if inst.multi_az and inst.standby is None:
            self._in_background(f"{inst.identifier}-replace-standby", lambda: self._replace_standby(inst))

    def _refresh_base_backup(self, inst: DbInstance) -> None:
        with self._lock:
            if self._closed or inst.server is None or not inst.server.is_running():
                return
            dest = self._workload_dir(inst.workload) / f"{inst.identifier}.base-{self._serial}"
            self._serial += 1
            inst.base_backup = take_base_backup(inst.server, dest)

    def _in_background(self, name: str, work: Callable[[], None]) -> None:
        """Run `work` in a tracked thread; failures become events (the lab keeps serving)."""
        def guarded() -> None:
            try:
                work()
            except Exception as err:  # noqa: BLE001 - reported as a lab event, never lost
                if not self._closed:
                    self._record("rds_background_error", {"task": name, "error": str(err)})

        thread = threading.Thread(target=guarded, name=name, daemon=True)
        self._background = [t for t in self._background if t.is_alive()] + [thread]
        thread.start()

    # ---- lookups ----------------------------------------------------------------------------------

    def _instance(self, identifier: str) -> DbInstance:
        inst = self._instances.get(identifier)
        if inst is None or inst.state == "deleted":
            raise ChaosError(f"DBInstanceIdentifier: {identifier} has no PostgreSQL data plane; "
                             "deploy the inventory that declares it")
        return inst

    def _find(self, resource: str) -> DbInstance | None:
        """An instance named by identifier or by an ARN ending in `:db:<identifier>`."""
        return self._instances.get(resource.rsplit(":", 1)[-1])

    def _live_instances(self) -> list[DbInstance]:
        return [inst for inst in self._instances.values() if inst.state != "deleted"]

    def _ensure_open(self) -> None:
        if self._closed:
            raise ChaosError("postgresql: the data plane is closed; start a new lab")

    # ================================================================ teardown

    def reset(self) -> None:
        """Stop every server and forget every workload; the data plane stays usable (lab `reset`)."""
        self._teardown()
        with self._lock:
            for child in list(self.root.iterdir()):
                shutil.rmtree(child, ignore_errors=True)
            self._instances.clear()
            self._servers.clear()
            self._zones_out.clear()
            self._regions_out.clear()

    def close(self) -> None:
        """Stop every server and remove every data directory. Idempotent; safe from a `finally`."""
        if self._closed:
            return
        self._closed = True
        self._teardown()
        shutil.rmtree(self.root, ignore_errors=True)
        shutil.rmtree(self.socket_dir, ignore_errors=True)
        LEFTOVERS.discard_dir(self.root)
        LEFTOVERS.discard_dir(self.socket_dir)
        atexit.unregister(self.close)

    def _teardown(self) -> None:
        for thread in list(self._background):
            thread.join(timeout=30)
        with self._lock:
            for inst in self._instances.values():
                inst.endpoint.close()
                if inst.link is not None:
                    inst.link.close()
            # In parallel: each `pg_ctl stop -w` mostly waits for its postmaster to exit (0.1-0.15 s),
            # and a reset of the prod stack stops three of them.
            with ThreadPoolExecutor(max_workers=max(1, len(self._servers))) as pool:
                list(pool.map(_stop_now, self._servers))


def _stop_now(server: PgServer) -> None:
    try:
        server.stop("immediate", timeout=10)
    except Exception:  # noqa: BLE001 - the others are stopped all the same; kill is the fallback
        server.kill()


def _conn_value(value: str) -> str:
    """A libpq connection-string value, quoted (a database name may hold spaces or quotes)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _conninfo(port: int, application_name: str) -> str:
    # sslmode/gssencmode disabled: the link's protocol framing must see plain messages.
    return (f"host={HOST} port={port} user={ADMIN_ROLE} passfile={TEMPLATES.passfile()} "
            f"application_name={application_name} sslmode=disable gssencmode=disable connect_timeout=2")


def _check_reachable_by_servers(root: Path) -> None:
    """The servers run as `postgres`: every parent of the workdir must let that user through."""
    result = run_as_postgres(["test", "-w", str(root)], check=False)
    if result.returncode != 0:
        raise ChaosError(f"workdir: {root.parent} is not reachable by the `postgres` user; "
                         "use a world-traversable directory such as /tmp")
