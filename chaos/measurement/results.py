"""The measured outcome of one scenario on one workload: what every report is rendered from."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from chaos.measurement.resolution import Resolution
from chaos.measurement.rto import Phases
from chaos.measurement.window import FaultWindow


@dataclass(frozen=True)
class Marks:
    """Absolute times (epoch seconds) of the moments a timeline plot marks; None when absent."""

    fault_time: float | None = None
    detected_at: float | None = None
    runbook_started_at: float | None = None
    failover_done_at: float | None = None
    recovered_at: float | None = None
    recovery_point: float | None = None
    newest_present_ack: float | None = None


@dataclass(frozen=True)
class PlanStep:
    """One execution block of the Region switch plan that recovered the workload (absolute times)."""

    name: str
    block_type: str
    started_at: float | None
    ended_at: float | None
    status: str = "completed"
    error: str | None = None

    @property
    def seconds(self) -> float | None:
        if self.started_at is None or self.ended_at is None:
            return None
        return self.ended_at - self.started_at


@dataclass(frozen=True)
class ScenarioResult:
    """Measured vs target for one (scenario, workload); `skipped` when it did not apply.

    Headline fields come first and are what CI reads from report.json: times in seconds (float),
    None where a value could not be measured (not recovered, no audit). `rto_seconds`,
    `rpo_seconds` and `phases` are AWS-equivalent (lab seconds / `time_factor`): the values judged;
    `lab_*` are what the lab clock measured. `envelope_*` is what AWS can deliver for this
    workload and scenario (None when the inventory carries no envelope). `reasons` says why a
    result failed (empty when it passed); `findings` flag a measurement outside its envelope or a
    resolution coarser than the wave planner aims at (chaos.measurement.decisive); `notes` are
    informational (post-fault writes, holes).
    """

    scenario: str
    workload: str
    strategy: str
    kind: str
    rto_target_seconds: float
    rpo_target_seconds: float
    passed: bool = False
    recovered: bool = False
    rto_seconds: float | None = None
    rpo_seconds: float | None = None
    lab_rto_seconds: float | None = None
    lab_rpo_seconds: float | None = None
    time_factor: float = 1.0
    profile: str | None = None
    envelope_rto_seconds: float | None = None
    envelope_rpo_seconds: float | None = None
    rpo_resolution_seconds: float | None = None   # AWS-equivalent: median ack interval / factor
    rto_resolution_seconds: float | None = None   # AWS-equivalent: probe interval / factor
    lost_writes: int | None = None
    acknowledged_writes: int = 0
    post_fault_acknowledged_writes: int = 0
    post_fault_survived_writes: int | None = None
    audit_store: str | None = None
    everything_lost: bool = False
    phases: Phases = field(default_factory=lambda: Phases(None, None, None, None))
    lab_phases: Phases = field(default_factory=lambda: Phases(None, None, None, None))
    resolution: Resolution = field(default_factory=lambda: Resolution(None, None, None, None, 0))
    fault_window: FaultWindow = field(default_factory=lambda: FaultWindow(None, None, None))
    marks: Marks = field(default_factory=Marks)
    reasons: list[str] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    plan_steps: list[PlanStep] = field(default_factory=list)
    """The Region switch plan's blocks, in the order they ended; empty when no plan recovered it."""
    plan_rto_objective_seconds: float | None = None
    """The plan's own `recovery_time_objective_minutes`, in seconds, when a plan recovered it."""
    skipped: bool = False
    skip_reason: str | None = None
    # "interrupted" or "aborted" when the run stopped during this scenario: its figures are
    # partial, so it is neither passed nor failed (the run's exit code says which stop it was).
    stopped: str | None = None
    stop_reason: str | None = None

    @property
    def status(self) -> str:
        """"passed", "failed", "skipped", "interrupted" or "aborted": the verdict word reports print."""
        if self.skipped:
            return "skipped"
        if self.stopped:
            return self.stopped
        return "passed" if self.passed else "failed"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
