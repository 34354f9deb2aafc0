"""Scenarios that prove the backups by restoring them.

| scenario            | fault                                         | detection                | runbook |
|---------------------|-----------------------------------------------|--------------------------|---------|
| restore-drill       | the app is taken off its store for the drill  | drill start              | restore the newest point of each vault (primary, DR) side by side, validate each against the canary, switch to the DR one |
| ransomware          | note written, records deleted, recovery points and snapshots attacked | a witness order gone | point-in-time restore where the kind has one, else the newest surviving point (primary vault, else DR) |
| backup-job-failure  | the resource's backup jobs fail; one is started | NumberOfBackupJobsFailed alarm on its SNS topic | start a new backup once the fault is cleared; steady state = a completed backup since the fault |

A drill measures RTO = restore + validation (the slower vault), and RPO = drill start - the newest
write the DR copy holds, which is the recovery point's age; each vault's restore time, age and
validation are in the report's notes. Before the fault every workload gets a recovery
point in the primary vault and its copy in the DR vault (on demand, as the plan's rule and copy
action make them on schedule; the journal says when).
"""
from __future__ import annotations

import time
from typing import Any, Callable

from concurrent.futures import ThreadPoolExecutor

from chaos.faults.backup import RANSOMWARE, RESTORE_DRILL, BackupJobFailure, DrillCutover, Ransomware
from chaos.journal import NOTE, WRITE_ACKED, Journal
from chaos.runbooks import backup, detection
from chaos.runbooks.context import RunbookContext, RunbookError
from chaos.scenarios.base import FaultInputs, FaultPlan, Scenario, for_each_run
from chaos.scenarios.regional import bounded_wait
from chaos.stores.base import RecordStream, StoreRef
from chaos.targets.base import ACCIDENTAL_DELETION, BACKUP_JOB_FAILURE, Target
from chaos.targets.inventory import Inventory, Workload


def _no_backup(workload: Workload) -> str | None:
    if workload.stores.backup_resource_type is None:
        return f"AWS Backup does not protect {workload.kind}"
    if not workload.backup_plan:
        return f"{workload.name} is in no AWS Backup plan: there is no recovery point to restore"
    return None


def _take_points(scenario: str, target: Target, inventory: Inventory, runs: list[Any],
                 journal: Journal, budget_seconds: float) -> None:
    def take(run: Any) -> None:
        started = time.time()
        made = backup.take_copy(target, inventory, run.workload, run.routing.current,
                                wait=bounded_wait(budget_seconds))
        journal.record(NOTE, scenario, run.name, t=started,
                       text=f"recovery point made on demand before the fault (on AWS the plan's "
                            f"rule makes it on schedule): {made['point']}, DR copy {made.get('copy')}")
    for_each_run(runs, take)


def _validate(ctx: RunbookContext, restored: StoreRef, stream: RecordStream, created: float) -> str:
    """The restored copy holds every canary write acknowledged before the point was taken."""
    present = ctx.workload.stores.audit(ctx.target, restored, stream)
    expected = {e.data["seq"] for e in ctx.journal.events()
                if e.kind == WRITE_ACKED and e.workload == ctx.workload_name
                and e.scenario == ctx.scenario and e.t <= created}
    missing = sorted(expected - present)
    if missing:
        raise RunbookError(f"validation of {restored}: {len(missing)} of {len(expected)} writes "
                           f"acknowledged before the recovery point are missing (first {missing[:5]})")
    return f"validated: all {len(expected)} writes acknowledged before the point are in {restored}"


def _epoch(value: Any) -> float:
    return value.timestamp() if hasattr(value, "timestamp") else float(value)


class RestoreDrillScenario(Scenario):
    name = RESTORE_DRILL
    summary = ("restore the newest recovery point of each vault (primary and DR) into a new "
               "resource, validate it against the canary, switch the application to the DR one")
    requires = frozenset({ACCIDENTAL_DELETION})   # API calls only

    def applies_to(self, workload: Workload) -> str | None:
        return _no_backup(workload)

    def before_fault(self, *, target: Target, inventory: Inventory, runs: list[Any],
                     journal: Journal, budget_seconds: float) -> None:
        _take_points(self.name, target, inventory, runs, journal, budget_seconds)
        for run in runs:  # the drill repoints the application itself; DNS stays on the primary
            run.probe.follow_dns = run.detector.follow_dns = False

    def plan_faults(self, inputs: FaultInputs) -> FaultPlan:
        routings = inputs.routings or {}
        return FaultPlan([], [DrillCutover(inputs.target, inputs.run_id, workload_name=name,
                                           routing=routings[name]) for name in inputs.workloads])

    def detect(self, ctx: RunbookContext, witness_missing: Callable[[], bool]) -> str:
        return detection.announced(ctx, "restore drill started")

    def recover(self, ctx: RunbookContext, stream: RecordStream) -> None:
        """Both vaults restored side by side; each one's restore time, point age and validation
        is journaled; the application ends on the DR vault's copy (the harder path: a copy in
        the other region)."""
        source = ctx.routing.history[0]
        ctx.started(f"restore-drill-{ctx.workload.kind}")
        regions = {"primary": source.region, "DR": ctx.workload.dr_region}
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="drill") as pool:
            futures = {vault: pool.submit(self._restore_one, ctx, stream, source, vault, region)
                       for vault, region in regions.items()}
            restored = {vault: future.result() for vault, future in futures.items()}
        ctx.routing.switch(restored["DR"])
        ctx.done(f"application switched to the DR vault's restored copy {restored['DR']}")

    @staticmethod
    def _restore_one(ctx: RunbookContext, stream: RecordStream, source: StoreRef, vault: str,
                     region: str) -> StoreRef:
        point = backup.newest_point(ctx.target, ctx.inventory, ctx.workload, source, region)
        if point is None:
            raise RunbookError(f"no completed recovery point of {source} in the {region} vault")
        # A DR copy is as old as the point it was copied from.
        source_created = backup.source_created(ctx.target, point, region)
        if source_created is None:
            raise RunbookError(f"the source of {point['RecoveryPointArn']} is unknown: cannot validate")
        started = time.time()
        restored = backup.restore_point(ctx, point, region, source, suffix=vault.lower())
        took = time.time() - started
        validation = _validate(ctx, restored, stream, source_created)
        ctx.note(f"{vault} vault ({region}): restored {point['RecoveryPointArn']} into {restored} "
                 f"in {took:.3f} s; recovery point age at the drill "
                 f"{ctx.fault_time - source_created:.3f} s; {validation}")
        return restored


class RansomwareScenario(Scenario):
    name = RANSOMWARE
    summary = ("with the application's credentials, an attacker deletes the data and attacks the "
               "recovery points and snapshots; restore the newest surviving point")
    requires = frozenset({ACCIDENTAL_DELETION})

    def applies_to(self, workload: Workload) -> str | None:
        return _no_backup(workload)

    def before_fault(self, *, target: Target, inventory: Inventory, runs: list[Any],
                     journal: Journal, budget_seconds: float) -> None:
        _take_points(self.name, target, inventory, runs, journal, budget_seconds)

    def plan_faults(self, inputs: FaultInputs) -> FaultPlan:
        assert inputs.inventory is not None
        return FaultPlan([], [Ransomware(inputs.target, inputs.run_id, workload_name=name,
                                         inventory=inputs.inventory, workload=workload,
                                         store=inputs.app_stores[name],
                                         stream=RecordStream("canary", inputs.run_id, inputs.scenario))
                              for name, workload in inputs.workloads.items()])

    def detect(self, ctx: RunbookContext, witness_missing: Callable[[], bool]) -> str:
        return detection.by_missing_data(ctx, witness_missing)

    def recover(self, ctx: RunbookContext, stream: RecordStream) -> None:
        """Where the kind restores to a point in time (DynamoDB and RDS PITR, S3 versions),
        to just before the attack: the attacker deleted data, not the continuous backups.
        Otherwise the newest recovery point that survived the attack."""
        stores = ctx.workload.stores
        if stores.why_no_point_in_time_restore() is None and not stores.deletion_restores_from_backup:
            stores.restore_point_in_time(ctx, stream)
            return
        source = ctx.routing.history[0]
        ctx.started(f"ransomware-restore-{ctx.workload.kind}")
        for region in (source.region, ctx.workload.dr_region):
            point = backup.newest_point(ctx.target, ctx.inventory, ctx.workload, source, region)
            if point is None:
                ctx.note(f"no surviving recovery point of {source} in the {region} vault")
                continue
            restored = backup.restore_point(ctx, point, region, source)
            ctx.routing.switch(restored)
            ctx.done(f"restored the surviving {point['RecoveryPointArn']} ({region}) into {restored}; "
                     "application switched", at=ctx.last_observed_at)
            return
        raise RunbookError(f"no recovery point of {source} survived in any vault")


class BackupJobFailureScenario(Scenario):
    name = BACKUP_JOB_FAILURE
    summary = ("the workload's backup jobs fail; time until the NumberOfBackupJobsFailed alarm "
               "reaches its SNS topic, then until a backup completes again")
    requires = frozenset({BACKUP_JOB_FAILURE})

    def applies_to(self, workload: Workload) -> str | None:
        return _no_backup(workload)

    def before_fault(self, *, target: Target, inventory: Inventory, runs: list[Any],
                     journal: Journal, budget_seconds: float) -> None:
        alarms = (inventory.raw.get("monitoring") or {}).get("backup_alarms") or []
        for run in runs:
            region = run.routing.current.region
            alarm = next((a for a in alarms if a.get("region") == region
                          and a.get("metric") == "NumberOfBackupJobsFailed"), None)
            if alarm is None:
                raise RunbookError(f"{run.name}: the inventory declares no NumberOfBackupJobsFailed "
                                   f"alarm in {region} (monitoring.backup_alarms)")
            queue = _subscribe(target, region, alarm["topic_arns"][0], f"{run.name}-{int(time.time())}")
            run.state["alarm_watch"] = (alarm["name"], region, queue)
            run.probe.extra_check = _backup_since(target, inventory, run.workload,
                                                  run.routing.current, time.time())

    def plan_faults(self, inputs: FaultInputs) -> FaultPlan:
        assert inputs.inventory is not None
        return FaultPlan([], [BackupJobFailure(inputs.target, inputs.run_id, workload_name=name,
                                               inventory=inputs.inventory, workload=workload,
                                               store=inputs.app_stores[name])
                              for name, workload in inputs.workloads.items()])

    def detect(self, ctx: RunbookContext, witness_missing: Callable[[], bool]) -> str:
        return detection.by_alarm(ctx)

    def recover(self, ctx: RunbookContext, stream: RecordStream) -> None:
        """The operator clears the cause (the fault rule) and runs the backup again."""
        ctx.started("backup-job-retry")
        for fault in ctx.faults:
            fault.revert()
        made = backup.take_copy(ctx.target, ctx.inventory, ctx.workload, ctx.routing.current,
                                wait=ctx.wait_until, copy=False)
        ctx.done(f"backup job retried: {made['point']} COMPLETED", at=ctx.last_observed_at)


def _subscribe(target: Target, region: str, topic_arn: str, name: str) -> str:
    """An SQS queue subscribed to the alarm's topic: how the harness sees the notification."""
    sqs = target.client("sqs", region)
    queue_url = sqs.create_queue(QueueName=f"chaos-alarm-{name}"[:80])["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url,
                                         AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    target.client("sns", region).subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn,
                                           Attributes={"RawMessageDelivery": "true"})
    return queue_url


def _backup_since(target: Target, inventory: Inventory, workload: Workload, store: StoreRef,
                  since: float) -> Callable[[], tuple[bool, str]]:
    """Steady state of backup-job-failure: a backup of the store completed since the stage was
    set (just before the fault)."""
    resource = workload.stores.resource_arn(store, backup.account_of(inventory))

    def check() -> tuple[bool, str]:
        jobs = target.client("backup", store.region).list_backup_jobs(
            ByResourceArn=resource, ByState="COMPLETED")["BackupJobs"]
        if any(_epoch(j.get("CompletionDate") or 0) >= since for j in jobs):
            return True, "a backup completed since the fault"
        return False, f"no backup of {resource} completed since the fault"
    return check


__all__ = ["BackupJobFailureScenario", "RansomwareScenario", "RestoreDrillScenario"]
