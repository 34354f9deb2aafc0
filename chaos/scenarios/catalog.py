"""The scenarios, by name.

| scenario             | applies to                                   | fault                           | runbook |
|----------------------|----------------------------------------------|---------------------------------|---------|
| region-outage        | workloads with a live DR-region replica      | primary region down             | the stack's Region switch plan, else regional failover |
| az-outage            | rds Multi-AZ                                 | the primary's AZ down           | await automatic Multi-AZ failover |
| instance-failure     | rds Multi-AZ                                 | the primary instance crashes    | reboot with failover |
| replication-pause    | workloads with a live DR-region replica      | replication paused, then region down | regional failover |
| accidental-deletion  | dynamodb (PITR), s3 (versioned), rds (PITR)  | canary records (or table) deleted | point-in-time restore / version restore |

Which workload a scenario applies to is its store's answer (chaos/stores/), never a kind test here.
"""
from __future__ import annotations

from chaos.scenarios.base import FaultInputs, FaultPlan, Scenario
from chaos.scenarios.deletion import AccidentalDeletionScenario
from chaos.scenarios.multi_az import AzOutageScenario, InstanceFailureScenario
from chaos.scenarios.regional import RegionOutageScenario, ReplicationPauseScenario

SCENARIOS: dict[str, Scenario] = {s.name: s for s in (
    RegionOutageScenario(), AzOutageScenario(), InstanceFailureScenario(),
    ReplicationPauseScenario(), AccidentalDeletionScenario())}

__all__ = ["SCENARIOS", "FaultInputs", "FaultPlan", "Scenario"]
