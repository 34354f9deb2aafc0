"""`python -m chaos gameday`: run the game day of a stack and judge its RTO/RPO targets.

Exit 0 when every target is met, 1 when a target is missed, 2 when the tool or its input failed
(unknown stack/scenario/workload, bad override, unreachable endpoint, a stack not opted in) or
the run was aborted (its lab died), 130/143 when SIGINT/SIGTERM interrupted it (faults reverted,
lab stopped, partial reports saved; chaos/errors.py).
The stack's topology comes from `infra.offline.evaluate_stack` (never from its config files);
with --inventory, from a `pulumi stack output inventory --json` file instead.
"""
from __future__ import annotations

import argparse
import math
import sys
import traceback
from pathlib import Path
from typing import Any

from chaos.cli.output import writable_dir
from chaos.errors import ChaosError, RunStopped
from chaos.reports import preload_renderers, print_results
from chaos.reports.console import make_console
from chaos.engine.gameday import GameDayPlan, run_gameday
from chaos.engine.setup import EngineSettings
from chaos.scenarios.catalog import SCENARIOS
from chaos.engine.stopping import RunGuard
from chaos.targets import TARGET_NAMES, make_target
from chaos.targets.inventory import validate_inventory
from chaos.targets.localstack import load_inventory_file
from chaos.workload.canary import DEFAULT_RATE

PROFILES = ("aws", "mechanics")
# What one canary can be asked for: the fastest store on the lab acknowledges ~2,000 writes/s
# unpaced (PostgreSQL, docs/gameday.md, `python -m bench.gameday`); DynamoDB ~280/s, S3 ~230/s. The
# report shows the rate asked and the rate achieved side by side.
MAX_RATE = 2000.0
# A duration longer than one scenario's recovery budget cannot be carried by a scenario: the
# warm-up waits out the longest replication lag before the fault, and every recovery wait is
# bounded by the budget (chaos.engine.setup.EngineSettings.budget_seconds).
MAX_DURATION_SECONDS = EngineSettings().budget_seconds
MAX_TIME_FACTOR = 10.0  # as the lab's own bound (chaos.lab.deploy.MAX_TIME_FACTOR)
MAX_TARGET_SECONDS = 7 * 86_400.0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("gameday", help="run a game day: inject, recover, measure RTO/RPO",
                                   description=__doc__.splitlines()[0])
    parser.add_argument("--stack", required=True, help="Pulumi stack whose topology to test (e.g. prod)")
    parser.add_argument("--target", default="lab", choices=TARGET_NAMES,
                        help="where to run: the embedded lab (default), a LocalStack endpoint, AWS")
    parser.add_argument("--endpoint", help="endpoint URL for --target localstack")
    parser.add_argument("--inventory", help="inventory JSON (`pulumi stack output inventory --json`)"
                                            " for --target aws/localstack")
    parser.add_argument("--scenario", action="append", metavar="NAME",
                        help=f"scenario to run (repeatable; default all: {', '.join(SCENARIOS)})")
    parser.add_argument("--workload", action="append", metavar="NAME",
                        help="workload to include (repeatable; default all)")
    parser.add_argument("--replication-lag", type=str, metavar="S",
                        help="lab: replication lag in seconds for every replicated store")
    parser.add_argument("--profile", default="aws", metavar="NAME",
                        help="lab timing: aws (default; AWS's durations from the figures table, "
                             "compressed by a time factor, faster-than-AWS actions padded) or "
                             "mechanics (fixed short lags in real time, for calibration)")
    parser.add_argument("--time-factor", type=str, metavar="X",
                        help="lab seconds per AWS second (0.01 = 100x faster); default: per scenario "
                             "wave, the smallest whose resolution keeps verdicts decisive: 1/4 of "
                             "the room between envelope and target, at least 1%% of the target "
                             "(aws; docs/lab-time.md), 0.1 (mechanics)")
    parser.add_argument("--rate", type=str, default=str(DEFAULT_RATE), metavar="N",
                        help=f"canary writes/s per workload (default {DEFAULT_RATE:g})")
    parser.add_argument("--pause-seconds", type=str, default="2", metavar="S",
                        help="replication-pause: how long replication stays paused (default 2)")
    parser.add_argument("--rto-target", action="append", metavar="WORKLOAD=S",
                        help="override a workload's RTO target in seconds (repeatable)")
    parser.add_argument("--rpo-target", action="append", metavar="WORKLOAD=S",
                        help="override a workload's RPO target in seconds (repeatable)")
    parser.add_argument("--out", default="gameday-out", help="report directory (default gameday-out)")
    parser.add_argument("--quiet", action="store_true", help="no live progress; one summary line")
    parser.add_argument("--history", default=None, metavar="FILE|s3://BUCKET/KEY",
                        help="append the results to this history (default: gameday-history/<stack>.jsonl "
                             "next to --out); read it with `chaos history`")
    parser.add_argument("--no-history", action="store_true", help="do not append to a history")
    parser.set_defaults(func=run)


def _number(flag: str, text: str | None, *, minimum: float = 0.0, allow_zero: bool = True,
            maximum: float | None = None, why: str = "") -> float | None:
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < minimum or (value == 0 and not allow_zero):
        bound = f">= {minimum:g}" if allow_zero else f"> {minimum:g}"
        raise ChaosError(f"{flag}: {text!r} is not a number {bound}; pass e.g. {flag} 1.5")
    if maximum is not None and value > maximum:
        raise ChaosError(f"{flag}: {text} is more than the maximum {maximum:g}{why}; pass at most "
                         f"{flag} {maximum:g}")
    return value


def _overrides(flag: str, items: list[str] | None) -> dict[str, float]:
    parsed: dict[str, float] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise ChaosError(f"{flag}: {item!r} is not WORKLOAD=SECONDS; pass e.g. {flag} catalog=30")
        parsed[name] = _number(flag, value, allow_zero=True, maximum=MAX_TARGET_SECONDS,  # type: ignore[assignment]
                               why=" (a week; no DR target is longer)")
    return parsed


def _inventory(args: argparse.Namespace) -> dict[str, Any]:
    if args.inventory:
        inventory = load_inventory_file(args.inventory)
        validate_inventory(inventory, args.inventory)
        if inventory.get("stack") not in (None, args.stack):
            raise ChaosError(f"--inventory: {args.inventory} is stack {inventory.get('stack')!r}, "
                             f"not {args.stack!r}; pass the matching --stack")
        return inventory
    if args.target == "aws":
        raise ChaosError("--inventory: required with --target aws; write it with "
                         f"`pulumi stack output inventory --json -s {args.stack} > FILE`")
    from infra.config import ConfigError
    from chaos.targets.stack_inventory import stack_inventory
    try:
        inventory = stack_inventory(args.stack)
    except ConfigError as err:
        raise ChaosError(f"--stack: {str(err).splitlines()[0]}") from None
    validate_inventory(inventory, f"the offline evaluation of stack {args.stack}")
    return inventory


def build_plan(args: argparse.Namespace) -> GameDayPlan:
    budget = f" (a scenario's recovery budget is {MAX_DURATION_SECONDS:g} s)"
    settings = EngineSettings(
        rate=_number("--rate", args.rate, allow_zero=False, maximum=MAX_RATE,  # type: ignore[arg-type]
                     why=" writes/s (the fastest lab store acknowledges ~2,000/s; docs/gameday.md)"),
        pause_seconds=_number("--pause-seconds", args.pause_seconds,  # type: ignore[arg-type]
                              maximum=MAX_DURATION_SECONDS, why=budget),
    )
    for name in args.scenario or []:
        if name not in SCENARIOS:
            raise ChaosError(f"--scenario: unknown scenario {name!r}; choose among "
                             f"{', '.join(SCENARIOS)}")
    return GameDayPlan(
        stack=args.stack, scenarios=list(args.scenario or SCENARIOS),
        workloads=list(args.workload) if args.workload else None,
        scenarios_explicit=bool(args.scenario), settings=settings,
        rto_targets=_overrides("--rto-target", args.rto_target),
        rpo_targets=_overrides("--rpo-target", args.rpo_target),
        # > 1 runs the lab slower than AWS: useless for a verdict, handy to hold a fault open.
        time_factor=_number("--time-factor", args.time_factor, allow_zero=False,  # type: ignore[arg-type]
                            maximum=MAX_TIME_FACTOR, why=" (health checks would poll minutes apart)"),
        replication_lag_seconds=_number("--replication-lag", args.replication_lag,
                                        maximum=MAX_DURATION_SECONDS, why=budget),
        profile=_profile(args.profile))


def _profile(text: str) -> str:
    if text not in PROFILES:
        raise ChaosError(f"--profile: unknown profile {text!r}; choose aws or mechanics")
    return text


def _refuse_unopted(args: argparse.Namespace, inventory: dict[str, Any], target: Any) -> None:
    """Real endpoints need the stack's opt-in; the lab (embedded or standalone) touches nothing
    real, so it may run any stack's topology."""
    if args.target == "localstack" and not inventory.get("chaos_enabled") and not target.has_lab_api:
        raise ChaosError(f"--stack: {args.stack} has chaos_enabled: false; set "
                         "securecart-dr:chaos.enabled true for a stack you test on LocalStack")


def _run_with_progress(plan: GameDayPlan, target: Any, inventory: dict[str, Any], out: Path,
                       console: Any, quiet: bool, guard: RunGuard) -> Any:
    """Run the game day with a live status line (none in quiet mode). An unexpected failure is a
    tool failure: one line on stderr (exit 2), its traceback kept in <out>/gameday-error.log."""
    try:
        if quiet:
            return run_gameday(plan, target, inventory, out, guard=guard)
        with console.status("starting") as status:
            def on_phase(scenario: str, phase: str) -> None:
                status.update(f"[bold]{scenario}[/bold]: {phase}")
                if phase == "done":
                    console.log(f"{scenario} finished")
            return run_gameday(plan, target, inventory, out, on_phase=on_phase, guard=guard)
    except (ChaosError, RunStopped, KeyboardInterrupt):
        raise
    except Exception as err:
        log = out / "gameday-error.log"
        try:
            log.write_text(traceback.format_exc(), encoding="utf-8")
            where = f"traceback in {log}"
        except OSError:
            where = "no traceback saved: --out is not writable"
        first_line = (str(err).splitlines() or [""])[0]
        raise ChaosError(f"gameday: the harness failed ({type(err).__name__}: {first_line}); "
                         f"{where}") from None


def _output_dir(text: str) -> Path:
    """Create --out now: an unwritable directory must fail before the lab starts, not after."""
    return writable_dir("--out", Path(text))


def run(args: argparse.Namespace) -> int:
    # SIGINT and SIGTERM stop the run the same way from here on: faults reverted, lab stopped,
    # partial reports saved, exit 130 / 143 (chaos/engine/stopping.py).
    with RunGuard() as guard:
        plan = build_plan(args)
        out = _output_dir(args.out)
        lab = None
        if args.target == "lab" and not args.inventory:
            # The lab imports moto in its own process while this one evaluates the stack and loads
            # the report renderers: a small game day is bounded by the slower of the two, not the sum.
            lab = make_target("lab", endpoint=None, inventory=None,
                              replication_lag_seconds=plan.replication_lag_seconds,
                              time_factor=plan.time_factor or 1.0, profile=plan.profile)
            lab.spawn()  # type: ignore[attr-defined]
        try:
            inventory = _inventory(args)
            preload_renderers()
        except BaseException:
            if lab is not None:
                lab.close()
            raise
        console = make_console()
        target = lab or make_target(args.target, endpoint=args.endpoint, inventory=inventory,
                                    replication_lag_seconds=plan.replication_lag_seconds,
                                    time_factor=plan.time_factor or 1.0, profile=plan.profile)
        try:
            if args.target == "localstack":
                target.discover()  # type: ignore[attr-defined]
                _refuse_unopted(args, inventory, target)
            outcome = _run_with_progress(plan, target, inventory, out, console, args.quiet, guard)
        finally:
            guard.hold()  # stopping the lab must not be cut short by a second signal
            target.close()
    summary = print_results(outcome.results, console=console, quiet=args.quiet, run=outcome.run)
    if not args.quiet:
        console.print(f"reports in {args.out}/ (report.json, report.md, junit.xml, timelines)",
                      highlight=False)
    stopped = outcome.stopped
    if stopped is not None:
        done = ("faults reverted and lab stopped" if stopped.status == "interrupted"
                else "lab stopped and what it left removed")
        print(f"{stopped.status}: {done} ({stopped.reason}); partial reports in {args.out}/ "
              f"(exit {summary.exit_code})", file=sys.stderr)
    elif not args.no_history:  # a stopped run measured only part of its pairs: no trend point
        record_history(args.history or history_location(out, args.stack), out)
    return summary.exit_code


def history_location(out: Path, stack: str) -> str:
    """gameday-history/<stack>.jsonl beside the report directory: the default --out gives
    ./gameday-history/, and a run into a temporary directory keeps its history there too."""
    return str(out.resolve().parent / "gameday-history" / f"{stack}.jsonl")


def record_history(location: str, out: Path) -> None:
    """Append this run's report.json to the history. The verdict stands whatever happens here: a
    history that cannot be written is a warning, not a lost game day."""
    import json
    import sys

    from chaos.history.entries import entry_from_report
    from chaos.history.store import open_history

    try:
        report = json.loads((out / "report.json").read_text(encoding="utf-8"))
        open_history(location).append(entry_from_report(report))
    except (OSError, ValueError, KeyError, TypeError, ChaosError) as err:
        print(f"warning: history not updated ({str(err).splitlines()[0] if str(err) else type(err).__name__})",
              file=sys.stderr)
