"""ARC Region switch in the lab: the stack's plan (inventory `recovery_plan`) executed against the lab.

The lab answers the `arc-region-switch` calls a game day makes on AWS (botocore's service model,
JSON protocol): `StartPlanExecution`, `GetPlanExecution`, `ListPlanExecutionEvents`,
`ApprovePlanExecutionStep`, `CancelPlanExecution`. An execution runs the workflow that activates
the target region, one step after another, each execution block mapped to the lab's own action:

| block                  | what the lab does                                                            |
|------------------------|------------------------------------------------------------------------------|
| RdsPromoteReadReplica  | `PromoteReadReplica` on the instance in the activated region (the real PostgreSQL replica is promoted), then waits until it is `available` and no longer a replica |
| EC2AutoScaling         | `UpdateAutoScalingGroup` on the activated region's group (moto) to the planned capacity, then waits until that many instances are `InService` |
| Route53HealthCheck     | waits until the lab's Route 53 answers the record with the activated region's value (the lab's health checker moved it) |
| ManualApproval         | waits for `ApprovePlanExecutionStep` (decline or timeout fails the step)       |
| Parallel               | runs its steps at once; it fails when one of them fails                      |
| CustomActionLambda     | runs the activated region's function code in-process when the program ships it (`source` infra/functions/repoint_record.py: the private record's UPSERT through the lab's Route 53, then waits for INSYNC); any other function fails the step |

Each step's calls go through the lab's own endpoint like any client's, so a Chaos API rule (say on
`rds` `PromoteReadReplica` in the DR region) fails that step, as an AWS API error fails it on AWS.
A failed step pauses the execution (`pausedByFailedStep`, as on AWS) and nothing after it runs.
Timeouts are the plan's `timeout_minutes` scaled by the deploy's time factor.

Not emulated (said here, and in the deploy summary): on AWS the Route 53 block flips health checks
Region switch owns; the lab has none, so the block waits for the stack's own health checks, which
move traffic only when the region they check is down (a switchover with a healthy primary would time
out here). The plan's alarms and reports are not evaluated or written.
"""
from __future__ import annotations

import functools
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

from botocore.config import Config
from tenacity import RetryError, Retrying, retry_if_exception_type, retry_if_result, stop_after_delay, wait_fixed

from chaos.lab import motostate
from chaos.lab.auth import signed_client
from chaos.lab.route53 import answer_values
from infra.functions import repoint_record

RDS_PROMOTE = "RdsPromoteReadReplica"
EC2_AUTOSCALING = "EC2AutoScaling"
ROUTE53_HEALTH_CHECK = "Route53HealthCheck"
MANUAL_APPROVAL = "ManualApproval"
PARALLEL = "Parallel"
CUSTOM_LAMBDA = "CustomActionLambda"
POLL_SECONDS = 0.05
SECONDS_PER_MINUTE = 60.0
# States (botocore arc-region-switch model: ExecutionState, StepStatus, ExecutionEventType).
IN_PROGRESS, COMPLETED, PAUSED_BY_FAILED_STEP, CANCELED = "inProgress", "completed", "pausedByFailedStep", "canceled"
PENDING_APPROVAL = "pendingManualApproval"


class RegionSwitchRefused(Exception):
    """An API call the service would refuse: HTTP status, error code, message."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class StepFailed(Exception):
    """A step did not take effect; the message says which call or wait failed."""


@dataclass
class StepRun:
    name: str
    block_type: str
    status: str = "notStarted"
    started_at: float | None = None
    ended_at: float | None = None
    error: str | None = None
    approval: threading.Event = field(default_factory=threading.Event)
    approved: bool | None = None

    def state(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "status": self.status, "stepMode": "graceful"}
        if self.started_at is not None:
            out["startTime"] = self.started_at
        if self.ended_at is not None:
            out["endTime"] = self.ended_at
        return out


@dataclass
class Execution:
    execution_id: str
    plan_arn: str
    target_region: str
    action: str
    mode: str
    workflow: dict[str, Any]
    comment: str | None
    started_at: float
    state: str = IN_PROGRESS
    ended_at: float | None = None
    steps: dict[str, StepRun] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)

    def event(self, kind: str, step: StepRun | None = None, **extra: Any) -> None:
        item: dict[str, Any] = {"timestamp": time.time(), "type": kind, "eventId": uuid.uuid4().hex}
        if step is not None:
            item.update(stepName=step.name, executionBlockType=step.block_type)
        item.update({k: v for k, v in extra.items() if v is not None})
        with self.lock:
            if self.events:
                item["previousEventId"] = self.events[-1]["eventId"]
            self.events.append(item)


def all_steps(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every step, Parallel children after their block, in plan order."""
    out: list[dict[str, Any]] = []
    for step in steps:
        out.append(step)
        out += all_steps(step.get("steps") or [])
    return out


@functools.lru_cache(maxsize=None)
def _client(endpoint: str, keys: tuple[str, str], service: str, region: str) -> Any:
    """A client as any caller of the lab has one: fault rules apply to it (no lab-internal agent);
    signed with the lab's own keys (chaos.lab.auth), the only ones the lab accepts."""
    return signed_client(keys, service, region, endpoint, Config(
        connect_timeout=2, read_timeout=10, retries={"max_attempts": 1, "mode": "standard"}))


class RegionSwitch:
    """The plans the lab knows (one per deployed inventory) and their executions."""

    def __init__(self, *, endpoint: Callable[[], str], time_factor: Callable[[], float],
                 on_event: Callable[..., Any], resolve: Callable[[str, str, str], tuple[list[str], str]],
                 keys: tuple[str, str]):
        self._endpoint = endpoint
        self._keys = keys
        self._time_factor = time_factor
        self._on_event = on_event
        self._resolve = resolve  # Route53Answers.resolve: what the lab's Route 53 answers now
        self._plans: dict[str, dict[str, Any]] = {}
        self._executions: dict[str, Execution] = {}
        self._lock = threading.Lock()

    # --- deploy / teardown ------------------------------------------------------------------------

    def register(self, plan: dict[str, Any]) -> None:
        with self._lock:
            self._plans[str(plan["arn"])] = plan

    def clear(self) -> None:
        """Forget plans; stop every running execution (its thread ends at its next check)."""
        with self._lock:
            executions, self._executions = list(self._executions.values()), {}
            self._plans.clear()
        for execution in executions:
            execution.stop.set()
            for step in execution.steps.values():
                step.approval.set()

    # --- the API ------------------------------------------------------------------------------------

    def call(self, operation: str, body: dict[str, Any]) -> dict[str, Any]:
        handler = {"StartPlanExecution": self._start, "GetPlanExecution": self._get,
                   "ListPlanExecutionEvents": self._events, "ApprovePlanExecutionStep": self._approve,
                   "CancelPlanExecution": self._cancel, "GetPlan": self._get_plan}.get(operation)
        if handler is None:
            raise RegionSwitchRefused(400, "IllegalArgumentException",
                                      f"the lab does not answer arc-region-switch {operation}")
        return handler(body)

    def _plan(self, arn: Any) -> dict[str, Any]:
        plan = self._plans.get(str(arn))
        if plan is None:
            raise RegionSwitchRefused(404, "ResourceNotFoundException", f"no plan {arn} in the lab")
        return plan

    def _execution(self, body: dict[str, Any]) -> Execution:
        self._plan(body.get("planArn"))
        execution = self._executions.get(str(body.get("executionId")))
        if execution is None or execution.plan_arn != body.get("planArn"):
            raise RegionSwitchRefused(404, "ResourceNotFoundException",
                                      f"no execution {body.get('executionId')} of plan {body.get('planArn')}")
        return execution

    def _get_plan(self, body: dict[str, Any]) -> dict[str, Any]:
        plan = self._plan(body.get("arn"))
        return {"plan": {"arn": plan["arn"], "name": plan.get("name"), "regions": plan.get("regions"),
                         "recoveryApproach": plan.get("recovery_approach"),
                         "primaryRegion": plan.get("primary_region"),
                         "recoveryTimeObjectiveMinutes": plan.get("rto_objective_minutes"),
                         "executionRole": plan.get("execution_role_arn"), "owner": plan["arn"].split(":")[4],
                         "workflows": []}}

    def _start(self, body: dict[str, Any]) -> dict[str, Any]:
        plan = self._plan(body.get("planArn"))
        region, action = body.get("targetRegion"), body.get("action")
        if action != "activate":
            raise RegionSwitchRefused(400, "IllegalArgumentException",
                                      f"action {action!r}: an active/passive plan only activates a region")
        workflow = next((wf for wf in plan.get("workflows") or []
                         if wf.get("target_action") == action and wf.get("target_region") in (region, None)), None)
        if workflow is None:
            raise RegionSwitchRefused(400, "IllegalArgumentException",
                                      f"plan {plan['arn']} has no workflow to {action} {region}")
        with self._lock:
            if any(e.plan_arn == plan["arn"] and e.state in (IN_PROGRESS, PENDING_APPROVAL)
                   for e in self._executions.values()):
                raise RegionSwitchRefused(409, "ConflictException", f"plan {plan['arn']} is already executing")
            execution = Execution(
                execution_id=uuid.uuid4().hex[:12], plan_arn=plan["arn"], target_region=str(region),
                action=action, mode=str(body.get("mode") or "graceful"), workflow=workflow,
                comment=body.get("comment"), started_at=time.time(),
                steps={s["name"]: StepRun(s["name"], s["block_type"]) for s in all_steps(workflow.get("steps") or [])})
            self._executions[execution.execution_id] = execution
        execution.event("executionStarted")
        self._on_event("region_switch_started", plan=plan["arn"], execution=execution.execution_id, region=region)
        threading.Thread(target=self._run, args=(execution,), name=f"region-switch-{execution.execution_id}",
                         daemon=True).start()
        primary = plan.get("primary_region")
        others = [r for r in plan.get("regions") or [] if r != region]
        return {"executionId": execution.execution_id, "plan": plan["arn"], "planVersion": "1",
                "activateRegion": region, "deactivateRegion": others[0] if others else primary}

    def _get(self, body: dict[str, Any]) -> dict[str, Any]:
        execution = self._execution(body)
        out: dict[str, Any] = {
            "planArn": execution.plan_arn, "executionId": execution.execution_id, "version": "1",
            "startTime": execution.started_at, "mode": execution.mode, "executionState": execution.state,
            "executionAction": execution.action, "executionRegion": execution.target_region,
            "updatedAt": time.time(), "stepStates": [s.state() for s in execution.steps.values()]}
        if execution.comment:
            out["comment"] = execution.comment
        if execution.ended_at is not None:
            out["endTime"] = execution.ended_at
            out["actualRecoveryTime"] = f"{execution.ended_at - execution.started_at:.1f}s"
        return out

    def _events(self, body: dict[str, Any]) -> dict[str, Any]:
        execution = self._execution(body)
        with execution.lock:
            items = list(execution.events)
        if body.get("name"):
            items = [e for e in items if e.get("stepName") == body["name"]]
        return {"items": items}

    def _approve(self, body: dict[str, Any]) -> dict[str, Any]:
        execution = self._execution(body)
        step = execution.steps.get(str(body.get("stepName")))
        if step is None or step.block_type != MANUAL_APPROVAL:
            raise RegionSwitchRefused(404, "ResourceNotFoundException",
                                      f"no approval step {body.get('stepName')} in execution {execution.execution_id}")
        if body.get("approval") not in ("approve", "decline"):
            raise RegionSwitchRefused(400, "IllegalArgumentException", "approval: use approve or decline")
        step.approved = body["approval"] == "approve"
        step.approval.set()
        return {}

    def _cancel(self, body: dict[str, Any]) -> dict[str, Any]:
        execution = self._execution(body)
        execution.stop.set()
        for step in execution.steps.values():
            step.approval.set()
        if execution.state in (IN_PROGRESS, PENDING_APPROVAL, PAUSED_BY_FAILED_STEP):
            execution.state, execution.ended_at = CANCELED, time.time()
            execution.event("executionCanceled")
        return {}

    # --- running a workflow -----------------------------------------------------------------------

    def _run(self, execution: Execution) -> None:
        ok = all(self._step(execution, step) for step in execution.workflow.get("steps") or [])
        if execution.state == CANCELED:
            return
        execution.ended_at = time.time()
        execution.state = COMPLETED if ok else PAUSED_BY_FAILED_STEP
        execution.event("executionSucceeded" if ok else "executionPaused")
        self._on_event("region_switch_" + ("completed" if ok else "paused"), execution=execution.execution_id)

    def _step(self, execution: Execution, step: dict[str, Any]) -> bool:
        """Run one step (a Parallel block runs its children at once); False when it failed."""
        if execution.stop.is_set():
            return False
        run = execution.steps[step["name"]]
        run.status, run.started_at = "running", time.time()
        execution.event("stepStarted", run)
        try:
            if run.block_type == PARALLEL:
                self._parallel(execution, step)
            else:
                self._act(execution, step, run)
        except Exception as error:  # noqa: BLE001 any error ends the step as failed, never a stuck thread
            if not isinstance(error, (StepFailed, RegionSwitchRefused)):
                error = StepFailed(f"{run.name}: {type(error).__name__}: {error}")
            run.status, run.ended_at, run.error = "failed", time.time(), str(error)
            execution.event("stepFailed", run, error=str(error))
            self._on_event("region_switch_step_failed", step=run.name, block=run.block_type, error=str(error))
            return False
        run.status, run.ended_at = "completed", time.time()
        execution.event("stepSucceeded", run)
        return True

    def _parallel(self, execution: Execution, step: dict[str, Any]) -> None:
        children = step.get("steps") or []
        results: dict[str, bool] = {}
        threads = [threading.Thread(target=lambda c=child: results.__setitem__(c["name"], self._step(execution, c)),
                                    name=f"region-switch-{child['name']}", daemon=True) for child in children]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()  # each child's waits are bounded by its own timeout
        failed = [name for name in (c["name"] for c in children) if not results.get(name)]
        if failed:
            raise StepFailed(f"{', '.join(failed)} failed")

    def _act(self, execution: Execution, step: dict[str, Any], run: StepRun) -> None:
        bound = float(step.get("timeout_minutes") or 0) * SECONDS_PER_MINUTE * self._time_factor()
        region = execution.target_region
        resource = next((r for r in step.get("resources") or [] if r.get("region") == region), None)
        if run.block_type == MANUAL_APPROVAL:
            self._await_approval(execution, run, bound)
        elif resource is None:
            raise StepFailed(f"{run.block_type} {run.name}: the plan names no resource in {region}")
        elif run.block_type == RDS_PROMOTE:
            self._promote(execution, resource, bound)
        elif run.block_type == EC2_AUTOSCALING:
            self._scale(execution, resource, bound)
        elif run.block_type == ROUTE53_HEALTH_CHECK:
            self._await_dns(execution, resource, bound)
        elif run.block_type == CUSTOM_LAMBDA:
            self._run_function(execution, resource, bound)
        else:
            raise StepFailed(f"{run.name}: the lab has no action for {run.block_type} blocks")

    def _await_approval(self, execution: Execution, run: StepRun, bound: float) -> None:
        run.status, execution.state = "pendingApproval", PENDING_APPROVAL
        execution.event("stepPendingApproval", run)
        answered = run.approval.wait(bound)
        if execution.state == PENDING_APPROVAL:
            execution.state = IN_PROGRESS
        if execution.stop.is_set():
            raise StepFailed(f"{run.name}: execution canceled while waiting for approval")
        if not answered:
            raise StepFailed(f"{run.name}: not approved within {bound:.1f} s")
        if not run.approved:
            raise StepFailed(f"{run.name}: declined")

    def _wait(self, execution: Execution, what: str, check: Callable[[], Any], bound: float) -> None:
        def give_up(state: Any) -> bool:
            return stop_after_delay(bound)(state) or execution.stop.is_set()

        try:
            Retrying(stop=give_up, wait=wait_fixed(POLL_SECONDS), reraise=False,
                     retry=retry_if_exception_type(Exception) | retry_if_result(lambda v: not v))(check)
        except RetryError as error:
            last = error.last_attempt
            why = f"{type(last.exception()).__name__}: {last.exception()}" if last.failed else "not yet"
            raise StepFailed(f"{what}: not done within {bound:.1f} s ({why})") from None

    def _promote(self, execution: Execution, resource: dict[str, Any], bound: float) -> None:
        arn = str(resource["id"])
        identifier = arn.rsplit(":db:", 1)[-1]
        rds = _client(self._endpoint(), self._keys, "rds", execution.target_region)
        try:
            rds.promote_read_replica(DBInstanceIdentifier=identifier)
        except Exception as error:  # the API error is the step's failure, as on AWS
            raise StepFailed(f"PromoteReadReplica {identifier}: {error}") from None

        def promoted() -> bool:
            [instance] = rds.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"]
            return instance["DBInstanceStatus"] == "available" and not instance.get(
                "ReadReplicaSourceDBInstanceIdentifier")

        self._wait(execution, f"{identifier} available as a standalone instance", promoted, bound)

    def _scale(self, execution: Execution, resource: dict[str, Any], bound: float) -> None:
        name, wanted = str(resource.get("name") or resource["id"]), int(resource["to_capacity"])
        autoscaling = _client(self._endpoint(), self._keys, "autoscaling", execution.target_region)
        try:
            [group] = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"]
            autoscaling.update_auto_scaling_group(AutoScalingGroupName=name, DesiredCapacity=wanted,
                                                  MinSize=min(group["MinSize"], wanted),
                                                  MaxSize=max(group["MaxSize"], wanted))
        except Exception as error:
            raise StepFailed(f"UpdateAutoScalingGroup {name}: {error}") from None

        def in_service() -> bool:
            [group] = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"]
            return sum(i["LifecycleState"] == "InService" for i in group["Instances"]) >= wanted

        self._wait(execution, f"{wanted} instances in service in {name}", in_service, bound)

    def _await_dns(self, execution: Execution, resource: dict[str, Any], bound: float) -> None:
        zone, record = str(resource["hosted_zone_id"]), str(resource["id"])
        set_identifier = str(resource["set_identifier"])
        rrset = next((r for r in motostate.route53_backend().get_hosted_zone(zone).rrsets
                      if r.set_identifier == set_identifier), None)
        if rrset is None:
            raise StepFailed(f"{record}: no record set {set_identifier} in zone {zone}")
        # The region's answer: an alias to its load balancer, or a CNAME (the same reading Route 53's
        # resolution in the lab uses).
        expected = answer_values(rrset)

        def answers_target() -> bool:
            values, _ = self._resolve(zone, record, rrset.type)
            return bool(expected) and values == expected

        self._wait(execution, f"Route 53 answering {record} with the {execution.target_region} record",
                   answers_target, bound)

    def _run_function(self, execution: Execution, resource: dict[str, Any], bound: float) -> None:
        """The function of the activated region, as Lambda would run it: its code, its environment."""
        if resource.get("source") != repoint_record.SOURCE_ID:
            raise StepFailed(f"{resource.get('name') or resource.get('id')}: the lab runs only the functions the "
                             f"program ships ({repoint_record.SOURCE_ID}), not {resource.get('source')!r}")
        route53 = _client(self._endpoint(), self._keys, "route53", "us-east-1")  # Route 53 is global
        try:
            repoint_record.repoint(route53, dict(resource.get("environment") or {}), deadline=time.time() + bound,
                                   poll_seconds=POLL_SECONDS)
        except Exception as error:  # the function's error is the step's failure, as Lambda reports it
            raise StepFailed(f"Lambda {resource.get('name')}: {type(error).__name__}: {error}") from None
