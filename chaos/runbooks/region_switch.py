"""Regional failover by the stack's ARC Region switch plan: the recovery AWS itself would run.

Wherever the inventory declares a `recovery_plan`, the region-outage runbook does not run its own
sequence (chaos/runbooks/regional.py): it starts the plan's execution that activates the DR region
and follows it through the `arc-region-switch` API, the same calls on every target:

    StartPlanExecution (DR region, action activate) -> GetPlanExecution until it ends
      -> ApprovePlanExecutionStep when a ManualApproval step waits (the game day approves)
      -> ListPlanExecutionEvents for each failed step's error

On the lab these calls reach the lab's Region switch (chaos/lab/region_switch.py); on the aws target
they reach AWS. One execution serves every workload of the scenario: the first runbook thread
starts it, the others wait for it. Each block that ended goes to the journal (`plan_step`, with the
times the execution reported), so the report shows RTO by plan step; a failed or stuck execution
is a RunbookError naming the step and its block. After the plan, an RDS workload's private record
is read back through Route 53 (the plan's repoint step must have moved it to the promoted writer),
each workload's application moves to its DR store (the plan's description lists why DynamoDB and
S3 need no step of their own), and a workload with DNS failover but no traffic step (latency or
weighted records, all active-active) is checked as before.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from tenacity import RetryError, Retrying, retry_if_result, stop_after_delay, wait_fixed

from chaos.journal import NOTE, PLAN_STARTED, PLAN_STEP
from chaos.probes import dns
from chaos.probes.dns import ROUTE53_REGION
from chaos.runbooks import regional
from chaos.runbooks.context import RunbookContext, RunbookError
from chaos.targets.inventory import Inventory, RecoveryPlan
from chaos.workload.canary import describe_error

SHARED_KEY = "region-switch-execution"
ROUTE53_HEALTH_CHECK = "Route53HealthCheck"
DONE_STATES = frozenset({"completed", "completedWithExceptions", "completedMonitoringApplicationHealth"})
FAILED_STATES = frozenset({"failed", "pausedByFailedStep", "pausedByOperator", "canceled", "planExecutionTimedOut"})
ENDED_STEP_STATES = frozenset({"completed", "failed", "canceled", "skipped"})
PARALLEL = "Parallel"
OUTCOME_GRACE_SECONDS = 60.0  # the starting thread's waits end within the budget; this covers its last calls
# The execution is polled at the runbook's poll interval; ARC Region switch updates step states as
# they happen, so a faster poll only costs API calls.


def declared(inventory: Inventory) -> bool:
    """The stack declares a Region switch plan (inventory `recovery_plan`)."""
    return inventory.recovery_plan is not None


def activation_blocks(plan: RecoveryPlan, region: str) -> dict[str, str]:
    """Step name -> block type of the workflow that activates `region` (Parallel children included)."""
    steps = plan.steps_activating(region)
    if not steps:
        raise RunbookError(f"recovery_plan {plan.name}: no workflow activates {region}")
    return {step.name: step.block_type for step in steps}


@dataclass
class PlanExecution:
    """One execution of the plan for the whole scenario; workload runbooks wait on it."""

    ctx: RunbookContext  # the starting runbook's context (target, journal, budget, stop)
    done: threading.Event = field(default_factory=threading.Event)
    error: RunbookError | None = None
    ended_at: float | None = None
    execution_id: str | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _started: bool = False
    _recorded: set[str] = field(default_factory=set)

    @property
    def plan(self) -> RecoveryPlan:
        plan = self.ctx.inventory.recovery_plan
        assert plan is not None, "fail_over_by_plan runs only where the stack declares a plan"
        return plan

    def run_or_wait(self, ctx: RunbookContext) -> None:
        """Start and follow the execution (first caller), or wait for it; RunbookError if it failed."""
        with self._lock:
            first, self._started = not self._started, True
        if first:
            try:
                self._execute()
            except RunbookError as err:
                self.error = err
            except Exception as err:  # an API error is the plan's failure, not a crash of the tool
                self.error = RunbookError(f"Region switch plan {self.plan.name}: {describe_error(err)}")
            finally:
                self.done.set()
        # Bounded: the starting thread's own waits end within the budget (plus one poll).
        if not self.done.wait(ctx.budget_seconds + OUTCOME_GRACE_SECONDS):
            raise RunbookError("Region switch plan execution: no outcome within the budget")
        if self.error is not None:
            raise self.error

    # --- driving the execution -------------------------------------------------------------------

    def _client(self) -> Any:
        # Plans execute from the Region being activated (ARC's regional data plane): the DR region.
        return self.ctx.target.client("arc-region-switch", self.ctx.workload.dr_region)

    def _execute(self) -> None:
        ctx, plan = self.ctx, self.plan
        region = ctx.workload.dr_region
        blocks = activation_blocks(plan, region)
        client = self._client()
        started = client.start_plan_execution(
            planArn=plan.arn, targetRegion=region, action="activate",
            # The primary region is impaired: ungraceful, as AWS advises for an unplanned failover.
            mode="ungraceful", comment=f"chaos run {ctx.run_id}: {ctx.scenario}")
        self.execution_id = started["executionId"]
        ctx.journal.record(PLAN_STARTED, ctx.scenario, None, plan=plan.name, plan_arn=plan.arn,
                           execution_id=self.execution_id, target_region=region,
                           rto_objective_seconds=plan.rto_objective_seconds)

        running: list[str] = []

        def poll() -> str:
            execution = client.get_plan_execution(planArn=plan.arn, executionId=self.execution_id)
            self._record_steps(execution.get("stepStates") or [], blocks, client)
            running[:] = [s["name"] for s in execution.get("stepStates") or []
                          if s.get("status") == "running" and blocks.get(s["name"]) != PARALLEL]
            for step in execution.get("stepStates") or []:
                if step.get("status") == "pendingApproval":
                    self._approve(client, step["name"])
            return str(execution.get("executionState"))

        try:
            state = Retrying(
                stop=lambda s: stop_after_delay(ctx.budget_seconds)(s) or ctx.stop.is_set(),
                wait=wait_fixed(ctx.poll_seconds), reraise=False,
                retry=retry_if_result(lambda s: s not in DONE_STATES | FAILED_STATES))(poll)
        except RetryError as err:
            last = err.last_attempt
            why = describe_error(last.exception()) if last.failed else f"still {last.result()}"
            if running:  # the steps that held it up are the finding
                why += "; running: " + ", ".join(f"{n} ({blocks.get(n, 'unknown')})" for n in running)
            self._cancel(client)
            raise RunbookError(f"Region switch plan {plan.name}: execution {self.execution_id} did not "
                               f"end within {ctx.budget_seconds:.0f} s ({why})") from None
        self.ended_at = time.time()
        if state in FAILED_STATES:
            raise RunbookError(self._failure(state, blocks, client))

    def _approve(self, client: Any, step: str) -> None:
        """The game day is the operator: it approves at once; the step's duration is the approval time."""
        client.approve_plan_execution_step(planArn=self.plan.arn, executionId=self.execution_id,
                                           stepName=step, approval="approve",
                                           comment=f"chaos run {self.ctx.run_id}: approved by the game day")
        self.ctx.journal.record(NOTE, self.ctx.scenario, None, text=f"game day approved plan step {step}")

    def _record_steps(self, states: list[dict[str, Any]], blocks: dict[str, str], client: Any) -> None:
        for step in states:
            name = step.get("name")
            if name in self._recorded or step.get("status") not in ENDED_STEP_STATES:
                continue
            self._recorded.add(name)
            started, ended = _epoch(step.get("startTime")), _epoch(step.get("endTime"))
            error = self._step_error(client, name) if step.get("status") == "failed" else None
            self.ctx.journal.record(PLAN_STEP, self.ctx.scenario, None, t=ended, name=name,
                                    block_type=blocks.get(name, "unknown"), started_at=started, ended_at=ended,
                                    status=step.get("status"), error=error)

    def _step_error(self, client: Any, name: str) -> str | None:
        events = client.list_plan_execution_events(planArn=self.plan.arn, executionId=self.execution_id,
                                                    name=name).get("items") or []
        errors = [e.get("error") for e in events if e.get("type") == "stepFailed" and e.get("error")]
        return errors[-1] if errors else None

    def _failure(self, state: str, blocks: dict[str, str], client: Any) -> str:
        execution = client.get_plan_execution(planArn=self.plan.arn, executionId=self.execution_id)
        self._record_steps(execution.get("stepStates") or [], blocks, client)
        failed = [s["name"] for s in execution.get("stepStates") or [] if s.get("status") == "failed"]
        # The innermost failed step names the cause (its Parallel block fails with it).
        leaf = [n for n in failed if blocks.get(n) != PARALLEL] or failed
        if not leaf:
            return f"Region switch plan {self.plan.name}: execution {self.execution_id} ended {state}"
        name = leaf[0]
        error = self._step_error(client, name)
        return (f"Region switch plan step {name} ({blocks.get(name, 'unknown')}) failed"
                + (f": {error}" if error else "") + f"; execution {self.execution_id} is {state}")

    def _cancel(self, client: Any) -> None:
        try:
            client.cancel_plan_execution(planArn=self.plan.arn, executionId=self.execution_id,
                                         comment=f"chaos run {self.ctx.run_id}: no outcome within the budget")
        except Exception as err:  # the runbook's error says what matters; this only explains a leftover
            self.ctx.note(f"could not cancel plan execution {self.execution_id}: {describe_error(err)}")


def _epoch(value: Any) -> float | None:
    if value is None:
        return None
    return value.timestamp() if hasattr(value, "timestamp") else float(value)


def _has_traffic_step(plan: RecoveryPlan, region: str, workload: str) -> bool:
    return any(s.block_type == ROUTE53_HEALTH_CHECK and workload in s.workloads
               for s in plan.steps_activating(region))


def fail_over_by_plan(ctx: RunbookContext) -> None:
    """Run (or join) the plan's execution, then move this workload's application to its DR store."""
    plan = ctx.inventory.recovery_plan
    assert plan is not None, "the scenario checks `declared` first"
    target = regional.dr_store(ctx)
    ctx.started(f"region-switch-plan {plan.name}")
    execution = ctx.shared.get(SHARED_KEY, lambda: PlanExecution(ctx))
    execution.run_or_wait(ctx)
    ctx.done(f"Region switch plan {plan.name} activated {target.region} "
             f"(execution {execution.execution_id})", at=execution.ended_at)
    # The plan made the DR copy take over (an RDS replica promoted); the application checks it takes writes.
    ctx.wait_until(f"{target} taking writes after the plan",
                   lambda: ctx.workload.stores.taken_over(ctx.target, target))
    _check_private_record(ctx, target.region)
    ctx.routing.switch(target)
    ctx.done(f"application switched to {target}")
    if dns.has_dns_failover(ctx.inventory, ctx.workload) and not _has_traffic_step(plan, target.region,
                                                                                   ctx.workload_name):
        regional._verify_dns(ctx, target.region)  # noqa: SLF001 the same check the hand-written runbook makes


def _check_private_record(ctx: RunbookContext, region: str) -> None:
    """The plan repointed the writer's private record (its CustomActionLambda step): read it back."""
    record = ctx.workload.private_record
    if record is None:
        return
    address = ctx.workload.endpoints.get(region)
    client = ctx.target.client("route53", ROUTE53_REGION)

    def answers() -> list[str]:
        sets = client.list_resource_record_sets(HostedZoneId=record.zone_id, StartRecordName=record.name,
                                                StartRecordType=record.type, MaxItems="1")["ResourceRecordSets"]
        return [v["Value"] for s in sets if s["Name"].rstrip(".") == record.name.rstrip(".")
                for v in s.get("ResourceRecords") or []]

    found = answers()
    if found != [address]:
        raise RunbookError(f"{ctx.workload_name}: after the plan {record.name} answers {found or 'nothing'}, not "
                           f"the promoted writer {address}; the plan lacks a repoint step for it")
    ctx.done(f"{record.name} answers the promoted writer {address} (repointed by the plan)")
