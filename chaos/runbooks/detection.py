"""Detection: how the operator (or the automation) learns that something is wrong.

- Region-level failures: the workload's primary Route 53 health check turns unhealthy
  (`GetHealthCheckStatus`), so detection time includes the check's interval x threshold, as on
  AWS. A workload without a health check falls back to the canary.
- Instance and AZ failures, and workloads without a check: N consecutive failed canary writes
  (N = 3: one failure can be a blip; three at the canary's rate is a pattern within ~60 ms at
  50 writes/s).
- Data loss (accidental deletion): writes keep working, so the signal is the steady-state probe's
  witness, an early order, no longer being readable.
"""
from __future__ import annotations

from typing import Callable

from chaos.journal import DETECTED
from chaos.probes import dns
from chaos.probes.dns import ROUTE53_REGION
from chaos.runbooks.context import RunbookContext

CONSECUTIVE_FAILURES = 3


def _health_check_unhealthy(ctx: RunbookContext, check_id: str) -> bool:
    client = ctx.target.client("route53", ROUTE53_REGION, fail_fast=True)
    observations = client.get_health_check_status(HealthCheckId=check_id)["HealthCheckObservations"]
    reports = [o.get("StatusReport", {}).get("Status", "") for o in observations]
    # Route 53 calls an endpoint healthy while enough checkers report success; with none
    # reporting success it is unhealthy.
    return bool(reports) and not any(r.startswith("Success") for r in reports)


def by_health_check(ctx: RunbookContext) -> str:
    check_id = dns.primary_health_check_id(ctx.workload)
    if check_id is None:
        return by_canary_failures(ctx)
    ctx.wait_until(f"health check {check_id} unhealthy",
                   lambda: _health_check_unhealthy(ctx, check_id))
    return _detected(ctx, f"Route 53 health check {check_id} unhealthy")


def by_canary_failures(ctx: RunbookContext) -> str:
    ctx.wait_until(f"{CONSECUTIVE_FAILURES} consecutive canary failures",
                   lambda: ctx.canary.consecutive_failures >= CONSECUTIVE_FAILURES)
    return _detected(ctx, f"{CONSECUTIVE_FAILURES} consecutive canary write failures")


def by_missing_data(ctx: RunbookContext, witness_missing: Callable[[], bool]) -> str:
    ctx.wait_until("canary witness record missing", witness_missing)
    return _detected(ctx, "steady-state probe: an acknowledged order is no longer readable")


def _detected(ctx: RunbookContext, how: str) -> str:
    ctx.journal.record(DETECTED, ctx.scenario, ctx.workload_name, how=how)
    return how

