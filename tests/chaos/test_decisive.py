"""Decisive verdicts (chaos.measurement.decisive): a PASS holds with one resolution added.
Pure functions, hand-worked cases; one end-to-end case through `measure`."""
from __future__ import annotations

from dataclasses import replace

import pytest

from chaos.journal import WorkloadTarget
from chaos.measurement import measure
from chaos.measurement.decisive import allowed_resolution, room, undecided
from chaos.measurement.rpo import RpoMeasurement
from chaos.measurement.rto import Phases, RtoMeasurement
from chaos.measurement.verdict import judge
from tests.chaos.test_measurement import TARGETS, outage_events


def rto(seconds: float | None) -> RtoMeasurement:
    return RtoMeasurement(rto_seconds=seconds, recovered_at=None if seconds is None else seconds,
                          detected_at=None, runbook_started_at=None, failover_done_at=None,
                          phases=Phases(None, None, None, None))


def rpo(seconds: float, lost: int = 0) -> RpoMeasurement:
    return RpoMeasurement(rpo_seconds=seconds, audited=True, store="s", acknowledged_writes=100,
                          lost_writes=lost, recovery_point=None, newest_present_ack=None,
                          everything_lost=False, lost_before_newest_present=0,
                          post_fault_acknowledged_writes=0, post_fault_survived_writes=None)


TARGET = WorkloadTarget(kind="rds", strategy="pilot-light", rto_seconds=5400.0, rpo_seconds=60.0)


@pytest.mark.parametrize("measured, resolution, verdict", [
    (3900.0, 50.0, "pass"),        # 3950 <= 5400
    (5350.0, 50.0, "pass"),        # exactly on the target with the resolution added: still met
    (5360.0, 50.0, "undecided"),   # 5360 <= 5400 < 5410
    (5400.0, 50.0, "undecided"),
    (5400.1, 50.0, "fail"),        # over the target: a miss, whatever the resolution
    (5300.0, None, "pass"),        # resolution unknown: the measured value stands alone
])
def test_rto_passes_only_when_measured_plus_resolution_meets_the_target(measured, resolution, verdict):
    reasons = judge(TARGET, rto(measured), rpo(0.0), rto_resolution=resolution, rpo_resolution=1.0)
    assert ("pass" if not reasons else "undecided" if "within its resolution" in reasons[0] else "fail") == verdict
    if verdict == "undecided":
        assert reasons == [f"RTO {measured:.3f} s is within its resolution (50.000 s, AWS-equivalent) "
                           f"of the target 5400 s: not a decisive PASS; rerun with a larger "
                           "--time-factor (lab seconds per AWS second) for a finer resolution"]


def test_rpo_within_one_write_interval_of_its_target_is_undecided_and_names_the_rate():
    # 55 s lost, one write interval = 8 s AWS-equivalent (20 ms at factor 0.0025): 63 s > 60 s.
    [reason] = judge(TARGET, rto(100.0), rpo(55.0), rto_resolution=1.0, rpo_resolution=8.0)
    assert reason.startswith("RPO 55.000 s is within its resolution (8.000 s, AWS-equivalent) of the target 60 s")
    assert "--time-factor" in reason and "--rate" in reason
    assert judge(TARGET, rto(100.0), rpo(52.0), rto_resolution=1.0, rpo_resolution=8.0) == []


def test_a_zero_target_is_judged_by_lost_writes_alone():
    zero = replace(TARGET, rpo_seconds=0.0)
    assert judge(zero, rto(10.0), rpo(0.0), rto_resolution=1.0, rpo_resolution=5.0) == []
    assert undecided(0.0, 5.0, 0.0) is False
    assert allowed_resolution(0.0, 0.0) is None


@pytest.mark.parametrize("target, envelope, allowed", [
    (5400.0, 3960.0, 360.0),   # a quarter of the 1440 s room
    (60.0, 1.0, 14.75),        # PITR: 1 s precision against a 60 s target
    (1200.0, 1190.0, 12.0),    # room 10 s: a quarter (2.5) is finer than 1 %: 1 % stands
    (300.0, 300.0, 3.0),       # no room (AWS's worst case is the target): 1 %
    (180.0, 400.0, 1.8),       # envelope beyond the target: 1 %
    (180.0, None, 1.8),        # no envelope: 1 %
])
def test_the_allowed_resolution_is_a_quarter_of_the_room_never_finer_than_one_percent(target, envelope, allowed):
    assert allowed_resolution(target, envelope) == pytest.approx(allowed)


def test_room_is_the_gap_between_envelope_and_target_when_there_is_one():
    assert room(5400.0, 3960.0) == pytest.approx(1440.0)
    assert room(300.0, 300.0) is None and room(180.0, None) is None and room(0.0, 0.0) is None


def test_measure_reports_an_rto_inside_its_resolution_as_not_passed():
    """outage_events: RTO 3.5 s; probes after the fault every 1.0 and 1.5 s (median 1.25 s)."""
    tight = replace(TARGETS["catalog"], rto_seconds=4.0)
    [result] = measure(outage_events(), {"catalog": tight})
    assert result.rto_seconds == pytest.approx(3.5) and result.rto_resolution_seconds == pytest.approx(1.25)
    assert not result.passed
    assert any("RTO 3.500 s is within its resolution (1.250 s" in r for r in result.reasons)
    [roomy] = measure(outage_events(), {"catalog": replace(tight, rto_seconds=4.75)})
    assert roomy.passed, roomy.reasons


def test_measure_reports_an_rpo_inside_its_resolution_as_not_passed():
    """lag 0.99 s with a write every 10 ms: RPO 0.99 s, resolution 0.01 s."""
    [result] = measure(outage_events(lag=0.99), {"catalog": replace(TARGETS["catalog"], rpo_seconds=0.995)})
    assert result.rpo_seconds == pytest.approx(0.99, abs=1e-4)
    assert not result.passed and any("RPO 0.990 s is within its resolution" in r for r in result.reasons)
