"""How fast the journal and measurement are on game-day-sized and larger journals.

    /work/venv/bin/python -m bench.measurement [--sizes 100000,1000000]

Prints, per journal size: concurrent append rate (4 canary threads), measure() time, JSONL write
and read time, and the time to render every report (PNG included) for the smallest size.
A full prod game day journals about 10^4-10^5 events (200 writes/s x workloads x scenario time).
"""
from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path

from chaos.journal import (
    AUDIT,
    DETECTED,
    FAILOVER_DONE,
    FAULT_INJECTED,
    FAULT_REVERTED,
    PROBE,
    RUNBOOK_STARTED,
    WRITE_ACKED,
    Journal,
    RunRecord,
    WorkloadTarget,
    read_jsonl,
)
from chaos.measurement import measure
from chaos.reports import write_reports

WORKLOADS = ("orders", "catalog", "sessions", "images")
SCENARIOS = ("region-outage", "az-outage")
RATE = 200.0  # acknowledged writes/s per canary, the floor on this machine
LAG = 0.5  # seconds of replication lag: the audits miss the last LAG of pre-fault writes


def synthetic_journal(total_events: int) -> Journal:
    """`total_events` canary acks spread over the scenarios and workloads, appended by one thread
    per workload (as the canaries do), plus each scenario's fault, recovery and audit events."""
    journal = Journal()
    per_canary = total_events // (len(WORKLOADS) * len(SCENARIOS))
    duration = per_canary / RATE
    base = time.time()
    for index, scenario in enumerate(SCENARIOS):
        start = base + index * (duration + 10)
        fault = start + duration / 2

        def canary(workload: str) -> None:
            for seq in range(per_canary):
                journal.record(WRITE_ACKED, scenario, workload, t=start + seq / RATE, seq=seq, latency=0.004)

        threads = [threading.Thread(target=canary, args=(w,)) for w in WORKLOADS]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        journal.record(FAULT_INJECTED, scenario, None, t=fault, fault=scenario, detail="bench")
        journal.record(DETECTED, scenario, None, t=fault + 1, how="health check")
        for workload in WORKLOADS:
            journal.record(RUNBOOK_STARTED, scenario, workload, t=fault + 1.2, runbook="bench")
            journal.record(FAILOVER_DONE, scenario, workload, t=fault + 2, action="bench")
            journal.record(PROBE, scenario, workload, t=fault + 2.5, ok=True, detail="bench")
            kept = [s for s in range(per_canary) if start + s / RATE <= fault - LAG or start + s / RATE > fault + 3]
            journal.record(AUDIT, scenario, workload, t=start + duration + 1, present=kept, store=workload)
        journal.record(FAULT_REVERTED, scenario, None, t=start + duration, fault=scenario)
    return journal


def timed(action):
    began = time.perf_counter()
    value = action()
    return value, time.perf_counter() - began


def bench_size(total: int, *, render: bool) -> None:
    journal, build_seconds = timed(lambda: synthetic_journal(total))
    events = journal.events()
    targets = {w: WorkloadTarget("dynamodb", "warm-standby", 60.0, 1.0) for w in WORKLOADS}
    results, measure_seconds = timed(lambda: measure(events, targets))
    rpo = sorted({round(r.rpo_seconds, 4) for r in results})
    print(f"\n{len(events):>9,} events ({len(results)} scenario x workload results, RPO measured {rpo} s, "
          f"expected {LAG} s)")
    print(f"  journal append, {len(WORKLOADS)} threads : {len(events) / build_seconds:>12,.0f} events/s "
          f"(includes building the events)")
    print(f"  measure()                   : {measure_seconds:>9.3f} s  ({len(events) / measure_seconds:,.0f} events/s)")
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "journal.jsonl"
        _, write_seconds = timed(lambda: journal.write_jsonl(path))
        size_mb = path.stat().st_size / 1e6
        _, read_seconds = timed(lambda: read_jsonl(path))
        print(f"  write_jsonl / read_jsonl    : {write_seconds:>9.3f} s / {read_seconds:.3f} s ({size_mb:.0f} MB)")
        if render:
            run = RunRecord(run_id="bench", stack="bench", target="lab", endpoint=None, started_at=events[0].t,
                            ended_at=events[-1].t, scenarios=list(SCENARIOS), workloads=targets)
            written, render_seconds = timed(lambda: write_reports(Path(scratch) / "out", run, events, results))
            print(f"  write_reports (json, md, junit, {len(written) - 3} png) : {render_seconds:.3f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000", help="comma-separated journal sizes (events)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    for size in sizes:
        bench_size(size, render=size == min(sizes))


if __name__ == "__main__":
    main()
