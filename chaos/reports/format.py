"""Shared wording for every human-readable report, so console, Markdown and JUnit agree."""
from __future__ import annotations

from chaos.measurement.results import ScenarioResult


def seconds(value: float | None, *, missing: str = "—") -> str:
    """3 significant decimals below 10 s (RPO lives in milliseconds), fewer above."""
    if value is None:
        return missing
    if abs(value) < 10:
        return f"{value:.3f} s"
    return f"{value:.1f} s"


def target(value: float) -> str:
    return f"{value:g} s"


def rto(result: ScenarioResult) -> str:
    if result.skipped:
        return "—"
    if result.fault_window.fault_time is None:
        return "no fault"
    return seconds(result.rto_seconds, missing="not recovered")


def rpo(result: ScenarioResult) -> str:
    if result.skipped:
        return "—"
    if result.fault_window.fault_time is None:
        return "no fault"
    return seconds(result.rpo_seconds, missing="unknown")


def lost_of_acked(result: ScenarioResult) -> str:
    if result.skipped:
        return "—"
    lost = "?" if result.lost_writes is None else str(result.lost_writes)
    return f"{lost} / {result.acknowledged_writes}"


def rate(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}/s"


def verdict_word(result: ScenarioResult) -> str:
    return {"passed": "PASS", "failed": "FAIL", "skipped": "SKIP", "interrupted": "INTERRUPTED",
            "aborted": "ABORTED"}[result.status]
