"""The lab's state in one object: fault rules, emulations, the data plane, deploy and reset.

`Lab` owns every moving part and reacts to fault scopes: when a rule starts or stops a region
outage, the region's application endpoint goes down or up, replication in and out of the region
halts or resumes, and the PostgreSQL data plane is told (zone and resource scopes likewise). A
janitor thread drops expired rules so their effects end too.
"""
from __future__ import annotations

import dataclasses
import logging
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from chaos import heap
from chaos.lab import motostate
from chaos.lab.auth import LabCredentials
from chaos.lab.backup.lab import EMULATIONS as BACKUP_EMULATIONS, BackupLab
from chaos.lab.deploy import (MAX_REPLICATION_LAG_SECONDS, Deployer, DeployError, DeploySettings, LabParts,
                              check_deploy_request, check_duration, lab_client)
from chaos.lab.ebs import EbsLab
from chaos.lab.efs import EfsLab
from chaos.lab.events import EventLog
from chaos.lab.faults import FaultStore, OutageScopes, RequestContext
from chaos.lab.filestore import FileShares
from chaos.lab.health import HealthMonitor
from chaos.lab.pitr import PointInTimeLogs
from chaos.lab.region_switch import RegionSwitch
from chaos.lab.replication import ReplicationEngine
from chaos.lab.route53 import Route53Answers
from chaos.lab.scratch import LEFTOVERS

log = logging.getLogger(__name__)
JANITOR_PERIOD_SECONDS = 0.2


class Lab:
    def __init__(self, workdir: Path | None = None, time_factor: float = 1.0):
        self.workdir = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="securecart-lab-"))
        self._owns_workdir = workdir is None
        if self._owns_workdir:  # PostgreSQL runs as `postgres` and must traverse into it
            LEFTOVERS.add_dir(self.workdir)
            self.workdir.chmod(0o755)
        self.default_time_factor = time_factor
        self.credentials = LabCredentials.generate()  # chaos.lab.auth: token + AWS keys of this lab
        self.endpoint = ""  # set by the server once it listens
        self.events = EventLog()
        self.faults = FaultStore()
        self.context = RequestContext()
        self.replication = ReplicationEngine(on_event=self.events.record)
        self.pitr = PointInTimeLogs()
        self.health = HealthMonitor(on_event=self.events.record)
        self.route53 = Route53Answers(self.health)
        keys = (self.credentials.aws_access_key_id, self.credentials.aws_secret_access_key)
        self.region_switch = RegionSwitch(endpoint=lambda: self.endpoint, time_factor=self._time_factor,
                                          on_event=self.events.record, resolve=self.route53.resolve, keys=keys)
        self._data_plane: Any = None
        self._data_plane_error: str | None = None
        self._scopes = OutageScopes()
        # EFS file systems and EBS volumes: directory trees served on /_lab/files/ (filestore.py)
        self.shares = FileShares(self.workdir / "shares", lambda: self._scopes)
        self.efs = EfsLab(self.shares, lambda: self._scopes.regions, self.events.record)
        self.ebs = EbsLab(self.shares, self.workdir / "ebs-snapshots",
                          lambda service, region: lab_client(self.endpoint, keys, service, region),
                          lambda: self._scopes.regions, self.events.record)
        self.backup = BackupLab(self.workdir, client=lambda service, region: lab_client(self.endpoint, keys, service, region),
                                data_plane=lambda: self._data_plane, bucket_regions=self.context.bucket_regions,
                                faults=self.faults, scopes=lambda: self._scopes, on_event=self.events.record,
                                time_factor=time_factor, shares=self.shares, ebs=self.ebs,
                                hold_resource=self.hold_restored_resource)
        self._last_deploy: tuple[dict[str, Any], DeploySettings] | None = None
        self.timing = DeploySettings().timing  # of the current deployment (chaos.lab.timing)
        self._restoring_tables: dict[tuple[str, str], float] = {}  # (region, table) -> ACTIVE at
        self._deploy_lock = threading.Lock()
        self._stop = threading.Event()
        self.faults.on_change(self._apply_scopes)
        self._janitor = threading.Thread(target=self._expire_rules, name="lab-janitor", daemon=True)
        self._janitor.start()

    # --- the PostgreSQL data plane (H4), optional -----------------------------------------------------

    def data_plane(self) -> Any | None:
        """The data plane, started on first use; None (with the reason kept) if it cannot run here."""
        if self._data_plane is None and self._data_plane_error is None:
            try:
                from chaos.lab.postgres.dataplane import PostgresDataPlane
                # No workdir: the data plane keeps its data directories on tmpfs. On this VM's disk a
                # deploy takes ~6 s instead of ~1 s, paid on every scenario reset; durability against a
                # killed server is the same (fsync stays on), which is what the scenarios exercise.
                self._data_plane = PostgresDataPlane()
            except Exception as error:  # missing module or PostgreSQL binaries: RDS stays metadata-only
                self._data_plane_error = f"{type(error).__name__}: {error}"
                log.warning("PostgreSQL data plane unavailable: %s", self._data_plane_error)
        return self._data_plane

    @property
    def running_data_plane(self) -> Any | None:
        """The data plane if a deploy started it (never starts one)."""
        return self._data_plane

    def _time_factor(self) -> float:
        return self._last_deploy[1].time_factor if self._last_deploy is not None else self.default_time_factor

    @property
    def regions(self) -> list[str]:
        if self._last_deploy is None:
            return []
        inv = self._last_deploy[0]
        return sorted({r for r in (inv.get("primary_region"), inv.get("dr_region")) if r})

    # --- deploy / reset -----------------------------------------------------------------------------------

    def deploy(self, inventory: Any, replication_lag_seconds: Any, time_factor: Any,
               profile: Any = None) -> dict[str, Any]:
        """Replace whatever is deployed with `inventory`. Everything is checked first (schema, names
        that become paths or identifiers, settings, timing profile): a refused deploy leaves the
        running lab as it was."""
        settings = check_deploy_request(inventory, replication_lag_seconds,
                                        self.default_time_factor if time_factor is None else time_factor)
        if profile is not None and not isinstance(profile, str):
            raise DeployError('profile: must be "aws" or "mechanics"')
        settings = dataclasses.replace(settings, profile=profile or "mechanics")
        settings.timing  # noqa: B018 -- an unknown profile fails here, before the teardown
        with self._deploy_lock:
            self._teardown()
            parts = LabParts(endpoint=self.endpoint,
                             keys=(self.credentials.aws_access_key_id, self.credentials.aws_secret_access_key),
                             replication=self.replication, pitr=self.pitr,
                             health=self.health, route53=self.route53, context=self.context,
                             region_switch=self.region_switch,
                             data_plane=self.data_plane,
                             running_data_plane=lambda: self._data_plane,
                             efs=self.efs, ebs=self.ebs)
            self.backup.clock.set_factor(settings.time_factor)  # vault-lock grace periods set during deploy use it
            try:
                summary = Deployer(parts, inventory, settings).deploy()
                summary.declared_not_emulated += self.backup.deploy(summary.inventory, settings.time_factor,
                                                                    settings.timing.backup_restore_pads())
                summary.emulations += BACKUP_EMULATIONS
            except BaseException:
                self._teardown()  # no half-deployed lab; `reset` still redeploys the last good one
                raise
            self._last_deploy = (inventory, settings)
            self.timing = settings.timing
            heap.settle()  # a deploy runs before the scenario's canaries: no measurement pays for it
            self.events.record("deployed", stack=inventory.get("stack"),
                               resources=len(summary.created),
                               declared_not_emulated=len(summary.declared_not_emulated))
            return summary.to_json()

    def reset(self, time_factor: float | None = None) -> dict[str, Any]:
        """Redeploy the last inventory; `time_factor` changes the scale (a scenario's own factor)."""
        if self._last_deploy is None:
            raise DeployError("reset: nothing deployed yet; POST /_lab/deploy first")
        inventory, settings = self._last_deploy
        return self.deploy(inventory, settings.replication_lag_seconds,
                           settings.time_factor if time_factor is None else time_factor, settings.profile)

    def _teardown(self) -> None:
        """Forget every fault, emulation and resource (PostgreSQL included); keep endpoints and ports."""
        self.faults.clear()
        self.region_switch.clear()  # before the data plane resets: a running execution stops first
        self.replication.clear()
        self.pitr.clear()
        self.health.clear()
        self.route53.record_regions.clear()
        self.context.bucket_regions.clear()
        self.context.zone_members.clear()
        self._restoring_tables.clear()
        self.efs.clear()
        self.ebs.clear()
        self.shares.clear()
        self.backup.clear()
        if self._data_plane is not None:
            self._data_plane.reset()
        motostate.reset_all()

    # --- padding to AWS's durations (chaos.lab.timing) ----------------------------------------------

    def hold_restored_table(self, region: str, table: str, requested_at: float) -> dict[str, Any]:
        """A DynamoDB restore the lab did at once stays CREATING until AWS's figure has passed."""
        real = time.time() - requested_at
        pad = self.timing.pad("dynamodb_restore")
        if pad <= real:
            return {"seconds": round(real, 3)}
        self._restoring_tables[(region, table)] = requested_at + pad
        return {"seconds": round(real, 3), "padded": True, "padded_to_seconds": round(pad, 3)}

    def hold_restored_resource(self, arn: str, until: float) -> None:
        """An AWS Backup restore job still RUNNING (padded, chaos.lab.backup.engine): its new table
        answers CREATING, its new DB instance refuses clients, until `until` (0: released)."""
        parts = arn.split(":")
        if len(parts) < 6:
            return
        service, region, resource = parts[2], parts[3], ":".join(parts[5:])
        if service == "dynamodb" and resource.startswith("table/"):
            if until > 0:
                self._restoring_tables[(region, resource.split("/", 1)[1])] = until
            else:
                self._restoring_tables.pop((region, resource.split("/", 1)[1]), None)
        elif service == "rds" and resource.startswith("db:") and self._data_plane is not None:
            self._data_plane.hold_unavailable(resource.split(":", 1)[1], until)

    def table_restoring(self, region: str, table: str) -> bool:
        until = self._restoring_tables.get((region, table))
        return until is not None and time.time() < until

    # --- replication control (/_lab/replication) ----------------------------------------------------------

    def replication_links(self) -> list[dict[str, Any]]:
        links = self.replication.links() + self.efs.links()
        if self._data_plane is not None:
            links += self._data_plane.links()
        return links

    def configure_replication(self, workload: str | None, paused: bool | None,
                              lag_seconds: float | None) -> list[dict[str, Any]]:
        known = self.replication.workloads() | {l["workload"] for l in self.replication_links()}
        if workload is not None and (not isinstance(workload, str) or workload not in known):
            raise DeployError(f"workload: no replicated workload {str(workload)[:64]!r}; use one of {sorted(known)}")
        if lag_seconds is not None:
            lag_seconds = check_duration("lag_seconds", lag_seconds, MAX_REPLICATION_LAG_SECONDS)
        self.replication.configure(workload, paused, lag_seconds)
        self.efs.configure(workload, paused, lag_seconds)
        if self._data_plane is not None:
            if paused is not None:
                self._data_plane.set_paused(workload, paused)
            if lag_seconds is not None:
                self._data_plane.set_lag(workload, lag_seconds)
        self.events.record("replication_configured", workload=workload, paused=paused,
                           lag_seconds=lag_seconds)
        return self.replication_links()

    def lab_events(self, since: float) -> list[dict[str, Any]]:
        events = self.events.since(since)
        if self._data_plane is not None:
            events += self._data_plane.events(since)
        return sorted(events, key=lambda event: event["t"])

    # --- fault scopes ----------------------------------------------------------------------------------

    def _apply_scopes(self, scopes: OutageScopes) -> None:
        before, self._scopes = self._scopes, scopes
        data_plane = self._data_plane
        # Replication stops first: it is instant, while stopping a region's PostgreSQL processes
        # takes a while, and changes shipped meanwhile would shrink the measured RPO.
        self.replication.set_blocked_regions(scopes.regions)
        for region in scopes.regions ^ before.regions:
            active = region in scopes.regions
            self.health.set_region_down(region, active)
            self.events.record("region_outage_started" if active else "region_outage_ended", region=region)
            if data_plane is not None:
                data_plane.on_region_outage(region, active)
        for zone in scopes.zones ^ before.zones:
            self.events.record("zone_outage_started" if zone in scopes.zones else "zone_outage_ended", zone=zone)
            if data_plane is not None:
                data_plane.on_zone_outage(zone, zone in scopes.zones)
        for resource in scopes.resources ^ before.resources:
            self.events.record("resource_fault_started" if resource in scopes.resources
                               else "resource_fault_ended", resource=resource)
            if data_plane is not None:
                data_plane.on_resource_fault(resource, resource in scopes.resources)

    def _expire_rules(self) -> None:
        while not self._stop.wait(JANITOR_PERIOD_SECONDS):
            try:
                self.faults.purge_expired()
            except Exception:  # keep expiring; a data-plane hiccup must not leave rules forever
                log.exception("expiring fault rules failed")

    # --- shutdown -----------------------------------------------------------------------------------------

    def close(self) -> None:
        self._stop.set()
        self._janitor.join(timeout=5)
        try:
            self.backup.close()
            if self._data_plane is not None:
                self._data_plane.close()
        finally:
            self.replication.close()
            self.efs.close()
            self.ebs.close()
            self.health.close()
            if self._owns_workdir:
                shutil.rmtree(self.workdir, ignore_errors=True)
                LEFTOVERS.discard_dir(self.workdir)

