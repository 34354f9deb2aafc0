"""One history entry per game day, built from its report.json (the run's stable, public output).

Keeping only what the trend needs (times, targets, verdicts) keeps the history small: a year of
nightly prod game days is a few hundred kilobytes.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

ENTRY_VERSION = 1


@dataclass(frozen=True)
class PairResult:
    """One measured (scenario, workload) pair of one run. Times are the values the verdict judged
    (AWS-equivalent seconds when the report carries them)."""

    scenario: str
    workload: str
    strategy: str
    passed: bool
    rto_seconds: float | None
    rpo_seconds: float | None
    rto_target_seconds: float
    rpo_target_seconds: float
    lost_writes: int | None


@dataclass(frozen=True)
class HistoryEntry:
    run_id: str
    stack: str
    target: str
    started_at: float
    verdict: str
    results: tuple[PairResult, ...] = field(default_factory=tuple)
    entry_version: int = ENTRY_VERSION

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> HistoryEntry:
        """Parse one stored entry; KeyError/TypeError/ValueError on a malformed one."""
        return cls(run_id=str(raw["run_id"]), stack=str(raw["stack"]), target=str(raw["target"]),
                   started_at=float(raw["started_at"]), verdict=str(raw["verdict"]),
                   results=tuple(_pair(r) for r in raw["results"]),
                   entry_version=int(raw.get("entry_version", ENTRY_VERSION)))


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _pair(raw: Mapping[str, Any]) -> PairResult:
    return PairResult(
        scenario=str(raw["scenario"]), workload=str(raw["workload"]),
        strategy=str(raw.get("strategy", "")), passed=bool(raw["passed"]),
        rto_seconds=_optional_float(raw.get("rto_seconds")),
        rpo_seconds=_optional_float(raw.get("rpo_seconds")),
        rto_target_seconds=float(raw["rto_target_seconds"]),
        rpo_target_seconds=float(raw["rpo_target_seconds"]),
        lost_writes=None if raw.get("lost_writes") is None else int(raw["lost_writes"]))


def entry_from_report(report: Mapping[str, Any]) -> HistoryEntry:
    """The history entry of one report.json document (skipped pairs carry no measurement)."""
    run = report["run"]
    return HistoryEntry(run_id=str(run["run_id"]), stack=str(run["stack"]),
                        target=str(run["target"]), started_at=float(run["started_at"]),
                        verdict=str(report["summary"]["verdict"]),
                        results=tuple(_pair(r) for r in report["results"]))
