"""The prod game day's region outage when a Region switch plan step fails: the run ends with a failed
result naming the step and its block (exit 1), not a crash. A real lab process and PostgreSQL; the
failure is an AWS API error the lab's Chaos API injects into the plan's own call."""
from __future__ import annotations

from chaos.errors import EXIT_TARGET_MISSED
from chaos.measurement.verdict import exit_code
from chaos.engine.gameday import GameDayPlan, run_gameday
from chaos.engine.setup import EngineSettings
from chaos.targets.lab import LabTarget
from chaos.targets.stack_inventory import stack_inventory

TIME_FACTOR = 0.1


class PromotionRefusingLab(LabTarget):
    """The lab, with `PromoteReadReplica` in the DR region refused once the stack is deployed."""

    def prepare(self, inventory):
        deployment = super().prepare(inventory)
        self.lab_client.add_faults([{"service": "rds", "operation": "PromoteReadReplica",
                                     "region": inventory["dr_region"], "ttl_seconds": 300}])
        return deployment


def test_a_failing_plan_step_is_a_failed_result_naming_the_step(tmp_path):
    inventory = stack_inventory("prod")  # cached across processes (infra/evaluation_cache.py)
    plan = GameDayPlan(stack="prod", scenarios=["region-outage"], workloads=["orders"], scenarios_explicit=True,
                       settings=EngineSettings(budget_seconds=30.0), time_factor=TIME_FACTOR)
    target = PromotionRefusingLab(replication_lag_seconds=None, time_factor=TIME_FACTOR)
    try:
        outcome = run_gameday(plan, target, inventory, tmp_path)
    finally:
        target.close()
    [orders] = outcome.results
    assert not orders.passed and not orders.recovered
    assert any(reason.startswith("Region switch plan step promote-orders-us-west-2 (RdsPromoteReadReplica) failed: "
                                 "PromoteReadReplica") for reason in orders.reasons), orders.reasons
    assert [(s.name, s.status) for s in orders.plan_steps] == [("approve-us-west-2", "completed"),
                                                               ("promote-orders-us-west-2", "failed")]
    assert exit_code(outcome.results) == EXIT_TARGET_MISSED
    assert "promote-orders-us-west-2 (RdsPromoteReadReplica) failed" in (tmp_path / "report.md").read_text()
