"""Multi-AZ recovery of an RDS primary: the synchronous standby takes over, nothing committed is
lost.

- instance failure: `RebootDBInstance(ForceFailover=True)`, the documented way to move a Multi-AZ
  instance to its standby; then wait until the instance endpoint accepts writes.
- AZ outage: RDS fails over by itself; the runbook only waits (bounded) for the endpoint to
  accept writes again.
The application keeps the instance endpoint: the canary re-resolves it on reconnect.
"""
from __future__ import annotations

from chaos.runbooks.context import RunbookContext
from chaos.workload import postgres
from chaos.workload.stores import primary_store


def reboot_with_failover(ctx: RunbookContext) -> None:
    store = primary_store(ctx.workload)
    ctx.started("rds-reboot-with-failover")
    ctx.target.client("rds", store.region).reboot_db_instance(DBInstanceIdentifier=store.name,
                                                               ForceFailover=True)
    ctx.wait_until(f"{store.name} writable after failover",
                   lambda: postgres.writable(ctx.target, ctx.workload, store))
    ctx.done(f"{store.name} failed over to its Multi-AZ standby (reboot with failover)",
             at=ctx.last_observed_at)


def await_automatic_failover(ctx: RunbookContext) -> None:
    store = primary_store(ctx.workload)
    ctx.started("rds-await-multi-az-failover")
    ctx.wait_until(f"{store.name} writable after automatic failover",
                   lambda: postgres.writable(ctx.target, ctx.workload, store))
    ctx.done(f"{store.name} failed over to its Multi-AZ standby (automatic)", at=ctx.last_observed_at)
