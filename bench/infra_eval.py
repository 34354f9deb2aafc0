"""Benchmark: how long the offline evaluation of a stack takes, and how much it declares.

    python -m bench.infra_eval [--stack prod] [--runs 5]

The first run includes importing pulumi_aws and the components (what `python -m chaos gameday`
pays once); later runs are what each further evaluation in the same process costs.
Target (issue 2): under 5 s for the full prod stack on the project machine.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import Counter

TARGET_SECONDS = 5.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default="prod")
    parser.add_argument("--runs", type=int, default=5, help="evaluations after the first (default 5)")
    options = parser.parse_args()

    started = time.perf_counter()
    from infra.offline import evaluate_stack  # imported here so the first run pays for the imports

    result = evaluate_stack(options.stack)
    first = time.perf_counter() - started

    repeats = []
    for _ in range(options.runs):
        started = time.perf_counter()
        evaluate_stack(options.stack)
        repeats.append(time.perf_counter() - started)

    custom = [r for r in result.resources if r.custom and r.type != "pulumi:providers:aws"]
    components = [r for r in result.resources if not r.custom]
    print(f"stack {options.stack}: {len(custom)} AWS resources, {len(components)} components, "
          f"{len(result.inventory.get('workloads', {}))} workloads")
    print(f"first evaluation (with imports): {first:.2f} s")
    if repeats:
        print(f"further evaluations: median {statistics.median(repeats):.2f} s, max {max(repeats):.2f} s "
              f"over {len(repeats)} runs")
    verdict = "within" if first < TARGET_SECONDS else "OVER"
    print(f"target < {TARGET_SECONDS:.0f} s: {verdict}")
    by_service = Counter(r.type.split(":")[1].split("/")[0] for r in custom)
    print("resources by service: " + ", ".join(f"{service} {count}" for service, count in by_service.most_common()))


if __name__ == "__main__":
    main()
