"""Detection: how the operator (or the automation) learns that something is wrong.

- Region-level failures: the application's primary-region Route 53 health check turns unhealthy
  (`GetHealthCheckStatus`), so detection time includes the check's interval x threshold, as on
  AWS. A workload without a health check falls back to the canary.
- Instance and AZ failures, and workloads without a check: N consecutive failed canary writes
  (N = 3: one failure can be a blip; three at the canary's rate is a pattern within ~60 ms at
  50 writes/s).
- Data loss (accidental deletion): writes keep working, so the signal is the steady-state probe's
  witness, an early order, no longer being readable.
"""
from __future__ import annotations

import time
from typing import Callable

from chaos.journal import DETECTED
from chaos.probes import dns
from chaos.probes.dns import ROUTE53_REGION
from chaos.runbooks.context import RunbookContext

CONSECUTIVE_FAILURES = 3


def _unhealthy_since(ctx: RunbookContext, check_id: str) -> float | None:
    """When Route 53 last checked the endpoint and found it failing (epoch seconds), or None
    while the check is healthy. Route 53 calls an endpoint healthy while enough checkers report
    success; with none reporting success it is unhealthy."""
    client = ctx.target.client("route53", ROUTE53_REGION, fail_fast=True)
    observations = client.get_health_check_status(HealthCheckId=check_id)["HealthCheckObservations"]
    reports = [o.get("StatusReport", {}) for o in observations]
    if not reports or any(r.get("Status", "").startswith("Success") for r in reports):
        return None
    checked = [r["CheckedTime"].timestamp() for r in reports if r.get("CheckedTime")]
    return max(checked) if checked else time.time()


def by_health_check(ctx: RunbookContext) -> str:
    check_id = dns.primary_health_check_id(ctx.workload)
    if check_id is None:
        return by_canary_failures(ctx)
    since = ctx.wait_until(f"health check {check_id} unhealthy", lambda: _unhealthy_since(ctx, check_id))
    # Detection is Route 53's verdict, stamped with the check that reached it, not with this
    # poll: Route 53 fails DNS over at that moment, whether or not the runbook has looked yet.
    return _detected(ctx, f"Route 53 health check {check_id} unhealthy",
                     at=min(since, ctx.last_observed_at or since))


def by_canary_failures(ctx: RunbookContext) -> str:
    ctx.wait_until(f"{CONSECUTIVE_FAILURES} consecutive canary failures",
                   lambda: ctx.canary.consecutive_failures >= CONSECUTIVE_FAILURES)
    return _detected(ctx, f"{CONSECUTIVE_FAILURES} consecutive canary write failures")


def by_missing_data(ctx: RunbookContext, witness_missing: Callable[[], bool]) -> str:
    ctx.wait_until("canary witness record missing", witness_missing)
    return _detected(ctx, "steady-state probe: an acknowledged order is no longer readable")


def _detected(ctx: RunbookContext, how: str, *, at: float | None = None) -> str:
    at = ctx.last_observed_at if at is None else at
    ctx.journal.record(DETECTED, ctx.scenario, ctx.workload_name, t=at, how=how)
    return how

