"""Where a game day runs: `lab` (embedded, default), `localstack` (an endpoint URL), `aws`.

`make_target` is the one place that turns the CLI's --target/--endpoint/--inventory into a Target.
"""
from __future__ import annotations

from typing import Any

from chaos.errors import ChaosError
from chaos.targets.base import Deployment, FaultSpec, Target

TARGET_NAMES = ("lab", "localstack", "aws")


def make_target(name: str, *, endpoint: str | None, inventory: dict[str, Any] | None,
                replication_lag_seconds: float | None, time_factor: float,
                profile: str = "mechanics") -> Target:
    if name == "lab":
        from chaos.targets.lab import LabTarget
        return LabTarget(replication_lag_seconds=replication_lag_seconds, time_factor=time_factor,
                         profile=profile)
    if name == "localstack":
        if not endpoint:
            raise ChaosError("--endpoint: required with --target localstack; pass e.g. "
                             "http://127.0.0.1:4566")
        from chaos.targets.localstack import LocalStackTarget
        return LocalStackTarget(endpoint, inventory or {})
    if name == "aws":
        if inventory is None:
            raise ChaosError("--inventory: required with --target aws; write it with "
                             "`pulumi stack output inventory --json -s <stack> > FILE`")
        from chaos.targets.aws import AwsTarget
        return AwsTarget(inventory)
    raise ChaosError(f"--target: unknown target {name!r}; choose one of {', '.join(TARGET_NAMES)}")


__all__ = ["Deployment", "FaultSpec", "Target", "TARGET_NAMES", "make_target"]
