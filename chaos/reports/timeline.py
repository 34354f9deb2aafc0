"""timeline-<scenario>.png: what happened to every workload's writes around the fault.

One panel per workload: acknowledged writes (seq over time, relative to the fault), split into
those the recovered store kept, those it lost and those acknowledged after the fault; refused
writes; the fault window shaded; the detection / runbook / failover / first-success moments; and
the RPO gap drawn from the recovery point to the fault; the envelope (what AWS can deliver: RTO
after the fault, RPO before it) beside the measurement. The x axis is lab seconds; each panel's
top axis reads them as AWS-equivalent seconds (lab seconds / time factor). Rendered with matplotlib's Agg canvas via
`Figure` (no pyplot global state, safe in any thread, no display needed).
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from chaos.journal import AUDIT, WRITE_ACKED, WRITE_FAILED, Event
from chaos.measurement.results import ScenarioResult
from chaos.measurement.selection import Timeline, split_timelines
from chaos.reports import format as fmt

_MARKERS = (
    # (Marks attribute, label, colour, line style)
    ("detected_at", "failure detected", "tab:orange", "--"),
    ("runbook_started_at", "runbook started", "tab:purple", "-."),
    ("failover_done_at", "failover done", "tab:blue", "--"),
    ("recovered_at", "first passing probe (RTO)", "tab:green", "-"),
)


_STYLES = {
    "acknowledged, kept": dict(color="tab:blue", marker=".", markersize=2),
    "acknowledged (store not audited)": dict(color="tab:gray", marker=".", markersize=2),
    "acknowledged, LOST": dict(color="tab:red", marker="x", markersize=3),
    "acknowledged after the fault": dict(color="tab:cyan", marker=".", markersize=2),
}


_PANEL_INCHES, _GAP_INCHES, _TOP_INCHES, _BOTTOM_INCHES = 2.0, 1.0, 1.2, 1.5


def timeline_filename(scenario: str) -> str:
    return f"timeline-{re.sub(r'[^A-Za-z0-9_.-]+', '_', scenario)}.png"


def write_timelines(out_dir: str | Path, events: Iterable[Event], results: list[ScenarioResult]) -> list[Path]:
    """One PNG per scenario that has at least one measured (not skipped) workload."""
    out_dir = Path(out_dir)
    measured = {(r.scenario, r.workload): r for r in results if not r.skipped}
    per_scenario: dict[str, list[tuple[Timeline, ScenarioResult]]] = {}
    for timeline in split_timelines(events):
        result = measured.get((timeline.scenario, timeline.workload))
        if result is not None:
            per_scenario.setdefault(timeline.scenario, []).append((timeline, result))
    return [
        render_timeline(out_dir / timeline_filename(scenario), scenario, panels)
        for scenario, panels in per_scenario.items()
    ]


def preload() -> None:
    """Import matplotlib (~1 s) now: the CLI does it while the lab starts, off the critical path."""
    import matplotlib.figure  # noqa: F401


def render_timeline(path: Path, scenario: str, panels: list[tuple[Timeline, ScenarioResult]]) -> Path:
    from matplotlib.figure import Figure  # heavy: imported on first use (see `preload`)

    # Fixed margins in inches, not layout="constrained": the constraint solver measured every tick
    # label of every panel twice and took half of the rendering (4.3 of 9 s for a 7-panel scenario
    # on a loaded machine; the PNGs were the longest part of a game day after its last wave).
    # Per panel: 2 in of plot and 1 in above it for its title and AWS-seconds axis; 1.2 in above
    # the first for the figure title, 1.5 in below the last for its x label and the legend.
    height = _TOP_INCHES + _BOTTOM_INCHES + _PANEL_INCHES * len(panels) + _GAP_INCHES * (len(panels) - 1)
    figure = Figure(figsize=(11, height), dpi=100)
    figure.subplots_adjust(left=0.07, right=0.98, top=1 - _TOP_INCHES / height,
                           bottom=_BOTTOM_INCHES / height, hspace=_GAP_INCHES / _PANEL_INCHES)
    # Each panel counts from its own fault: workloads of one scenario may run in separate waves
    # (at their own time factors), so their faults are not one moment.
    axes = figure.subplots(len(panels), 1, squeeze=False)[:, 0]
    for ax, (timeline, result) in zip(axes, panels):
        _draw_panel(ax, timeline, result, _origin([(timeline, result)]))
    axes[-1].set_xlabel("lab seconds since the fault")
    figure.suptitle(f"Game day scenario: {scenario}", fontsize="large", fontweight="bold",
                    y=1 - 0.15 / height, va="top")

    handles, labels = [], []
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            if label not in labels:
                handles.append(handle)
                labels.append(label)
    figure.legend(handles, labels, loc="lower center", bbox_to_anchor=(0.5, 0.0), ncols=4,
                  fontsize="small", markerscale=2, frameon=False)
    figure.savefig(path, format="png")
    return path


def _origin(panels: list[tuple[Timeline, ScenarioResult]]) -> float:
    """Time zero of the x axis: the fault, or the first event when no fault was injected."""
    faults = [r.marks.fault_time for _, r in panels if r.marks.fault_time is not None]
    if faults:
        return min(faults)
    return min(e.t for timeline, _ in panels for events in timeline.by_kind.values() for e in events)


def _draw_panel(ax, timeline: Timeline, result: ScenarioResult, origin: float) -> None:
    acks = timeline.of(WRITE_ACKED)
    audits = timeline.of(AUDIT)
    present = set(audits[-1].data.get("present") or ()) if audits else None
    fault_time = result.marks.fault_time

    groups: dict[str, tuple[list[float], list[float]]] = {}
    for index, ack in enumerate(acks):
        seq = ack.data.get("seq")
        if fault_time is not None and ack.t > fault_time:
            group = "acknowledged after the fault"
        elif present is None:
            group = "acknowledged (store not audited)"
        elif seq in present:
            group = "acknowledged, kept"
        else:
            group = "acknowledged, LOST"
        xs, ys = groups.setdefault(group, ([], []))
        xs.append(ack.t - origin)
        ys.append(_number(seq, index))

    for group, (xs, ys) in groups.items():
        ax.plot(xs, ys, linestyle="none", label=group, **_STYLES[group])

    failed = timeline.of(WRITE_FAILED)
    if failed:
        ax.plot(
            [f.t - origin for f in failed],
            [_number(f.data.get("seq"), i) for i, f in enumerate(failed)],
            linestyle="none", marker="|", markersize=6, color="tab:orange", label="write refused",
        )

    window = result.fault_window
    if window.start is not None:
        right = (window.end if window.end is not None else max([window.start, *(a.t for a in acks)])) - origin
        if fault_time is not None and window.start < fault_time:
            ax.axvspan(window.start - origin, fault_time - origin, color="gold", alpha=0.15,
                       label="preparatory fault (e.g. replication paused)")
        if fault_time is not None:
            ax.axvspan(fault_time - origin, right, color="tab:red", alpha=0.10, label="fault window")
            ax.axvline(fault_time - origin, color="tab:red", linewidth=1.2, label="fault injected")

    for attribute, label, colour, style in _MARKERS:
        moment = getattr(result.marks, attribute)
        if moment is not None:
            ax.axvline(moment - origin, color=colour, linestyle=style, linewidth=1.2, label=label)

    _draw_envelope(ax, result, origin)
    _draw_rpo_gap(ax, result, origin, groups, _STYLES)
    ax.set_ylabel("write seq")
    factor = result.time_factor or 1.0
    if factor != 1.0:
        top = ax.secondary_xaxis("top", functions=(lambda x: x / factor, lambda x: x * factor))
        top.tick_params(labelsize="x-small")
        top.set_xlabel(f"AWS-equivalent seconds (time factor {factor:g})", fontsize="x-small")
    envelope = ""
    if result.envelope_rto_seconds is not None or result.envelope_rpo_seconds is not None:
        envelope = (f"; envelope RTO {fmt.seconds(result.envelope_rto_seconds)}, "
                    f"RPO {fmt.seconds(result.envelope_rpo_seconds)}")
    ax.set_title(
        f"{result.workload} ({result.strategy}, {result.kind}), AWS-equivalent: "
        f"RTO {fmt.rto(result)} / target {fmt.target(result.rto_target_seconds)}, "
        f"RPO {fmt.rpo(result)} / target {fmt.target(result.rpo_target_seconds)}{envelope}"
        f" - {fmt.verdict_word(result)}{' - OUTSIDE ENVELOPE' if _outside(result) else ''}",
        fontsize="medium",
        loc="left",
        color="darkgreen" if result.passed else "darkred",
    )
    ax.grid(alpha=0.3)


def _outside(result: ScenarioResult) -> bool:
    return any("outside its envelope" in finding for finding in result.findings)


def _draw_envelope(ax, result: ScenarioResult, origin: float) -> None:
    """The envelope in lab seconds: AWS's worst-case RTO after the fault, RPO before it."""
    fault_time = result.marks.fault_time
    if fault_time is None:
        return
    factor = result.time_factor or 1.0
    if result.envelope_rto_seconds is not None:
        ax.axvline(fault_time - origin + result.envelope_rto_seconds * factor, color="black",
                   linestyle=":", linewidth=1.4, label="envelope RTO (AWS worst case)")
    if result.envelope_rpo_seconds is not None and result.envelope_rpo_seconds > 0:
        ax.axvline(fault_time - origin - result.envelope_rpo_seconds * factor, color="dimgray",
                   linestyle=(0, (1, 3)), linewidth=1.4, label="envelope RPO (AWS worst case)")


def _draw_rpo_gap(ax, result: ScenarioResult, origin: float, groups: dict, styles: dict) -> None:
    """Shade the RPO gap (recovery point to fault) and zoom on it: at game-day scale a gap of a
    few hundred milliseconds is a sliver of a minute-long axis. Drawn in lab seconds (the axis)."""
    fault_time = result.marks.fault_time
    lab_rpo = result.lab_rpo_seconds if result.lab_rpo_seconds is not None else result.rpo_seconds
    if fault_time is None or lab_rpo is None:
        return
    lost = f"{result.lost_writes} of {result.acknowledged_writes} acknowledged writes lost"
    if lab_rpo <= 0:
        ax.text(0.01, 0.96, f"RPO 0: {lost}", transform=ax.transAxes, va="top", fontsize="small", color="darkgreen")
        return
    gap = (fault_time - lab_rpo - origin, fault_time - origin)
    ax.axvspan(*gap, color="darkred", alpha=0.35, label="RPO gap (acknowledged data lost)")

    margin = max(lab_rpo, 5 * (result.resolution.median_ack_interval_seconds or 0.0))
    left, right = gap[0] - margin, gap[1] + margin
    zoom = ax.inset_axes([0.08, 0.48, 0.28, 0.40])
    lowest, highest = None, None
    for group, (xs, ys) in groups.items():
        visible = [(x, y) for x, y in zip(xs, ys) if left <= x <= right]
        if visible:
            zoom.plot(*zip(*visible), linestyle="none", **styles[group])
            lowest = min([y for _, y in visible] + ([lowest] if lowest is not None else []))
            highest = max([y for _, y in visible] + ([highest] if highest is not None else []))
    zoom.axvspan(*gap, color="darkred", alpha=0.35)
    zoom.axvline(gap[1], color="tab:red", linewidth=1.2)
    zoom.set_xlim(left, right)
    if lowest is not None and highest is not None and highest > lowest:
        zoom.set_ylim(lowest, highest)
    zoom.tick_params(labelsize="x-small")
    zoom.set_title(f"zoom: RPO {fmt.seconds(lab_rpo)} lab = {fmt.seconds(result.rpo_seconds)} AWS, {lost}",
                   fontsize="x-small", color="darkred")


def _number(seq: object, fallback: int) -> float:
    """Canary seqs are integers; anything else is plotted in recorded order."""
    try:
        return float(seq)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return float(fallback)
