"""`python -m infra.cost --stack prod [--json] [--what-if WORKLOAD] [--out DIR] [--strict]`

What the stack's backup, retention and replication rules cost: a year simulated day by day
(infra.cost.workloads) and priced from the sourced price table (infra.cost.prices). Prints the
monthly cost per workload split by mechanism, the saving of the configured lifecycles against
keeping everything in S3 Standard and warm backup storage, each budget against its estimate, and
(`--what-if`) the four strategies side by side for one workload: monthly cost beside the envelope's
RTO and RPO, with a PNG of cost against RPO in --out.

Exit codes: 0 estimated; 1 with --strict when an estimate is over its budget; 2 bad input.
"""
from __future__ import annotations

import argparse
import copy
import importlib
import json
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path

from infra.config import ConfigError, load_stack_config
from infra.cost.estimate import (Estimate, StrategyOption, budgets, cost_workloads, envelope_of,
                                 what_if_overrides)
from infra.cost.evaluations import evaluated
from infra.cost.prices import MissingPrice
from infra.cost.schedule import ScheduleError
from infra.cost.workloads import Declared
from infra.strategies import STRATEGIES


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def build_estimate(stack: str, meanwhile: Callable[[], object] | None = None) -> Estimate:
    """The estimate; `meanwhile` runs while the evaluations the cache misses run in their forks."""
    from infra.offline import apply_override, load_stack_file

    raw = load_stack_file(stack)
    config = load_stack_config(raw)
    variants = {strategy: overrides for strategy in STRATEGIES
                if (overrides := what_if_overrides(config, strategy))}
    # All at once: the evaluations the cache misses run in parallel (infra/cost/evaluations.py).
    base, *evaluated_variants = evaluated(stack, [None, *variants.values()], meanwhile)
    declared = Declared(base.resources)
    workloads = cost_workloads(declared, config)
    untiered = cost_workloads(Declared(base.resources, tiering=False), config)
    saving = sum(w.monthly_usd for w in untiered) - sum(w.monthly_usd for w in workloads)
    what_if: dict[str, list[StrategyOption]] = {name: [] for name in config.workloads}
    for (strategy, overrides), variant in zip(variants.items(), evaluated_variants):
        variant_raw = copy.deepcopy(raw)
        for key, value in overrides.items():
            apply_override(variant_raw, key, value)
        variant_config = load_stack_config(variant_raw)
        switched = {name for name, w in variant_config.workloads.items() if w.strategy.name == strategy}
        costs = {w.name: w for w in cost_workloads(Declared(variant.resources), variant_config, switched)}
        for name, workload in variant_config.workloads.items():
            if name not in switched:
                continue
            rto, rpo = envelope_of(variant.inventory, name)
            what_if[name].append(StrategyOption(strategy, costs[name].monthly_usd, rto, rpo,
                                                costs[name].by_mechanism(), costs[name].unpriced))
    return Estimate(stack, workloads, saving, budgets(declared, workloads), what_if)


def print_table(estimate: Estimate) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False, width=120)
    table = Table(box=box.SIMPLE_HEAD, title=f"{estimate.stack}: monthly cost (month 12 of a simulated year)")
    for column in ("Workload", "Kind", "Strategy", "Mechanism", "USD/month"):
        table.add_column(column, justify="right" if column == "USD/month" else "left")
    for workload in estimate.workloads:
        mechanisms = workload.by_mechanism()
        for index, (mechanism, usd) in enumerate(mechanisms.items()):
            first = index == 0
            table.add_row(workload.name if first else "", workload.kind if first else "",
                          workload.strategy if first else "", mechanism, f"{usd:,.2f}")
        table.add_row("", "", "", "[bold]total[/bold]", f"[bold]{workload.monthly_usd:,.2f}[/bold]",
                      end_section=True)
    console.print(table)
    console.print(f"total: ${estimate.total_monthly_usd:,.2f}/month; the configured lifecycles and cold "
                  f"storage save ${estimate.lifecycle_saving_usd:,.2f}/month against keeping everything in "
                  "S3 Standard and warm backup storage")
    if estimate.unpriced:
        console.print("[bold]not in the totals[/bold] (no sourced price in infra/cost/prices.py yet):")
        for item in estimate.unpriced:
            console.print(f"  {item.workload}: {item.mechanism}: {item.quantity:,.1f} {item.unit} of "
                          f"{item.key} in {item.region}")
    for check in estimate.budgets:
        state = "OVER" if check.over else "within"
        console.print(f"budget {check.key}: ${check.estimate_usd:,.2f} estimated vs ${check.budget_usd:,.2f} "
                      f"({state}; services {', '.join(check.services)})")


def print_what_if(estimate: Estimate, workload: str) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    table = Table(box=box.SIMPLE_HEAD, title=f"{workload}: strategies side by side")
    for column in ("Strategy", "USD/month", "Envelope RTO", "Envelope RPO", "Largest mechanism"):
        table.add_column(column)
    for option in estimate.what_if[workload]:
        top = next(iter(option.mechanisms.items()), ("—", 0.0))
        usd = f"{option.monthly_usd:,.2f}" + (" + unpriced" if option.unpriced else "")
        table.add_row(option.strategy, usd, _seconds(option.envelope_rto_seconds),
                      _seconds(option.envelope_rpo_seconds), f"{top[0]} ({top[1]:,.2f})")
    console = Console(highlight=False, width=120)
    console.print(table)
    for option in estimate.what_if[workload]:
        for item in option.unpriced:
            console.print(f"  {option.strategy}: unpriced {item.key} in {item.region} "
                          f"({item.quantity:,.1f} {item.unit}, {item.mechanism}): left out of its USD/month")


def print_prices() -> None:
    from infra.cost.prices import MINIMUM_DAYS, PRICES, PRICED_REGIONS

    print(f"prices for {', '.join(PRICED_REGIONS)} (on-demand list prices)")
    for key, entry in sorted(PRICES.items()):
        note = f" ({entry.note})" if entry.note else ""
        print(f"  {key:55} ${entry.usd:<9g} per {entry.unit}{note}\n      source: {entry.source}, read {entry.read_on}")
    print("minimum storage durations (early deletion billed as the remaining days)")
    for key, (days, source) in sorted(MINIMUM_DAYS.items()):
        print(f"  {key:55} {days} days; source: {source}")


def _seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f} s"


def _import_output_modules(args: argparse.Namespace) -> None:
    """What printing needs (rich for the tables, matplotlib for the chart: ~0.5 s of CPU), imported
    while the evaluations run rather than after them."""
    if not args.json:
        importlib.import_module("rich.table")
    if args.what_if is not None:
        importlib.import_module("infra.cost.chart")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.cost", description=__doc__.splitlines()[0])
    parser.add_argument("--stack", help="stack name (Pulumi.<stack>.yaml)")
    parser.add_argument("--prices", action="store_true", help="print the price table with its sources and exit")
    parser.add_argument("--json", action="store_true", help="print the estimate as JSON")
    parser.add_argument("--what-if", metavar="WORKLOAD", help="compare the strategies for one workload")
    parser.add_argument("--out", default="cost-out", help="directory for the what-if chart (default cost-out)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when an estimate is over its budget")
    args = parser.parse_args(argv)
    if args.prices:
        print_prices()
        return 0
    if not args.stack:
        return _fail("--stack: required; pass e.g. --stack prod (or --prices for the price table)")
    from infra.offline import load_stack_file

    try:
        workloads = load_stack_config(load_stack_file(args.stack)).workloads  # cheap: check input first
        if args.what_if is not None and args.what_if not in workloads:
            return _fail(f"--what-if: no workload {args.what_if!r} in stack {args.stack}; choose among "
                         f"{', '.join(workloads)}")
        estimate = build_estimate(args.stack, meanwhile=partial(_import_output_modules, args))
    except (ConfigError, FileNotFoundError) as err:
        return _fail(f"--stack {args.stack}: {str(err).splitlines()[0]}")
    except MissingPrice as err:  # a region outside the table
        return _fail(str(err.args[0]))
    except ScheduleError as err:
        return _fail(f"a backup rule's schedule: {err}")
    chart = None
    if args.what_if is not None:
        from infra.cost.chart import write_what_if_chart

        try:
            Path(args.out).mkdir(parents=True, exist_ok=True)
            chart = write_what_if_chart(Path(args.out) / f"what-if-{args.what_if}.png", args.what_if,
                                        estimate.what_if[args.what_if])
        except OSError as err:
            return _fail(f"--out: cannot write in {args.out} ({err.strerror}); pass a writable directory")
    if args.json:
        document = estimate.to_dict()
        if chart is not None:
            document["what_if_chart"] = str(chart)
        print(json.dumps(document, indent=2))
    else:
        print_table(estimate)
        if args.what_if is not None:
            print_what_if(estimate, args.what_if)
            print(f"chart: {chart}")
    if estimate.unpriced:
        keys = sorted({u.key for u in estimate.unpriced})
        print(f"warning: the totals leave out {len(estimate.unpriced)} quantities with no sourced price "
              f"({', '.join(keys)}); add them to infra/cost/prices.py with their source", file=sys.stderr)
    over = [check for check in estimate.budgets if check.over]
    for check in over:
        level = "error" if args.strict else "warning"
        print(f"{level}: {check.key}: estimate ${check.estimate_usd:,.2f}/month is over the budget of "
              f"${check.budget_usd:,.2f}; raise the budget or cut the rules that cost most", file=sys.stderr)
    return 1 if (args.strict and over) else 0


if __name__ == "__main__":
    sys.exit(main())
