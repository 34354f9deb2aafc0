"""The steady-state probe: read-your-write through the failover path, per workload.

One check = resolve where the application's traffic goes (Route 53 answer → region, for workloads
with DNS failover; otherwise the application's current store), write a probe record there, read
it back, and read a *witness* (an early canary record) so that missing data counts as a deviation
too (an accidental deletion leaves writes working but the orders gone).

Checked before a scenario (a gate), during (from the fault until the first success, bounded), and
after recovery.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from tenacity import RetryError, Retrying, retry_if_result, stop_after_delay, wait_fixed

from chaos.journal import PROBE, Journal
from chaos.probes import dns
from chaos.stores.base import RecordStream, StoreRef
from chaos.targets.base import Target
from chaos.targets.inventory import Inventory, Workload
from chaos.workload.canary import describe_error
from chaos.workload.routing import AppRouting


@dataclass(frozen=True)
class ProbeOutcome:
    ok: bool
    detail: str
    store: StoreRef | None


class SteadyStateProbe:
    """Read-your-write checks of one workload; not thread-safe (one probe loop at a time)."""

    def __init__(self, *, target: Target, inventory: Inventory, workload_name: str,
                 workload: Workload, routing: AppRouting, run_id: str, scenario: str,
                 canary_stream: RecordStream) -> None:
        self.target = target
        self.inventory = inventory
        self.workload_name = workload_name
        self.workload = workload
        self.routing = routing
        self.scenario = scenario
        self._stream = RecordStream("probe", run_id, scenario)
        self._canary_stream = canary_stream
        self._writer = workload.stores.writer(target, fail_fast=True)
        self._seq = 0
        self.witness_seq: int | None = None  # set once the canary has an acknowledged write

    def resolve_store(self) -> StoreRef:
        """Where the application's traffic lands now: DNS answer → region → store."""
        current = self.routing.current
        if not dns.has_dns_failover(self.inventory, self.workload):
            return current
        region = dns.answered_region(self.target, self.inventory, self.workload)
        if region == current.region:
            return current  # same region: the app's store (possibly a restored one)
        store = self.workload.stores.in_region(region)
        if store is None:
            raise dns.DnsAnswerError(f"Route 53 answers {region}, where "
                                     f"{self.workload_name} has no store")
        return store

    def check(self) -> ProbeOutcome:
        store: StoreRef | None = None
        try:
            store = self.resolve_store()
            self._seq += 1
            self._writer.write(store, self._stream, self._seq, time.time())
            if not self._writer.read(store, self._stream, self._seq):
                return ProbeOutcome(False, f"wrote probe {self._seq} to {store}, read nothing back",
                                    store)
            if self.witness_seq is not None and not self._writer.read(
                    store, self._canary_stream, self.witness_seq):
                return ProbeOutcome(False, f"canary record {self.witness_seq} missing from {store}",
                                    store)
        except Exception as err:  # an unreachable store is exactly what a probe reports
            return ProbeOutcome(False, describe_error(err), store)
        return ProbeOutcome(True, f"read-your-write ok on {store}", store)

    def record(self, journal: Journal, phase: str) -> ProbeOutcome:
        """Check once and journal the outcome (`phase`: before, during, after)."""
        outcome = self.check()
        journal.record(PROBE, self.scenario, self.workload_name, ok=outcome.ok,
                       detail=f"{phase}: {outcome.detail}",
                       store=None if outcome.store is None else str(outcome.store))
        return outcome

    def until_ok(self, journal: Journal, phase: str, *, budget_seconds: float,
                 interval_seconds: float, stop: threading.Event | None = None) -> ProbeOutcome:
        """Probe every `interval_seconds` until one passes or `budget_seconds` elapse; every
        check is journaled. `stop` ends the loop early."""
        def give_up(retry_state: Any) -> bool:
            return stop_after_delay(budget_seconds)(retry_state) or bool(stop and stop.is_set())

        try:
            for attempt in Retrying(stop=give_up, wait=wait_fixed(interval_seconds),
                                    retry=retry_if_result(lambda o: not o.ok)):
                with attempt:
                    outcome = self.record(journal, phase)
                if not attempt.retry_state.outcome.failed:
                    attempt.retry_state.set_result(outcome)
            return outcome
        except RetryError as err:
            return err.last_attempt.result()

    def close(self) -> None:
        self._writer.close()
