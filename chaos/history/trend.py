"""The trend per (scenario, workload): pure functions over history entries, no I/O.

A pair regresses in its latest run when it
- fails after passing in the run before, or
- measures an RTO or RPO worse than the median of its previous runs (up to `window` of them) by
  more than `tolerance` (relative) and more than `floor_seconds` (absolute: measurement jitter).
"""
from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass

from chaos.history.entries import HistoryEntry

DEFAULT_WINDOW = 5
DEFAULT_TOLERANCE = 0.2
DEFAULT_FLOOR_SECONDS = 0.05


@dataclass(frozen=True)
class Point:
    run_id: str
    started_at: float
    passed: bool
    rto_seconds: float | None
    rpo_seconds: float | None
    rto_target_seconds: float
    rpo_target_seconds: float


@dataclass(frozen=True)
class PairTrend:
    scenario: str
    workload: str
    points: tuple[Point, ...]  # oldest first
    regressions: tuple[str, ...]  # why the latest run regressed; empty when it did not

    @property
    def latest(self) -> Point:
        return self.points[-1]

    @property
    def pass_rate(self) -> float:
        return sum(p.passed for p in self.points) / len(self.points)


def series(entries: Iterable[HistoryEntry], stack: str | None = None) -> dict[tuple[str, str], list[Point]]:
    """Points per (scenario, workload), oldest run first; `stack` keeps one stack's runs."""
    found: dict[tuple[str, str], list[Point]] = {}
    for entry in sorted(entries, key=lambda e: e.started_at):
        if stack is not None and entry.stack != stack:
            continue
        for r in entry.results:
            found.setdefault((r.scenario, r.workload), []).append(Point(
                entry.run_id, entry.started_at, r.passed, r.rto_seconds, r.rpo_seconds,
                r.rto_target_seconds, r.rpo_target_seconds))
    return found


def regressions(points: list[Point], window: int = DEFAULT_WINDOW,
                tolerance: float = DEFAULT_TOLERANCE,
                floor_seconds: float = DEFAULT_FLOOR_SECONDS) -> list[str]:
    """Why the latest point regressed against the ones before it (empty: it did not)."""
    if len(points) < 2:
        return []
    latest, before = points[-1], points[-1 - window:-1]
    found = []
    if before[-1].passed and not latest.passed:
        found.append("fails now, passed in the run before")
    for metric in ("rto_seconds", "rpo_seconds"):
        value = getattr(latest, metric)
        history = [getattr(p, metric) for p in before if getattr(p, metric) is not None]
        if value is None or not history:
            continue
        median = statistics.median(history)
        if value > median * (1 + tolerance) and value - median > floor_seconds:
            found.append(f"{metric.split('_')[0].upper()} {value:.3f} s vs median {median:.3f} s "
                         f"of the {len(history)} runs before (+{(value - median):.3f} s)")
    return found


def trends(entries: Iterable[HistoryEntry], stack: str | None = None,
           window: int = DEFAULT_WINDOW, tolerance: float = DEFAULT_TOLERANCE,
           floor_seconds: float = DEFAULT_FLOOR_SECONDS) -> list[PairTrend]:
    return [PairTrend(scenario, workload, tuple(points),
                      tuple(regressions(points, window, tolerance, floor_seconds)))
            for (scenario, workload), points in sorted(series(entries, stack).items())]
