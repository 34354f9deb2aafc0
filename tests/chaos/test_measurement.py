"""Measurement over hand-made journals: every figure below is known by construction.

The reference run (`outage_events`): a canary acknowledges one write every 10 ms from t0 to
t0+20 s; a region outage at t0+10 s; replication lags 0.5 s, so the recovered store holds every
write acknowledged up to t0+9.5 s (seq 950) and loses seqs 951..1000; writes fail while the
region is down and resume at t0+14 s into the recovered store.
"""
from __future__ import annotations

import random

import pytest

from chaos.errors import ChaosError
from chaos.journal import (
    AUDIT,
    DETECTED,
    FAILOVER_DONE,
    FAULT_INJECTED,
    FAULT_REVERTED,
    PROBE,
    RUNBOOK_STARTED,
    SKIPPED,
    WRITE_ACKED,
    WRITE_FAILED,
    Event,
    WorkloadTarget,
)
from chaos.measurement import exit_code, measure, summarize
from chaos.measurement.resolution import percentile

T0 = 1_764_000_000.0  # an epoch time of realistic magnitude: float rounding is part of the test
SCENARIO = "region-outage"
TARGETS = {
    "catalog": WorkloadTarget(kind="dynamodb", strategy="warm-standby", rto_seconds=5.0, rpo_seconds=1.0),
    "orders": WorkloadTarget(kind="rds", strategy="pilot-light", rto_seconds=60.0, rpo_seconds=0.0),
}


def ev(offset: float, kind: str, workload: str | None = "catalog", scenario: str = SCENARIO, **data) -> Event:
    return Event(t=T0 + offset, kind=kind, scenario=scenario, workload=workload, data=data)


def outage_events(
    *,
    workload: str = "catalog",
    scenario: str = SCENARIO,
    lag: float = 0.5,
    with_audit: bool = True,
    recovered: bool = True,
) -> list[Event]:
    events: list[Event] = []
    for seq in range(0, 2001):
        t = seq / 100
        if t <= 10.0 or t >= 14.0:
            events.append(ev(t, WRITE_ACKED, workload, scenario, seq=seq, latency=0.002 + (seq % 10) / 1000))
        else:
            events.append(ev(t, WRITE_FAILED, workload, scenario, seq=seq, error="ServiceUnavailable"))
    events += [
        ev(10.0, FAULT_INJECTED, None, scenario, fault="region-outage", detail="us-east-1"),
        ev(11.0, DETECTED, None, scenario, how="health check unhealthy"),
        ev(11.5, RUNBOOK_STARTED, workload, scenario, runbook="warm-standby"),
        ev(12.0, FAILOVER_DONE, workload, scenario, action="switch region"),
        ev(12.5, PROBE, workload, scenario, ok=False, detail="stale DNS answer"),
        ev(13.0, FAILOVER_DONE, workload, scenario, action="route 53 record failed over"),
        ev(18.0, FAULT_REVERTED, None, scenario, fault="region-outage"),
    ]
    if recovered:
        events += [ev(13.5, PROBE, workload, scenario, ok=True, detail="read-your-write"),
                   ev(15.0, PROBE, workload, scenario, ok=True, detail="read-your-write")]
    else:
        events.append(ev(16.0, PROBE, workload, scenario, ok=False, detail="timeout"))
    if with_audit:
        kept_before = [s for s in range(0, 1001) if s / 100 <= 10.0 - lag]
        kept_after = list(range(1400, 2001))
        events.append(ev(20.5, AUDIT, workload, scenario, present=kept_before + kept_after, store="catalog@us-west-2"))
    return events


def only(results):
    assert len(results) == 1, results
    return results[0]


def test_rto_and_each_phase():
    result = only(measure(outage_events(), TARGETS))
    assert result.recovered
    assert result.rto_seconds == pytest.approx(3.5)
    assert result.phases.detection_seconds == pytest.approx(1.0)
    assert result.phases.decision_seconds == pytest.approx(0.5)
    # the failover ends with the runbook's last action before the first success
    assert result.phases.failover_seconds == pytest.approx(1.5)
    assert result.phases.first_success_seconds == pytest.approx(0.5)
    phases = result.phases
    total = phases.detection_seconds + phases.decision_seconds + phases.failover_seconds + phases.first_success_seconds
    assert total == pytest.approx(result.rto_seconds)


def test_rpo_with_known_gap_and_lost_count():
    result = only(measure(outage_events(lag=0.5), TARGETS))
    assert result.acknowledged_writes == 1001  # seqs 0..1000, the last one at exactly the fault time
    assert result.lost_writes == 50  # seqs 951..1000
    assert result.rpo_seconds == pytest.approx(0.5)
    assert result.marks.recovery_point == pytest.approx(T0 + 9.5)
    assert result.passed, result.reasons


def test_rpo_above_target_fails_with_the_figures():
    result = only(measure(outage_events(lag=2.0), TARGETS))
    assert result.rpo_seconds == pytest.approx(2.0)
    assert result.lost_writes == 200
    assert not result.passed
    assert any("RPO 2.000 s exceeds the target 1 s (200 of 1001" in r for r in result.reasons)


def test_nothing_lost_means_zero_lost_and_rpo_within_one_interval():
    result = only(measure(outage_events(lag=0.0), TARGETS))
    assert result.lost_writes == 0
    assert result.rpo_seconds <= result.resolution.median_ack_interval_seconds
    assert result.rpo_seconds == 0.0
    assert result.passed


def test_rpo_zero_target_is_met_only_without_loss():
    zero_loss = only(measure(outage_events(workload="orders", lag=0.0), TARGETS))
    assert zero_loss.passed, zero_loss.reasons
    one_write_lost = only(measure(outage_events(workload="orders", lag=0.01), TARGETS))
    assert one_write_lost.lost_writes == 1
    assert not one_write_lost.passed


def test_no_passing_probe_is_not_recovered_and_fails():
    result = only(measure(outage_events(recovered=False), TARGETS))
    assert not result.recovered
    assert result.rto_seconds is None
    assert result.phases.first_success_seconds is None
    assert result.phases.detection_seconds == pytest.approx(1.0)  # the phases that happened are kept
    assert not result.passed
    assert any("not recovered" in r for r in result.reasons)


def test_probe_passing_before_the_fault_does_not_count():
    events = outage_events(recovered=False) + [ev(5.0, PROBE, ok=True, detail="steady state")]
    assert only(measure(events, TARGETS)).rto_seconds is None


def test_missing_audit_fails_with_reason():
    result = only(measure(outage_events(with_audit=False), TARGETS))
    assert result.rpo_seconds is None
    assert result.lost_writes is None
    assert result.acknowledged_writes == 1001
    assert not result.passed
    assert any("RPO unknown" in r and "audit" in r for r in result.reasons)


def test_writes_after_the_fault_are_not_lost_pre_fault_writes():
    events = outage_events(lag=0.5)
    audit = next(e for e in events if e.kind == AUDIT)
    # the recovered store lost every post-fault write too: still only the 50 pre-fault ones count
    pre_fault_only = [s for s in audit.data["present"] if s <= 1000]
    events = [e for e in events if e.kind != AUDIT] + [ev(20.5, AUDIT, present=pre_fault_only, store="x")]
    result = only(measure(events, TARGETS))
    assert result.lost_writes == 50
    assert result.post_fault_acknowledged_writes == 601  # seqs 1400..2000
    assert result.post_fault_survived_writes == 0
    assert any("601 writes acknowledged after the fault, 0 in the recovered store" in n for n in result.notes)


def test_a_hole_before_surviving_writes_sets_the_recovery_point():
    events = outage_events(lag=0.0)
    audit = next(e for e in events if e.kind == AUDIT)
    holed = [s for s in audit.data["present"] if not 700 <= s <= 709]
    events = [e for e in events if e.kind != AUDIT] + [ev(20.5, AUDIT, present=holed, store="x")]
    result = only(measure(events, TARGETS))
    assert result.lost_writes == 10
    # the store is complete only up to seq 699 (t0+6.99): everything after is in doubt
    assert result.rpo_seconds == pytest.approx(10.0 - 6.99)
    assert result.marks.newest_present_ack == pytest.approx(T0 + 10.0)
    assert any("10 lost writes are older than the newest surviving one" in n for n in result.notes)


def test_everything_lost_counts_from_the_first_ack_and_is_flagged():
    events = [e for e in outage_events() if e.kind != AUDIT] + [ev(20.5, AUDIT, present=[], store="x")]
    result = only(measure(events, TARGETS))
    assert result.lost_writes == 1001
    assert result.everything_lost
    assert result.rpo_seconds == pytest.approx(10.0)
    assert any("every acknowledged pre-fault write was lost" in n for n in result.notes)


def test_preparatory_fault_opens_the_window_but_the_outage_sets_the_fault_time():
    events = outage_events(lag=0.5) + [
        ev(6.0, FAULT_INJECTED, None, fault="replication-pause", detail="catalog", preparatory=True)
    ]
    result = only(measure(events, TARGETS))
    assert result.fault_window.start == pytest.approx(T0 + 6.0)
    assert result.fault_window.fault_time == pytest.approx(T0 + 10.0)
    assert result.fault_window.end == pytest.approx(T0 + 18.0)
    assert result.fault_window.faults == ["replication-pause", "region-outage"]
    assert result.rto_seconds == pytest.approx(3.5)


def test_missing_phases_are_none_not_invented():
    events = [e for e in outage_events() if e.kind not in (RUNBOOK_STARTED, FAILOVER_DONE)]
    result = only(measure(events, TARGETS))
    assert result.phases.detection_seconds == pytest.approx(1.0)
    assert result.phases.decision_seconds is None
    assert result.phases.failover_seconds is None
    assert result.phases.first_success_seconds is None
    assert result.rto_seconds == pytest.approx(3.5)


def test_failover_confirmed_after_a_probe_already_passed_ends_at_that_probe():
    # The runbook polls its action; a concurrent probe may see the effect first. The action was
    # done by the first success at the latest: failover ends there, first success is 0.
    events = [e for e in outage_events() if e.kind != FAILOVER_DONE]
    events.append(ev(13.6, FAILOVER_DONE, "catalog", action="promoted replica (confirmed late)"))
    result = only(measure(events, TARGETS))
    assert result.phases.failover_seconds == pytest.approx(2.0)
    assert result.phases.first_success_seconds == pytest.approx(0.0)
    assert result.rto_seconds == pytest.approx(3.5)


def test_rto_above_target_fails():
    events = [e for e in outage_events() if not (e.kind == PROBE and e.data["ok"])]
    events.append(ev(16.0, PROBE, ok=True, detail="late"))
    result = only(measure(events, TARGETS))
    assert result.rto_seconds == pytest.approx(6.0)
    assert not result.passed
    assert result.reasons == ["RTO 6.000 s exceeds the target 5 s"]


def test_no_fault_fails_with_reason():
    events = [e for e in outage_events() if e.kind != FAULT_INJECTED]
    result = only(measure(events, TARGETS))
    assert not result.passed
    assert "no fault was injected" in result.reasons[0]


def test_no_write_before_the_fault_fails():
    events = [e for e in outage_events() if not (e.kind == WRITE_ACKED and e.t <= T0 + 10.0)]
    result = only(measure(events, TARGETS))
    assert not result.passed
    assert any("no write was acknowledged before the fault" in r for r in result.reasons)


def test_resolution_rate_and_latency():
    result = only(measure(outage_events(), TARGETS))
    assert result.resolution.median_ack_interval_seconds == pytest.approx(0.01, abs=1e-6)
    assert result.resolution.write_rate_per_second == pytest.approx(100.0, rel=1e-3)
    assert result.resolution.ack_latency_p50_seconds == pytest.approx(0.006)
    assert result.resolution.ack_latency_p99_seconds == pytest.approx(0.011)
    assert result.resolution.failed_writes == 399  # seqs 1001..1399


def test_percentile_is_an_observed_value():
    assert percentile([], 50) is None
    assert percentile([1.0], 99) == 1.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.0
    assert percentile([float(v) for v in range(1, 101)], 99) == 99.0


def test_scenario_wide_events_reach_every_workload_and_order_does_not_matter():
    events = outage_events(workload="catalog", lag=0.5) + [
        e for e in outage_events(workload="orders", lag=0.0) if e.workload is not None
    ]
    shuffled = list(events)
    random.Random(7).shuffle(shuffled)
    results = measure(shuffled, TARGETS)
    assert [(r.scenario, r.workload) for r in results] == [(SCENARIO, "catalog"), (SCENARIO, "orders")]
    catalog, orders = results
    assert catalog.lost_writes == 50 and orders.lost_writes == 0
    assert catalog.phases.detection_seconds == pytest.approx(1.0) == orders.phases.detection_seconds
    assert results == measure(events, TARGETS)


def test_skipped_and_exit_codes():
    events = outage_events() + [
        ev(0.0, SKIPPED, "orders", scenario="az-outage", reason="orders is not Multi-AZ"),
    ]
    results = measure(events, TARGETS)
    skipped = results[-1]
    assert skipped.skipped and skipped.status == "skipped"
    assert skipped.skip_reason == "orders is not Multi-AZ"
    summary = summarize(results)
    assert (summary.passed, summary.failed, summary.skipped, summary.exit_code) == (1, 0, 1, 0)

    failing = measure(outage_events(lag=2.0), TARGETS)
    assert exit_code(failing) == 1
    assert exit_code([skipped]) == 2  # nothing measured proves nothing
    assert exit_code([]) == 2


def test_workload_unknown_to_the_inventory_is_a_chaos_error():
    with pytest.raises(ChaosError, match="workloads: the journal names workload 'images'"):
        measure(outage_events(workload="images"), TARGETS)


# --- lab seconds vs AWS-equivalent seconds (issue 13) ------------------------------------------


def test_time_scale_turns_lab_seconds_into_aws_equivalent_and_the_verdict_judges_those():
    """The lab ran 100x faster (factor 0.01): 0.5 lab-seconds of lost writes are 50 AWS seconds,
    which miss a 10 s RPO target that the lab figure alone would have met."""
    from dataclasses import replace

    from chaos.journal import TIME_SCALE

    events = outage_events(lag=0.5) + [ev(0.0, TIME_SCALE, time_factor=0.01, profile="aws", wave=0)]
    target = replace(TARGETS["catalog"], rto_seconds=1000.0, rpo_seconds=10.0)
    [result] = measure(events, {"catalog": target})
    assert result.time_factor == 0.01 and result.profile == "aws"
    assert result.lab_rpo_seconds == pytest.approx(0.5, abs=1e-6)
    assert result.rpo_seconds == pytest.approx(result.lab_rpo_seconds / 0.01)
    assert result.lab_rto_seconds == pytest.approx(3.5, abs=1e-6)
    assert result.rto_seconds == pytest.approx(350.0, abs=1e-4)
    assert result.phases.detection_seconds == pytest.approx(100.0, abs=1e-4)
    assert result.lab_phases.detection_seconds == pytest.approx(1.0, abs=1e-6)
    assert not result.passed and any("RPO 50.000 s exceeds the target 10 s" in r for r in result.reasons)
    # Resolution: one write every 10 ms = 1 AWS second, 10 % of the 10 s target: a finding.
    assert result.rpo_resolution_seconds == pytest.approx(1.0, abs=1e-6)
    assert any("RPO resolution" in f for f in result.findings)


def test_a_measurement_inside_its_envelope_has_no_finding_and_outside_has_one():
    from dataclasses import replace

    inside = replace(TARGETS["catalog"], envelopes={SCENARIO: {"rto_seconds": 5.0, "rpo_seconds": 1.0}})
    [result] = measure(outage_events(lag=0.5), {"catalog": inside})
    assert result.envelope_rto_seconds == 5.0 and result.envelope_rpo_seconds == 1.0
    assert not [f for f in result.findings if "envelope" in f]
    outside = replace(inside, envelopes={SCENARIO: {"rto_seconds": 5.0, "rpo_seconds": 0.2}})
    [result] = measure(outage_events(lag=0.5), {"catalog": outside})
    assert any("RPO 0.500 s (AWS-equivalent) is outside its envelope 0.2 s" in f for f in result.findings)
    assert result.passed  # a finding informs; the verdict still judges the target


def test_an_rto_past_its_envelope_by_the_labs_own_seconds_is_no_finding():
    """The lab pads AWS's actions to the envelope, then spends its own unpadded seconds (2 lab s
    allowed: 200 AWS s at factor 0.01) and one resolution (125 s) on top: 350 s against an
    envelope of 300 s is explained; against 20 s it is not."""
    from chaos.measurement.scale import envelope_findings

    assert envelope_findings(350.0, None, {"rto_seconds": 300.0}, factor=0.01, rto_resolution=125.0) == []
    [finding] = envelope_findings(350.0, None, {"rto_seconds": 20.0}, factor=0.01, rto_resolution=125.0)
    assert "by more than the measurement explains (325.000 s" in finding
