"""Pass or fail: measured RTO/RPO against the workload's targets, and the run's exit code.

A result passes when the workload recovered, its RTO is within the RTO target, and its RPO is
known and within the RPO target, each decisively: the measured value plus its resolution
(chaos.measurement.decisive). Everything else fails, with one reason per broken condition.

A run that stopped early (run.json `status` interrupted or aborted, or still `running` because
its process was killed) is neither: its verdict is INTERRUPTED or ABORTED and its exit code the
one it stopped with (130 SIGINT, 143 SIGTERM, 2 aborted; chaos/errors.py), never 1, which means
"a target was missed".
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import signal

from chaos.errors import EXIT_OK, EXIT_TARGET_MISSED, EXIT_TOOL_ERROR, signal_exit_code
from chaos.journal import ABORTED, COMPLETED, INTERRUPTED, RunRecord, WorkloadTarget
from chaos.measurement.decisive import undecided, undecided_reason
from chaos.measurement.results import ScenarioResult
from chaos.measurement.rpo import RpoMeasurement
from chaos.measurement.rto import RtoMeasurement


def judge(target: WorkloadTarget, rto: RtoMeasurement, rpo: RpoMeasurement, *,
          rto_resolution: float | None = None, rpo_resolution: float | None = None) -> list[str]:
    """The reasons the result fails; an empty list means it passed. The resolutions are
    AWS-equivalent seconds (None: unknown, the measured value stands alone)."""
    reasons: list[str] = []
    if rto.rto_seconds is None:
        reasons.append("not recovered: no steady-state probe passed after the fault")
    elif rto.rto_seconds > target.rto_seconds:
        reasons.append(f"RTO {rto.rto_seconds:.3f} s exceeds the target {target.rto_seconds:g} s")
    elif undecided(rto.rto_seconds, rto_resolution, target.rto_seconds):
        reasons.append(undecided_reason("RTO", rto.rto_seconds, rto_resolution or 0.0, target.rto_seconds))

    if not rpo.audited:
        reasons.append("RPO unknown: the recovered store was not audited (no audit event)")
    elif rpo.acknowledged_writes == 0:
        reasons.append("RPO unknown: no write was acknowledged before the fault (the canary did not run)")
    elif rpo.rpo_seconds is not None and rpo.rpo_seconds > target.rpo_seconds:
        reasons.append(
            f"RPO {rpo.rpo_seconds:.3f} s exceeds the target {target.rpo_seconds:g} s "
            f"({rpo.lost_writes} of {rpo.acknowledged_writes} acknowledged writes lost)"
        )
    elif undecided(rpo.rpo_seconds, rpo_resolution, target.rpo_seconds):
        reasons.append(undecided_reason("RPO", rpo.rpo_seconds or 0.0, rpo_resolution or 0.0,
                                        target.rpo_seconds))
    return reasons


@dataclass(frozen=True)
class Summary:
    passed: int
    failed: int
    skipped: int
    exit_code: int
    stopped: str | None = None       # "interrupted" / "aborted": the run did not finish
    stop_reason: str | None = None
    unfinished: int = 0              # results cut short by the stop

    @property
    def verdict(self) -> str:
        """One word for the run: PASS, FAIL, INTERRUPTED, ABORTED, or EMPTY when nothing was measured."""
        if self.stopped:
            return self.stopped.upper()
        if self.exit_code == EXIT_OK:
            return "PASS"
        return "FAIL" if self.exit_code == EXIT_TARGET_MISSED else "EMPTY"


def summarize(results: Iterable[ScenarioResult], run: RunRecord | None = None) -> Summary:
    """Counts and exit code: 0 every target met, 1 any missed, 2 nothing was measured; a run
    that stopped early exits with the code it stopped with (module docstring).

    A run that measured nothing (every scenario skipped, or no events) proves nothing, so it is
    reported as a broken run rather than a pass a CI job would wave through.
    """
    results = list(results)
    passed = sum(1 for r in results if r.status == "passed")
    failed = sum(1 for r in results if r.status == "failed")
    skipped = sum(1 for r in results if r.status == "skipped")
    unfinished = sum(1 for r in results if r.stopped)
    stopped, reason = _stop(results, run)
    if stopped:
        default = EXIT_TOOL_ERROR if stopped == ABORTED else signal_exit_code(signal.SIGINT)
        code = run.exit_code if run is not None and run.exit_code is not None else default
    elif failed:
        code = EXIT_TARGET_MISSED
    elif passed:
        code = EXIT_OK
    else:
        code = EXIT_TOOL_ERROR
    return Summary(passed=passed, failed=failed, skipped=skipped, exit_code=code, stopped=stopped,
                   stop_reason=reason, unfinished=unfinished)


def _stop(results: list[ScenarioResult], run: RunRecord | None) -> tuple[str | None, str | None]:
    if run is not None and run.status != COMPLETED:
        status = run.status if run.status in (INTERRUPTED, ABORTED) else ABORTED
        return status, run.stop_reason
    for result in results:  # no run record at hand: the journal's own stop event
        if result.stopped:
            return result.stopped, result.stop_reason
    return None, None


def exit_code(results: Iterable[ScenarioResult], run: RunRecord | None = None) -> int:
    return summarize(results, run).exit_code
