"""Outage faults: a whole region, one availability zone, one instance.

On the lab and LocalStack they are Chaos API rules (the lab's extensions `zone` and `resource`
included), each with an expiry so a crashed harness cannot leave the target broken. On AWS the
target plays the matching FIS experiment template of the stack instead (`fis_action`).
"""
from __future__ import annotations

import time
from typing import Any

from chaos.faults.base import Fault
from chaos.targets.base import AZ_OUTAGE, INSTANCE_FAILURE, REGION_OUTAGE, FaultSpec, Target

DEFAULT_FAULT_TTL_SECONDS = 300.0


class _RuleFault(Fault):
    """A fault expressed as Chaos API rules (or, on AWS, one FIS action)."""

    fis_action: str | None = None

    def __init__(self, target: Target, run_id: str, *, workload: str | None = None,
                 ttl_seconds: float = DEFAULT_FAULT_TTL_SECONDS) -> None:
        super().__init__(target, run_id)
        self.workload_name = workload
        self.ttl_seconds = ttl_seconds

    def _rule(self) -> dict[str, Any]:
        raise NotImplementedError

    def _inject(self) -> dict[str, Any]:
        # An absolute expiry (not ttl_seconds) so the rule we delete is byte-for-byte the rule
        # we added: the Chaos API removes rules by matching their keys.
        rule = {**self._rule(), "expires_at": round(time.time() + self.ttl_seconds, 3)}
        spec = FaultSpec(fault=self.name, rules=(rule,), fis_action=self.fis_action,
                         workload=self.workload_name)
        # Written down before the call: interrupted mid-call (Ctrl-C), the rule may already be
        # active, and revert must still remove it (removing a rule never added is a no-op).
        self.changes.append({"rules": [rule]})
        handle = self.target.apply_fault(spec)
        self.changes[-1] = handle
        return {"rules": [rule], **{k: v for k, v in handle.items() if k != "rules"}}

    def _revert(self) -> None:
        for handle in reversed(self.changes):
            self.target.remove_fault(handle)


class RegionOutage(_RuleFault):
    """Every API of `region` fails; on the lab its application endpoint, replication and
    PostgreSQL processes stop too (docs/ARCHITECTURE.md, Chaos API)."""

    name = REGION_OUTAGE
    fis_action = None  # no FIS action takes a whole region down: the AWS target refuses it

    def __init__(self, target: Target, run_id: str, region: str, **kwargs: Any) -> None:
        super().__init__(target, run_id, **kwargs)
        self.region = region

    @property
    def key(self) -> str:
        return f"region:{self.region}"

    def _rule(self) -> dict[str, Any]:
        return {"region": self.region}


class AzOutage(_RuleFault):
    """Resources in `zone` fail; RDS Multi-AZ fails over to its standby by itself."""

    name = AZ_OUTAGE
    fis_action = "network-disruption"

    def __init__(self, target: Target, run_id: str, zone: str, **kwargs: Any) -> None:
        super().__init__(target, run_id, **kwargs)
        self.zone = zone

    @property
    def key(self) -> str:
        return f"zone:{self.zone}"

    def _rule(self) -> dict[str, Any]:
        return {"zone": self.zone}


class InstanceFailure(_RuleFault):
    """One DB instance crashes (lab: its PostgreSQL process dies; AWS: FIS reboot)."""

    name = INSTANCE_FAILURE
    fis_action = "rds-reboot"

    def __init__(self, target: Target, run_id: str, resource: str, **kwargs: Any) -> None:
        super().__init__(target, run_id, **kwargs)
        self.resource = resource

    @property
    def key(self) -> str:
        return f"resource:{self.resource}"

    def _rule(self) -> dict[str, Any]:
        return {"resource": self.resource}
