"""Pass or fail: measured RTO/RPO against the workload's targets, and the run's exit code.

A result passes when the workload recovered, its RTO is within the RTO target, and its RPO is
known and within the RPO target. Everything else fails, with one reason per broken condition.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from chaos.errors import EXIT_OK, EXIT_TARGET_MISSED, EXIT_TOOL_ERROR
from chaos.journal import WorkloadTarget
from chaos.measurement.results import ScenarioResult
from chaos.measurement.rpo import RpoMeasurement
from chaos.measurement.rto import RtoMeasurement


def judge(target: WorkloadTarget, rto: RtoMeasurement, rpo: RpoMeasurement) -> list[str]:
    """The reasons the result fails; an empty list means it passed."""
    reasons: list[str] = []
    if rto.rto_seconds is None:
        reasons.append("not recovered: no steady-state probe passed after the fault")
    elif rto.rto_seconds > target.rto_seconds:
        reasons.append(f"RTO {rto.rto_seconds:.3f} s exceeds the target {target.rto_seconds:g} s")

    if not rpo.audited:
        reasons.append("RPO unknown: the recovered store was not audited (no audit event)")
    elif rpo.acknowledged_writes == 0:
        reasons.append("RPO unknown: no write was acknowledged before the fault (the canary did not run)")
    elif rpo.rpo_seconds is not None and rpo.rpo_seconds > target.rpo_seconds:
        reasons.append(
            f"RPO {rpo.rpo_seconds:.3f} s exceeds the target {target.rpo_seconds:g} s "
            f"({rpo.lost_writes} of {rpo.acknowledged_writes} acknowledged writes lost)"
        )
    return reasons


@dataclass(frozen=True)
class Summary:
    passed: int
    failed: int
    skipped: int
    exit_code: int

    @property
    def verdict(self) -> str:
        """One word for the run: PASS, FAIL, or EMPTY when nothing was measured."""
        if self.exit_code == EXIT_OK:
            return "PASS"
        return "FAIL" if self.exit_code == EXIT_TARGET_MISSED else "EMPTY"


def summarize(results: Iterable[ScenarioResult]) -> Summary:
    """Counts and exit code: 0 every target met, 1 any missed, 2 nothing was measured.

    A run that measured nothing (every scenario skipped, or no events) proves nothing, so it is
    reported as a broken run rather than a pass a CI job would wave through.
    """
    results = list(results)
    passed = sum(1 for r in results if r.status == "passed")
    failed = sum(1 for r in results if r.status == "failed")
    skipped = sum(1 for r in results if r.status == "skipped")
    if failed:
        code = EXIT_TARGET_MISSED
    elif passed:
        code = EXIT_OK
    else:
        code = EXIT_TOOL_ERROR
    return Summary(passed=passed, failed=failed, skipped=skipped, exit_code=code)


def exit_code(results: Iterable[ScenarioResult]) -> int:
    return summarize(results).exit_code
