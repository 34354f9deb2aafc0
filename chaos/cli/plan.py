"""`python -m chaos plan --stack prod`: what AWS can deliver for each workload, before any game day.

Per workload: its strategy and, per scenario the strategy covers, the mechanism that recovers it,
the worst-case RTO and RPO on AWS (the sum of named terms: AWS figures and what the stack
provisions), the target and the margin. Read from the stack config (`infra.envelope`), or with
--inventory from a deployed stack's `inventory` output, which carries the same envelope.

Exit codes: 0 every target within its envelope, 1 a target tighter than its envelope (only an
inventory from an older program can hold one: the config refuses them), 2 bad input.
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from rich.table import Table

from chaos.errors import EXIT_OK, EXIT_TARGET_MISSED, ChaosError
from chaos.reports.console import make_console


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "plan",
        help="print each workload's AWS envelope (worst-case RTO/RPO per scenario) against its targets",
        description=__doc__.splitlines()[0],
    )
    parser.add_argument("--stack", required=True, help="Pulumi stack whose config to plan (e.g. prod)")
    parser.add_argument("--inventory", help="read the envelope from this inventory JSON "
                                            "(`pulumi stack output inventory --json`) instead of the config")
    parser.add_argument("--workload", action="append", help="only this workload (repeatable)")
    parser.add_argument("--json", action="store_true", help="print the plan as JSON")
    parser.set_defaults(func=run)


def plan_from_stack(stack: str) -> dict[str, Any]:
    """The plan document of a stack's config: {stack, workloads: {name: {kind, strategy, targets, envelope}}}."""
    from infra.config import ConfigError, load_stack_config
    from infra.envelope.provision import envelope_document, stack_envelopes
    from infra.offline import load_stack_file

    try:
        config = load_stack_config(load_stack_file(stack))
    except ConfigError as err:
        raise ChaosError(f"--stack {stack}: {str(err).splitlines()[0]}") from None
    envelopes = stack_envelopes(config)
    return {
        "stack": stack,
        "workloads": {
            name: {
                "kind": w.kind.value,
                "strategy": w.strategy.name,
                "targets": {"rto_seconds": w.targets.rto_seconds, "rpo_seconds": w.targets.rpo_seconds},
                "envelope": envelope_document(envelopes[name], w),
            }
            for name, w in config.workloads.items()
        },
    }


def plan_from_inventory(stack: str, path: str) -> dict[str, Any]:
    from chaos.targets.localstack import load_inventory_file

    inventory = load_inventory_file(path)
    if inventory.get("stack") not in (None, stack):
        raise ChaosError(f"--inventory: {path} is stack {inventory.get('stack')!r}, not {stack!r}; "
                         "pass the matching --stack")
    workloads = {}
    for name, w in inventory.get("workloads", {}).items():
        if "envelope" not in w:
            raise ChaosError(f"--inventory: workload {name} carries no envelope (an inventory from before "
                             "issue 13); plan from the config with --stack alone")
        workloads[name] = {key: w[key] for key in ("kind", "strategy", "targets", "envelope")}
    return {"stack": stack, "workloads": workloads}


def _select(plan: dict[str, Any], names: list[str] | None) -> dict[str, Any]:
    if not names:
        return plan
    unknown = [n for n in names if n not in plan["workloads"]]
    if unknown:
        raise ChaosError(f"--workload: no workload {unknown[0]!r} in stack {plan['stack']}; "
                         f"use one of {', '.join(plan['workloads'])}")
    return {**plan, "workloads": {n: plan["workloads"][n] for n in names}}


def with_margins(plan: dict[str, Any]) -> dict[str, Any]:
    """Add `rto_margin_seconds`/`rpo_margin_seconds` (target - envelope) to every scenario."""
    for workload in plan["workloads"].values():
        for scenario in workload["envelope"]["scenarios"].values():
            target = scenario["target"]
            scenario["rto_margin_seconds"] = target["rto_seconds"] - scenario["rto_seconds"]
            scenario["rpo_margin_seconds"] = target["rpo_seconds"] - scenario["rpo_seconds"]
    return plan


def _seconds(value: float) -> str:
    if value >= 7200:
        return f"{value:g} s ({value / 3600:.4g} h)"
    return f"{value:g} s"


def _terms(terms: list[dict[str, Any]]) -> str:
    shown = [t for t in terms if t["seconds"]] or terms[:1]  # a zero bound still names its reason
    return " + ".join(f"{t['name']} {t['seconds']:g}{'*' if t['estimate'] else ''}" for t in shown) or "0"


def _print(plan: dict[str, Any]) -> None:
    console = make_console()
    console.print(f"AWS envelope of stack {plan['stack']} (worst case on AWS; * = estimate, AWS publishes none)",
                  highlight=False)
    for name, workload in plan["workloads"].items():
        table = Table(title=f"{name} ({workload['kind']}, {workload['strategy']})", title_justify="left",
                      show_lines=True)
        for column in ("scenario", "mechanism", "RTO worst", "RTO target", "margin",
                       "RPO worst", "RPO target", "margin"):
            table.add_column(column, overflow="fold")
        envelope = workload["envelope"]
        for scenario_name, s in envelope["scenarios"].items():
            table.add_row(
                scenario_name, s["mechanism"],
                f"{_seconds(s['rto_seconds'])}\n= {_terms(s['rto_terms'])}", _seconds(s["target"]["rto_seconds"]),
                _margin(s["rto_margin_seconds"]),
                f"{_seconds(s['rpo_seconds'])}\n= {_terms(s['rpo_terms'])}", _seconds(s["target"]["rpo_seconds"]),
                _margin(s["rpo_margin_seconds"]))
        console.print(table)
        for scenario_name, reason in envelope["not_covered"].items():
            console.print(f"  {scenario_name}: not covered: {reason}", highlight=False)


def _margin(value: float) -> str:
    return f"[red]{value:g} s[/red]" if value < 0 else f"{value:g} s"


def run(args: argparse.Namespace) -> int:
    plan = plan_from_inventory(args.stack, args.inventory) if args.inventory else plan_from_stack(args.stack)
    plan = with_margins(_select(plan, args.workload))
    if args.json:
        json.dump(plan, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        _print(plan)
    missed = any(s["rto_margin_seconds"] < 0 or s["rpo_margin_seconds"] < 0
                 for w in plan["workloads"].values() for s in w["envelope"]["scenarios"].values())
    return EXIT_TARGET_MISSED if missed else EXIT_OK
