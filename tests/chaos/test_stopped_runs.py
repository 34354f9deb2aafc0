"""Runs that stop early, measured and judged from hand-made journals: a stopped scenario is
INTERRUPTED or ABORTED (never FAIL), with the run's own exit code and notes that give the real
times; a killed run (run.json still `running`) is ABORTED; phases of the RTO are never negative."""
from __future__ import annotations

from dataclasses import replace

import pytest

from chaos.journal import (DETECTED, FAILOVER_DONE, FAULT_INJECTED, PROBE, RUN_STOPPED, RUNBOOK_STARTED,
                           SCENARIO_ENDED, WRITE_ACKED)
from chaos.measurement import measure, summarize
from chaos.measurement.unfinished import settle_unfinished
from chaos.reports.markdown import render_markdown
from tests.chaos.test_measurement import TARGETS, ev, outage_events
from tests.chaos.test_reports import run_record


def only(results):
    assert len(results) == 1, results
    return results[0]


def started_stopped_at(offset: float, **data) -> list:
    """catalog writes from t0, a region outage at t0+10 s, stopped at t0+`offset` before recovery."""
    events = [ev(t / 100, WRITE_ACKED, seq=t, latency=0.002) for t in range(0, 1000)]
    events += [ev(10.0, FAULT_INJECTED, None, fault="region-outage", detail={}),
               ev(offset, RUN_STOPPED, None, **data)]
    return events


def test_a_scenario_stopped_mid_fault_is_interrupted_not_failed_and_says_its_real_times():
    events = started_stopped_at(12.5, status="interrupted", reason="interrupted by SIGTERM", exit_code=143)
    result = only(measure(events, TARGETS))
    assert result.status == "interrupted" and not result.passed and not result.reasons
    assert result.notes[0] == ("interrupted 12.5 s into the scenario, 2.5 s after the fault, before "
                               "recovery was confirmed; the run journaled no revert of its fault "
                               "(interrupted by SIGTERM)")
    run = replace(run_record(), status="interrupted", stop_reason="interrupted by SIGTERM", exit_code=143)
    summary = summarize([result], run)
    assert (summary.verdict, summary.exit_code, summary.failed, summary.unfinished) == ("INTERRUPTED", 143, 0, 1)
    assert "INTERRUPTED" in render_markdown(run, [result]) and "FAIL" not in render_markdown(run, [result])


def test_completed_scenarios_keep_their_verdict_in_a_stopped_run():
    done = outage_events(workload="catalog", lag=0.5) + [ev(21.0, SCENARIO_ENDED, None)]
    stopped = [e for e in started_stopped_at(12.0, status="aborted", reason="the lab process died",
                                             exit_code=2)]
    stopped = [replace(e, scenario="az-outage", workload=e.workload and "orders") for e in stopped]
    results = measure(done + stopped, TARGETS)
    assert [r.status for r in results] == ["passed", "aborted"]
    run = replace(run_record(), status="aborted", stop_reason="the lab process died", exit_code=2)
    summary = summarize(results, run)
    assert (summary.verdict, summary.exit_code, summary.passed) == ("ABORTED", 2, 1)


def test_a_killed_run_is_aborted_at_its_last_event():
    run = replace(run_record(), status="running", ended_at=None, exit_code=None)
    events = started_stopped_at(0.0)[:-1]  # no run_stopped: the process was SIGKILLed
    run, events = settle_unfinished(run, events)
    assert (run.status, run.exit_code) == ("aborted", 2)
    result = only(measure(events, TARGETS))
    assert result.status == "aborted"
    assert result.notes[0].startswith("aborted 10.0 s into the scenario, 0.0 s after the fault")
    assert result.notes[0].endswith("(the game-day process was killed before the run ended "
                                    "(run.json still `running`))")
    assert summarize([result], run).exit_code == 2
    # A run that recorded its own end is left as it is.
    assert settle_unfinished(run_record(), events) == (run_record(), events)


def test_rto_phases_are_never_negative_when_recovery_precedes_the_runbook_start():
    # A Multi-AZ standby takes over by itself: the probe passes at +0.9 s, before the runbook
    # journals its start (+1.0 s) and its failover (+1.2 s). Stamped by different threads, the
    # boundaries come out of phase order; every phase must still be >= 0 and add up to the RTO.
    events = [ev(t / 100, WRITE_ACKED, seq=t, latency=0.002) for t in range(0, 1000)] + [
        ev(10.0, FAULT_INJECTED, None, fault="az-outage", detail={}),
        ev(10.5, DETECTED, None, how="3 consecutive canary write failures"),
        ev(10.9, PROBE, ok=True, detail="read-your-write"),
        ev(11.0, RUNBOOK_STARTED, runbook="rds-await-multi-az-failover"),
        ev(11.2, FAILOVER_DONE, action="failed over (automatic)"),
    ]
    result = only(measure(events, TARGETS))
    phases = result.phases
    values = [phases.detection_seconds, phases.decision_seconds, phases.failover_seconds,
              phases.first_success_seconds]
    assert values == pytest.approx([0.5, 0.4, 0.0, 0.0])
    assert sum(values) == pytest.approx(result.rto_seconds) == pytest.approx(0.9)


def test_a_detection_stamped_after_the_first_success_is_held_at_it():
    events = [ev(t / 100, WRITE_ACKED, seq=t, latency=0.002) for t in range(0, 1000)] + [
        ev(10.0, FAULT_INJECTED, None, fault="instance-failure", detail={}),
        ev(10.4, PROBE, ok=True, detail="read-your-write"),
        ev(10.6, DETECTED, None, how="3 consecutive canary write failures"),
    ]
    phases = only(measure(events, TARGETS)).phases
    assert phases.detection_seconds == pytest.approx(0.4)
    assert phases.decision_seconds is None and phases.failover_seconds is None
