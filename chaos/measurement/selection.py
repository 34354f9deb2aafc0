"""Split a run's events into one time-ordered timeline per (scenario, workload).

Scenario-wide events (workload None: a region outage, a health check going unhealthy) belong to
every workload of that scenario, so each timeline is self-contained and every other measurement
module reads only its timeline.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from chaos.journal import Event


@dataclass
class Timeline:
    """The events that concern one workload in one scenario, per kind, sorted by time."""

    scenario: str
    workload: str
    by_kind: dict[str, list[Event]] = field(default_factory=dict)

    def of(self, kind: str) -> list[Event]:
        return self.by_kind.get(kind, [])


def split_timelines(events: Iterable[Event]) -> list[Timeline]:
    """One timeline per (scenario, workload) named by a workload-specific event.

    Order: scenarios in the order they first appear, workloads likewise within a scenario, so
    reports follow the run. Canary threads append concurrently, so the journal is only roughly
    time-ordered; every per-kind list is sorted by `t` here (a stable sort: ties keep their order).
    One pass plus the sorts: O(n log n) over the whole journal.
    """
    own: dict[tuple[str, str], dict[str, list[Event]]] = {}
    shared: dict[str, dict[str, list[Event]]] = {}
    scenario_order: dict[str, None] = {}
    for event in events:
        scenario_order.setdefault(event.scenario, None)
        if event.workload is None:
            bucket = shared.setdefault(event.scenario, {})
        else:
            bucket = own.setdefault((event.scenario, event.workload), {})
        bucket.setdefault(event.kind, []).append(event)

    timelines: list[Timeline] = []
    for scenario in scenario_order:
        scenario_wide = shared.get(scenario, {})
        for (owner_scenario, workload), kinds in own.items():
            if owner_scenario != scenario:
                continue
            merged: dict[str, list[Event]] = {}
            for kind in kinds.keys() | scenario_wide.keys():
                merged[kind] = sorted(kinds.get(kind, []) + scenario_wide.get(kind, []), key=_time)
            timelines.append(Timeline(scenario=scenario, workload=workload, by_kind=merged))
    return timelines


def _time(event: Event) -> float:
    return event.t
