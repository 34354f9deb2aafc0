"""The five scenarios: which workloads each applies to (and why it skips the rest), the faults it
injects, how the failure is detected and which runbook recovers.

| scenario             | applies to                                   | fault                           | runbook |
|----------------------|----------------------------------------------|---------------------------------|---------|
| region-outage        | dynamodb/s3/rds with a DR-region replica     | primary region down             | the stack's Region switch plan, else regional failover |
| az-outage            | rds Multi-AZ                                 | the primary's AZ down           | await automatic Multi-AZ failover |
| instance-failure     | rds Multi-AZ                                 | the primary instance crashes    | reboot with failover |
| replication-pause    | dynamodb/s3/rds with a DR-region replica     | replication paused, then region down | regional failover |
| accidental-deletion  | dynamodb (PITR), s3 (versioned), rds (PITR)  | canary records (or table) deleted | point-in-time restore / version restore |
"""
from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Any, Callable

from chaos.faults.base import Fault
from chaos.faults.deletion import AccidentalDeletion
from chaos.faults.outages import AzOutage, InstanceFailure, RegionOutage
from chaos.faults.replication import ReplicationPause
from chaos.runbooks import detection, multi_az, region_switch, regional, restore
from chaos.runbooks.context import RunbookContext
from chaos.targets.base import (ACCIDENTAL_DELETION, AZ_OUTAGE, INSTANCE_FAILURE, REGION_OUTAGE,
                                REPLICATION_PAUSE, Target)
from chaos.workload.stores import CANARY_KINDS, RecordStream, primary_store, replica_stores


@dataclass(frozen=True)
class FaultPlan:
    """The faults of one scenario run, in injection order; `hold_seconds` is how long to wait
    after the preparatory ones (the replication pause) before the interrupting ones."""

    preparatory: list[Fault]
    interrupting: list[Fault]
    hold_seconds: float = 0.0


@dataclass(frozen=True)
class FaultInputs:
    target: Target
    run_id: str
    scenario: str
    workloads: dict[str, dict[str, Any]]     # the applicable workloads
    primary_region: str
    pause_seconds: float
    deletion_mode: str
    ttl_seconds: float


def _no_canary(workload: dict[str, Any]) -> str | None:
    if workload["kind"] not in CANARY_KINDS:
        return (f"{workload['kind']} has no canary (the canaries write DynamoDB items, S3 objects "
                f"and PostgreSQL rows; the lab has no {workload['kind'].upper()} data plane "
                "either), so there is nothing to measure")
    return None


def _dr_replica(workload: dict[str, Any]) -> str | None:
    if not any(s.region == workload["dr_region"] for s in replica_stores(workload)):
        return (f"{workload['strategy']} keeps no live replica in {workload['dr_region']}: it "
                "recovers from AWS Backup copies, which the lab declares but does not emulate")
    return None


class Scenario(abc.ABC):
    name: str
    summary: str
    requires: frozenset[str]  # the target capabilities (fault names) it needs

    @abc.abstractmethod
    def skip_reason(self, workload: dict[str, Any]) -> str | None:
        """None when the scenario applies to `workload`, else why it does not."""

    @abc.abstractmethod
    def plan_faults(self, inputs: FaultInputs) -> FaultPlan:
        """The faults to inject over the applicable workloads."""

    @abc.abstractmethod
    def detect(self, ctx: RunbookContext, witness_missing: Callable[[], bool]) -> str:
        """Wait (bounded) until the failure is visible; journal `detected`."""

    @abc.abstractmethod
    def recover(self, ctx: RunbookContext, stream: RecordStream) -> None:
        """Run the runbook; journal `runbook_started` and `failover_done`."""


class RegionOutageScenario(Scenario):
    name = REGION_OUTAGE
    summary = "every service of the primary region fails; fail over to the DR region"
    requires = frozenset({REGION_OUTAGE})

    def skip_reason(self, workload: dict[str, Any]) -> str | None:
        return _no_canary(workload) or _dr_replica(workload)

    def plan_faults(self, inputs: FaultInputs) -> FaultPlan:
        return FaultPlan([], [RegionOutage(inputs.target, inputs.run_id, inputs.primary_region,
                                           ttl_seconds=inputs.ttl_seconds)])

    def detect(self, ctx: RunbookContext, witness_missing: Callable[[], bool]) -> str:
        return detection.by_health_check(ctx)

    def recover(self, ctx: RunbookContext, stream: RecordStream) -> None:
        # The stack's own Region switch plan where it declares one: what AWS would run.
        if region_switch.declared(ctx.inventory):
            region_switch.fail_over_by_plan(ctx)
        else:
            regional.fail_over_to_dr(ctx)


class ReplicationPauseScenario(RegionOutageScenario):
    name = REPLICATION_PAUSE
    summary = ("replication is paused for --pause-seconds, then the primary region fails: the "
               "RPO grows with the pause")
    requires = frozenset({REPLICATION_PAUSE, REGION_OUTAGE})

    def plan_faults(self, inputs: FaultInputs) -> FaultPlan:
        pauses: list[Fault] = [ReplicationPause(inputs.target, inputs.run_id, name)
                               for name in inputs.workloads]
        outage = RegionOutage(inputs.target, inputs.run_id, inputs.primary_region,
                              ttl_seconds=inputs.ttl_seconds)
        return FaultPlan(pauses, [outage], hold_seconds=inputs.pause_seconds)


def _multi_az_rds(workload: dict[str, Any]) -> str | None:
    if (reason := _no_canary(workload)) is not None:
        return reason
    if workload["kind"] != "rds":
        return (f"{workload['kind']} is a regional service spread over AZs by AWS: there is no "
                "instance to fail over")
    if not workload["stores"]["primary"].get("multi_az"):
        return "the DB instance is not Multi-AZ: it has no standby to fail over to"
    return None


class AzOutageScenario(Scenario):
    name = AZ_OUTAGE
    summary = "the primary DB instance's availability zone fails; RDS Multi-AZ fails over"
    requires = frozenset({AZ_OUTAGE})

    def skip_reason(self, workload: dict[str, Any]) -> str | None:
        reason = _multi_az_rds(workload)
        if reason is None and not workload["stores"]["primary"].get("availability_zone"):
            return "the inventory gives no availability_zone for the primary instance"
        return reason

    def plan_faults(self, inputs: FaultInputs) -> FaultPlan:
        zones = sorted({w["stores"]["primary"]["availability_zone"]
                        for w in inputs.workloads.values()})
        return FaultPlan([], [AzOutage(inputs.target, inputs.run_id, zone,
                                       ttl_seconds=inputs.ttl_seconds) for zone in zones])

    def detect(self, ctx: RunbookContext, witness_missing: Callable[[], bool]) -> str:
        return detection.by_canary_failures(ctx)

    def recover(self, ctx: RunbookContext, stream: RecordStream) -> None:
        multi_az.await_automatic_failover(ctx)


class InstanceFailureScenario(Scenario):
    name = INSTANCE_FAILURE
    summary = "the primary DB instance crashes; reboot with failover to the Multi-AZ standby"
    requires = frozenset({INSTANCE_FAILURE})

    def skip_reason(self, workload: dict[str, Any]) -> str | None:
        return _multi_az_rds(workload)

    def plan_faults(self, inputs: FaultInputs) -> FaultPlan:
        return FaultPlan([], [InstanceFailure(inputs.target, inputs.run_id,
                                              w["stores"]["primary"]["identifier"], workload=name,
                                              ttl_seconds=inputs.ttl_seconds)
                              for name, w in inputs.workloads.items()])

    def detect(self, ctx: RunbookContext, witness_missing: Callable[[], bool]) -> str:
        return detection.by_canary_failures(ctx)

    def recover(self, ctx: RunbookContext, stream: RecordStream) -> None:
        multi_az.reboot_with_failover(ctx)


class AccidentalDeletionScenario(Scenario):
    name = ACCIDENTAL_DELETION
    summary = "the canary's orders are deleted by mistake; restore to just before the deletion"
    requires = frozenset({ACCIDENTAL_DELETION})

    def skip_reason(self, workload: dict[str, Any]) -> str | None:
        reason = _no_canary(workload)
        if reason:
            return reason
        stores = workload["stores"]
        if workload["kind"] == "dynamodb" and not stores["table"].get("pitr"):
            return "the table has no point-in-time recovery to restore from"
        if workload["kind"] == "s3" and not stores["bucket"].get("versioning"):
            return "the bucket is not versioned: deleted objects cannot be restored"
        if workload["kind"] == "rds" and not stores["primary"].get("backup_retention_days"):
            return "the instance keeps no automated backups: no point-in-time restore"
        return None

    def plan_faults(self, inputs: FaultInputs) -> FaultPlan:
        faults: list[Fault] = []
        for name, workload in inputs.workloads.items():
            mode = "items" if workload["kind"] == "s3" else inputs.deletion_mode
            faults.append(AccidentalDeletion(
                inputs.target, inputs.run_id, workload_name=name, workload=workload,
                store=primary_store(workload),
                stream=RecordStream("canary", inputs.run_id, inputs.scenario), mode=mode))
        return FaultPlan([], faults)

    def detect(self, ctx: RunbookContext, witness_missing: Callable[[], bool]) -> str:
        return detection.by_missing_data(ctx, witness_missing)

    def recover(self, ctx: RunbookContext, stream: RecordStream) -> None:
        kind = ctx.workload["kind"]
        if kind == "dynamodb":
            restore.restore_dynamodb_table(ctx)
        elif kind == "s3":
            restore.remove_s3_delete_markers(ctx, stream)
        else:
            restore.restore_rds_instance(ctx)


SCENARIOS: dict[str, Scenario] = {s.name: s for s in (
    RegionOutageScenario(), AzOutageScenario(), InstanceFailureScenario(),
    ReplicationPauseScenario(), AccidentalDeletionScenario())}
