"""Multi-AZ recovery of an RDS primary: the synchronous standby takes over, nothing committed is
lost.

- instance failure: `RebootDBInstance(ForceFailover=True)`, the documented way to move a Multi-AZ
  instance to its standby; then wait until the instance endpoint accepts writes.
- AZ outage: RDS fails over by itself; the runbook only waits (bounded) for the endpoint to
  accept writes again.
The application keeps the instance endpoint: the canary re-resolves it on reconnect.
How a kind fails over inside a region is its store's `fail_over_within_region` (chaos/stores/).
"""
from __future__ import annotations

from chaos.runbooks.context import RunbookContext


def reboot_with_failover(ctx: RunbookContext) -> None:
    ctx.workload.stores.fail_over_within_region(ctx, forced=True)


def await_automatic_failover(ctx: RunbookContext) -> None:
    ctx.workload.stores.fail_over_within_region(ctx, forced=False)
