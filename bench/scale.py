"""Scale: N DynamoDB workloads in one stack, a region outage, a known replication lag.

For N in 2, 16 and 64 (default), the prod `sessions` workload (warm-standby global table behind
Route 53 failover) is cloned N times with its own table, record and health checks, and one
region-outage game day runs through the real engine (`run_gameday`) on a real lab process, with
`--profile mechanics` and a replication lag of 0.5 s. The engine measures what the lab sustains
at start and schedules the workloads in waves (chaos/engine/waves.py). Printed per N:

- wall time of the game day and the number of waves;
- the canary's achieved write rate per workload (min and median over workloads; asked: --rate);
- the worst RPO error against the known lag: max over workloads of |measured RPO - lag|.

Run: `.venv/bin/python -m bench.scale [--sizes 2,16,64] [--rate 50] [--lag 0.5]`
Prints figures; asserts nothing.
"""
from __future__ import annotations

import argparse
import copy
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from chaos.engine.gameday import GameDayPlan, run_gameday
from chaos.engine.setup import EngineSettings
from chaos.targets.lab import LabTarget
from chaos.targets.stack_inventory import stack_inventory

TEMPLATE = "sessions"
TIME_FACTOR = 0.1  # health checks every 1 s x 3 under mechanics


def scaled_inventory(count: int) -> dict[str, Any]:
    """The prod inventory with `count` clones of the template workload and nothing else."""
    inventory = stack_inventory("prod")
    template = inventory["workloads"][TEMPLATE]
    workloads = {}
    for index in range(count):
        name = f"{TEMPLATE}-{index:03d}"
        clone = copy.deepcopy(template)
        clone["stores"]["table"]["name"] = f"{template['stores']['table']['name']}-{index:03d}"
        failover = clone["failover"]
        failover["record_name"] = f"{name}.{failover['record_name']}"
        for record in failover["records"]:
            record["set_identifier"] = f"{record['set_identifier']}-{index:03d}"
        ids = {check["id"]: f"{check['id']}-{index:03d}" for check in failover["health_checks"]}
        for check in failover["health_checks"]:
            check["id"] = ids[check["id"]]
        for record in failover["records"]:
            record["health_check_id"] = ids.get(record["health_check_id"], record["health_check_id"])
        workloads[name] = clone
    return {**inventory, "workloads": workloads}


def run_size(count: int, rate: float, lag: float) -> dict[str, Any]:
    inventory = scaled_inventory(count)
    target = LabTarget(replication_lag_seconds=lag, time_factor=TIME_FACTOR)
    plan = GameDayPlan(stack="prod", scenarios=["region-outage"], settings=EngineSettings(rate=rate),
                       time_factor=TIME_FACTOR, replication_lag_seconds=lag, profile="mechanics")
    try:
        with tempfile.TemporaryDirectory() as out:
            started = time.monotonic()
            outcome = run_gameday(plan, target, inventory, Path(out))
            wall = time.monotonic() - started
    finally:
        target.close()
    measured = [r for r in outcome.results if not r.skipped]
    rates = [r.resolution.write_rate_per_second or 0.0 for r in measured]
    errors = [abs(r.rpo_seconds - lag) for r in measured if r.rpo_seconds is not None]
    waves = {(e.data.get("wave")) for e in outcome.journal.events() if e.kind == "time_scale"}
    return {"count": count, "wall": wall, "waves": len(waves), "measured": len(measured),
            "rate_min": min(rates, default=0.0), "rate_median": statistics.median(rates) if rates else 0.0,
            "worst_error": max(errors, default=float("nan")), "unmeasured": len(measured) - len(errors),
            "capacity": outcome.run.lab_capacity_writes_per_second}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2,16,64")
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--lag", type=float, default=0.5)
    args = parser.parse_args()
    for count in (int(size) for size in args.sizes.split(",")):
        figures = run_size(count, args.rate, args.lag)
        capacity = figures["capacity"]
        unmeasured = f", {figures['unmeasured']} without an RPO" if figures["unmeasured"] else ""
        print(f"{count:3d} workloads: {figures['wall']:6.1f} s wall, {figures['waves']} waves "
              f"(lab sustained {'n/a' if capacity is None else f'{capacity:.0f}'} writes/s at start), "
              f"write rate per workload min {figures['rate_min']:.1f} / median {figures['rate_median']:.1f} "
              f"(asked {args.rate:g}), worst RPO error vs {args.lag:g} s lag "
              f"{figures['worst_error'] * 1000:.0f} ms over {figures['measured']} workloads"
              f"{unmeasured}",
              flush=True)


if __name__ == "__main__":
    main()
