"""The entry point: a run's events and the workloads' targets in, one result per scenario x workload out."""
from __future__ import annotations

from collections.abc import Iterable, Mapping

from chaos.errors import ChaosError
from chaos.journal import (
    AUDIT,
    DETECTED,
    FAILOVER_DONE,
    NOTE,
    PLAN_STARTED,
    PLAN_STEP,
    PROBE,
    RUNBOOK_STARTED,
    SKIPPED,
    WRITE_ACKED,
    WRITE_FAILED,
    Event,
    WorkloadTarget,
)
from chaos.measurement.resolution import measure_resolution
from chaos.measurement.results import Marks, PlanStep, ScenarioResult
from chaos.measurement.rpo import measure_rpo
from chaos.measurement.rto import measure_rto
from chaos.measurement.selection import Timeline, split_timelines
from chaos.measurement.verdict import judge
from chaos.measurement.window import fault_window


def measure(events: Iterable[Event], targets: Mapping[str, WorkloadTarget]) -> list[ScenarioResult]:
    """Measure every (scenario, workload) the journal names, in the order the run met them."""
    return [measure_timeline(timeline, _target_of(timeline, targets)) for timeline in split_timelines(events)]


def measure_timeline(timeline: Timeline, target: WorkloadTarget) -> ScenarioResult:
    identity = dict(
        scenario=timeline.scenario,
        workload=timeline.workload,
        strategy=target.strategy,
        kind=target.kind,
        rto_target_seconds=target.rto_seconds,
        rpo_target_seconds=target.rpo_seconds,
    )
    skips = timeline.of(SKIPPED)
    if skips:
        return ScenarioResult(**identity, skipped=True, skip_reason=str(skips[0].data.get("reason", "")))

    acks = timeline.of(WRITE_ACKED)
    window = fault_window(timeline)
    resolution = measure_resolution(window.fault_time, acks=acks, failures=timeline.of(WRITE_FAILED))
    notes = [str(n.data.get("text", "")) for n in timeline.of(NOTE)]
    if window.fault_time is None:
        return ScenarioResult(
            **identity,
            acknowledged_writes=len(acks),
            resolution=resolution,
            fault_window=window,
            reasons=["no fault was injected: nothing to recover from (the scenario did not run)"],
            notes=notes,
        )

    fault_time = window.fault_time
    rto = measure_rto(
        fault_time,
        probes=timeline.of(PROBE),
        detections=timeline.of(DETECTED),
        runbook_starts=timeline.of(RUNBOOK_STARTED),
        failovers=timeline.of(FAILOVER_DONE),
    )
    audits = timeline.of(AUDIT)
    rpo = measure_rpo(fault_time, acks=acks, audit=audits[-1] if audits else None)
    reasons = judge(target, rto, rpo)
    plan_steps = plan_steps_of(timeline)
    failed = [step for step in plan_steps if step.status == "failed"]
    # A Parallel block fails with the step inside it: name the step that failed, not its container.
    reasons += [f"Region switch plan step {step.name} ({step.block_type}) failed"
                + (f": {step.error}" if step.error else "")
                for step in ([s for s in failed if s.block_type != "Parallel"] or failed)]
    plans = timeline.of(PLAN_STARTED)

    if rpo.everything_lost:
        notes.append("every acknowledged pre-fault write was lost: RPO counted from the first acknowledgement")
    if rpo.lost_before_newest_present:
        notes.append(
            f"{rpo.lost_before_newest_present} lost writes are older than the newest surviving one: "
            "the loss is not only the unreplicated tail"
        )
    if rpo.post_fault_acknowledged_writes:
        survived = "unknown" if rpo.post_fault_survived_writes is None else rpo.post_fault_survived_writes
        notes.append(
            f"{rpo.post_fault_acknowledged_writes} writes acknowledged after the fault, {survived} in the recovered store"
        )

    return ScenarioResult(
        **identity,
        passed=not reasons,
        recovered=rto.recovered,
        rto_seconds=rto.rto_seconds,
        rpo_seconds=rpo.rpo_seconds,
        lost_writes=rpo.lost_writes,
        acknowledged_writes=rpo.acknowledged_writes,
        post_fault_acknowledged_writes=rpo.post_fault_acknowledged_writes,
        post_fault_survived_writes=rpo.post_fault_survived_writes,
        audit_store=rpo.store,
        everything_lost=rpo.everything_lost,
        phases=rto.phases,
        resolution=resolution,
        fault_window=window,
        marks=Marks(
            fault_time=fault_time,
            detected_at=rto.detected_at,
            runbook_started_at=rto.runbook_started_at,
            failover_done_at=rto.failover_done_at,
            recovered_at=rto.recovered_at,
            recovery_point=rpo.recovery_point,
            newest_present_ack=rpo.newest_present_ack,
        ),
        reasons=reasons,
        notes=notes,
        plan_steps=plan_steps,
        plan_rto_objective_seconds=plans[0].data.get("rto_objective_seconds") if plans else None,
    )


def plan_steps_of(timeline: Timeline) -> list[PlanStep]:
    """The plan's blocks as the runbook journaled them, in the order they ended."""
    return [
        PlanStep(name=str(e.data.get("name")), block_type=str(e.data.get("block_type")),
                 started_at=e.data.get("started_at"), ended_at=e.data.get("ended_at"),
                 status=str(e.data.get("status") or "completed"), error=e.data.get("error"))
        for e in timeline.of(PLAN_STEP)
    ]


def _target_of(timeline: Timeline, targets: Mapping[str, WorkloadTarget]) -> WorkloadTarget:
    try:
        return targets[timeline.workload]
    except KeyError:
        raise ChaosError(
            f"workloads: the journal names workload {timeline.workload!r} that the run's inventory does not "
            f"declare (known: {', '.join(sorted(targets)) or 'none'}); measure with the inventory the run used"
        ) from None
