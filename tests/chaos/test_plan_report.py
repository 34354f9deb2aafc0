"""A result recovered by the stack's Region switch plan: `plan_steps` in report.json, the plan's RTO
objective beside the measured RTO, an RTO-by-plan-step table in report.md, and a failed step as a
reason naming the step. Hand-made journals, no server."""
from __future__ import annotations

import json

from chaos.journal import PLAN_STARTED, PLAN_STEP
from chaos.measurement import measure
from chaos.reports import write_reports
from chaos.reports.markdown import render_markdown
from tests.chaos.test_measurement import TARGETS, T0, ev, outage_events
from tests.chaos.test_reports import run_record


def plan_events(*, failed: str | None = None) -> list:
    """The shared execution's events (workload None): approval, promotion, traffic shift."""
    steps = [("approve-us-west-2", "ManualApproval", 11.2, 11.4), ("promote-orders-us-west-2", "RdsPromoteReadReplica", 11.4, 12.6),
             ("traffic-orders-us-west-2", "Route53HealthCheck", 12.6, 12.8)]
    events = [ev(11.1, PLAN_STARTED, None, plan="securecart-prod", plan_arn="arn:aws:arc-region-switch::1:plan/p:abcdef",
                 execution_id="e1", target_region="us-west-2", rto_objective_seconds=300.0)]
    for name, block, start, end in steps:
        status = "failed" if name == failed else "completed"
        events.append(ev(end, PLAN_STEP, None, name=name, block_type=block, started_at=T0 + start, ended_at=T0 + end,
                         status=status, error="PromoteReadReplica: ServiceUnavailable" if status == "failed" else None))
        if status == "failed":
            break
    return events


def test_results_recovered_by_a_plan_carry_its_steps_and_objective(tmp_path):
    events = outage_events(workload="catalog", lag=0.5) + plan_events()
    [catalog] = measure(events, TARGETS)
    assert [(s.name, s.block_type) for s in catalog.plan_steps] == [
        ("approve-us-west-2", "ManualApproval"), ("promote-orders-us-west-2", "RdsPromoteReadReplica"),
        ("traffic-orders-us-west-2", "Route53HealthCheck")]
    assert catalog.plan_rto_objective_seconds == 300.0 and catalog.passed

    write_reports(tmp_path, run_record(), events, [catalog], formats=("json", "md"))
    [entry] = json.loads((tmp_path / "report.json").read_text())["results"]
    assert [set(s) >= {"name", "block_type", "started_at", "ended_at"} for s in entry["plan_steps"]] == [True] * 3
    assert entry["plan_steps"][1]["started_at"] == T0 + 11.4 and entry["plan_rto_objective_seconds"] == 300.0

    markdown = (tmp_path / "report.md").read_text()
    assert "| RTO target | Plan RTO objective | RPO lab |" in markdown  # the plan's objective beside the RTO
    assert "| 5 s | 300.0 s |" in markdown  # catalog: RTO target 5 s, plan objective 300 s
    assert "### RTO by plan step: `region-outage`" in markdown
    # Times count from the fault (t = 10 s): the promotion ran from 1.4 s to 2.6 s after it.
    assert "| promote-orders-us-west-2 | RdsPromoteReadReplica | 1.400 s | 2.600 s | 1.200 s | completed |" in markdown


def test_a_failed_plan_step_fails_the_result_naming_the_step():
    events = outage_events(workload="catalog", lag=0.5, recovered=False) + plan_events(failed="promote-orders-us-west-2")
    [catalog] = measure(events, TARGETS)
    assert not catalog.passed
    assert ("Region switch plan step promote-orders-us-west-2 (RdsPromoteReadReplica) failed: "
            "PromoteReadReplica: ServiceUnavailable") in catalog.reasons
    assert "failed (PromoteReadReplica: ServiceUnavailable)" in render_markdown(run_record(), [catalog])


def test_results_without_a_plan_report_no_plan_columns():
    [catalog] = measure(outage_events(workload="catalog", lag=0.5), TARGETS)
    assert catalog.plan_steps == [] and catalog.plan_rto_objective_seconds is None
    markdown = render_markdown(run_record(), [catalog])
    assert "Plan RTO objective" not in markdown and "RTO by plan step" not in markdown
