"""Game-day figures on this machine (the lab target): prints, never asserts.

1. Canary acknowledged writes/s for ONE workload against the lab, unpaced (the canary asked for
   far more than the store can take, so it writes back to back): DynamoDB, S3 and PostgreSQL.
2. The full prod game day's wall time (`python -m chaos gameday --stack prod --quiet`, every
   scenario, default settings), its exit code, and the measurement resolution it reports
   (median interval between acknowledged writes at the default rate).
3. Where that wall time goes (from its journal): before the first wave (lab start,
   capacity burst, first deploy), each scenario's waves with their factors and lab seconds, and
   what follows the last event (measurement, reports, lab stop); the load average around it.

Run: `.venv/bin/python -m bench.gameday [--seconds 5] [--skip-gameday | --skip-ceiling]`
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from chaos.errors import ChaosError  # noqa: E402
from chaos.journal import JOURNAL_FILE, TIME_SCALE, WRITE_ACKED, Journal, read_jsonl  # noqa: E402
from chaos.targets.lab import LabTarget  # noqa: E402
from chaos.stores.base import RecordStream  # noqa: E402
from chaos.targets.inventory import parse_inventory  # noqa: E402
from chaos.workload.canary import Canary  # noqa: E402
from chaos.workload.routing import AppRouting  # noqa: E402
from infra.offline import evaluate_stack  # noqa: E402

UNPACED_RATE = 100_000.0  # far above what any store sustains: measures the ceiling


def canary_ceiling(seconds: float) -> dict[str, float]:
    """Acknowledged writes/s of one unpaced canary per kind, on a lab running the prod topology."""
    inventory = evaluate_stack("prod").inventory
    picks = {"dynamodb": "catalog", "s3": "product-images", "rds": "orders"}
    figures: dict[str, float] = {}
    target = LabTarget(replication_lag_seconds=None, time_factor=1.0)
    try:
        deployed = parse_inventory(target.prepare(inventory).inventory)
        for kind, name in picks.items():
            workload = deployed.workloads[name]
            store = workload.stores.primary()
            workload.stores.prepare(target)
            journal = Journal()
            canary = Canary(workload_name=name, workload=workload, target=target,
                            routing=AppRouting(store), stream=RecordStream("canary", "bench", kind),
                            journal=journal, rate=UNPACED_RATE)
            canary.start()
            time.sleep(seconds)
            canary.stop()
            acks = [e.t for e in journal.events() if e.kind == WRITE_ACKED]
            figures[kind] = (len(acks) - 1) / (acks[-1] - acks[0]) if len(acks) > 1 else 0.0
    finally:
        target.close()
    return figures


def full_gameday() -> dict[str, object]:
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as out:
        started, began = time.monotonic(), time.time()
        result = subprocess.run([sys.executable, "-m", "chaos", "gameday", "--stack", "prod",
                                 "--quiet", "--out", out], cwd=REPO, capture_output=True, text=True)
        wall, ended = time.monotonic() - started, time.time()
        report_path = Path(out) / "report.json"
        report = json.loads(report_path.read_text()) if report_path.exists() else {"results": []}
        breakdown = wave_breakdown(Path(out), began, ended)
    intervals = [r.get("resolution", {}).get("median_ack_interval_seconds")
                 for r in report["results"] if isinstance(r.get("resolution"), dict)]
    intervals = [i for i in intervals if i]
    return {"wall_seconds": wall, "exit_code": result.returncode,
            "summary": result.stdout.strip().splitlines()[-1:] or result.stderr.strip()[-300:],
            "median_ack_interval_seconds": statistics.median(intervals) if intervals else None,
            "results": len(report["results"]), "breakdown": breakdown,
            "load_average": (load_before, os.getloadavg()[0])}


def wave_breakdown(out: Path, began: float, ended: float) -> list[str]:
    """Lines saying where the run's wall time (epoch `began` to `ended`) went: a wave starts at
    its `time_scale` events (journaled once its lab deploy is done) and lasts until the next
    wave's."""
    try:
        events = read_jsonl(out / JOURNAL_FILE)
    except (OSError, ChaosError):  # no journal, or a torn one from a failed run: nothing to break down
        return []
    starts: dict[tuple[str, int], tuple[float, float]] = {}
    for event in events:
        if event.kind == TIME_SCALE:
            key = (event.scenario, int(event.data.get("wave", 0)))
            starts.setdefault(key, (event.t, float(event.data.get("time_factor") or 1.0)))
    ordered = sorted(starts.items(), key=lambda item: item[1][0])
    last = events[-1].t if events else began
    lines = [f"before the first wave (imports, lab start, stack, capacity burst, first deploy): "
             f"{(ordered[0][1][0] if ordered else last) - began:.1f} s"]
    per_scenario: dict[str, list[tuple[float, float]]] = {}
    for index, ((scenario, _), (begin, factor)) in enumerate(ordered):
        end = ordered[index + 1][1][0] if index + 1 < len(ordered) else last
        per_scenario.setdefault(scenario, []).append((factor, end - begin))
    for scenario, waves in per_scenario.items():
        lines.append(f"{scenario}: {sum(s for _, s in waves):.1f} s in {len(waves)} wave(s) "
                     f"({', '.join(f'{f:g}: {s:.1f} s' for f, s in waves)})")
    lines.append(f"after the last event (measurement, reports with one PNG per scenario, lab "
                 f"stop, history): {ended - last:.1f} s")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per-kind canary run")
    parser.add_argument("--skip-gameday", action="store_true")
    parser.add_argument("--skip-ceiling", action="store_true", help="only the full game day")
    args = parser.parse_args()
    if not args.skip_ceiling:
        for kind, rate in canary_ceiling(args.seconds).items():
            print(f"canary ceiling, one {kind} workload on the lab: {rate:7.1f} acknowledged writes/s")
    if not args.skip_gameday:
        figures = full_gameday()
        before, after = figures["load_average"]  # type: ignore[misc]
        print(f"full prod game day on the lab: {figures['wall_seconds']:.1f} s wall, "
              f"exit {figures['exit_code']}, {figures['results']} results ({figures['summary']}); "
              f"load average {before:.1f} before, {after:.1f} after")
        for line in figures["breakdown"]:  # type: ignore[attr-defined]
            print(f"  {line}")
        interval = figures["median_ack_interval_seconds"]
        print("measurement resolution (median interval between acknowledged writes at the default "
              f"rate): {'n/a' if interval is None else f'{interval * 1000:.1f} ms'}")


if __name__ == "__main__":
    main()
