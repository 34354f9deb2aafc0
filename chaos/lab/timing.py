"""How long things take in the lab: AWS's durations, compressed by a time factor (issue 13).

Two profiles:

- `aws` (default): every AWS duration the lab emulates comes from the figures table
  (`infra.envelope.figures`, each figure with its AWS source): replication lag per mechanism at
  AWS's typical value, health-check interval x threshold as the stack declares it, Multi-AZ
  failover, cross-region replica promotion and restores padded to AWS's worst case. All of it is
  multiplied by `time_factor` (lab seconds per AWS second; 0.01 = 100x faster), so an hour-long
  mechanism fits in seconds and every lab measurement divided by `time_factor` is an
  AWS-equivalent value.
- `mechanics`: the lab's own fixed short lags in real time (time_factor scales only the health
  checks), no padding. Calibration uses it to prove the measurement itself: measured RPO equals the
  injected lag.

"Padded": the lab's real action (PostgreSQL promotion, WAL replay, an AWS Backup restore job's
copy of its data) usually finishes in well under a second; AWS takes minutes to hours. Under `aws`
the instance then stays unreachable (a restore job RUNNING) until the AWS figure (scaled) has
elapsed since the request, and the lab's event says `padded_to_seconds`.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from infra.envelope.figures import FIGURES
from infra.envelope.worst_case import REPLICATION_FIGURE

PROFILES = ("aws", "mechanics")

# The lab's mechanics lags (real seconds), for the `mechanics` profile and calibration.
MECHANICS_LAG_SECONDS = {"dynamodb": 0.5, "s3": 2.0, "rds": 1.0, "efs": 2.0}

# Replication lag per store kind under `aws`: the kind's replication figure, at its typical value.
# RDS: AWS publishes no typical cross-region lag ("asynchronous"; the ReplicaLag alarm bounds it);
# the lab applies 1 AWS-second, labelled an estimate.
AWS_LAG_FIGURES = REPLICATION_FIGURE
RDS_LAG_ESTIMATE_SECONDS = 1.0

# Actions padded to AWS's worst case under `aws` (figure key per action).
PAD_FIGURES = {
    "rds_failover": "rds.multi_az_instance_failover",
    "rds_promotion": "rds.read_replica_promotion",
    "rds_restore": "restore.rds",
    "dynamodb_restore": "restore.dynamodb",
    # AWS Backup restore jobs (chaos/lab/backup/engine.py), per resource type: the job stays RUNNING.
    "backup_restore_dynamodb": "restore.dynamodb",
    "backup_restore_s3": "restore.s3",
    "backup_restore_rds": "restore.rds",
    "backup_restore_efs": "restore.efs",
    "backup_restore_ebs": "restore.ebs",
}

# AWS Backup resource type -> its restore job's padded action (a type without one is not padded).
BACKUP_RESTORE_ACTIONS = {"DynamoDB": "backup_restore_dynamodb", "S3": "backup_restore_s3",
                          "RDS": "backup_restore_rds", "EFS": "backup_restore_efs", "EBS": "backup_restore_ebs"}

# The AWS figures the lab spends (scaled) lab time on under `aws`: padded actions, replication
# lags, Route 53 detection (interval x threshold) and DNS caching. Every other envelope term (an
# EC2 launch, a backup window) happens as fast as the lab does it. The wave
# planner (chaos.engine.waves) reads this to estimate how long a wave takes.
SCALED_FIGURES = frozenset(PAD_FIGURES.values()) | frozenset(AWS_LAG_FIGURES.values()) | {
    "route53.health_check_interval", "route53.dns_ttl"}


@dataclass(frozen=True)
class Duration:
    """One emulated duration: AWS seconds, what the lab applies, and where the number comes from."""

    aws_seconds: float
    lab_seconds: float
    source: str


@dataclass(frozen=True)
class LabTiming:
    profile: str = "aws"
    time_factor: float = 1.0
    lags: dict[str, Duration] = field(default_factory=dict)      # store kind -> replication lag
    pads: dict[str, Duration] = field(default_factory=dict)      # action -> padded duration

    def lag(self, kind: str) -> float:
        return self.lags[kind].lab_seconds

    def pad(self, action: str) -> float:
        """Lab seconds an action must take at least (0 under `mechanics`)."""
        duration = self.pads.get(action)
        return duration.lab_seconds if duration else 0.0

    def backup_restore_pads(self) -> dict[str, float]:
        """AWS seconds an AWS Backup restore job of each resource type takes at least (empty under
        `mechanics`): the backup lab counts them on its AWS clock (chaos/lab/backup/clock.py)."""
        return {resource_type: self.pads[action].aws_seconds
                for resource_type, action in BACKUP_RESTORE_ACTIONS.items() if action in self.pads}

    def to_json(self) -> dict[str, Any]:
        return {"profile": self.profile, "time_factor": self.time_factor,
                "lags": {k: asdict(v) for k, v in self.lags.items()},
                "pads": {k: asdict(v) for k, v in self.pads.items()}}


def lab_timing(profile: str, time_factor: float, lag_override: float | None = None) -> LabTiming:
    """The timing of a deploy. `lag_override` (lab seconds) replaces every replication lag."""
    if profile not in PROFILES:
        raise ValueError(f"profile: unknown profile {profile!r}; use one of {', '.join(PROFILES)}")
    if not time_factor > 0:
        raise ValueError("time_factor: must be > 0; e.g. 1.0 (real time) or 0.01 (100x faster)")
    lags: dict[str, Duration] = {}
    pads: dict[str, Duration] = {}
    if profile == "mechanics":
        for kind, seconds in MECHANICS_LAG_SECONDS.items():
            lags[kind] = Duration(seconds, seconds, f"mechanics profile: fixed {seconds:g} s (real time), for calibration")
    else:
        for kind, key in AWS_LAG_FIGURES.items():
            figure = FIGURES[key]
            if figure.typical_seconds is not None:
                aws, source = figure.typical_seconds, f"{figure.title}: typical {figure.typical_seconds:g} s ({figure.source}, read {figure.read_on})"
            else:
                aws = RDS_LAG_ESTIMATE_SECONDS
                source = (f"{figure.title}: AWS publishes no typical lag ({figure.source}, read "
                          f"{figure.read_on}); {aws:g} s is an estimate")
            lags[kind] = Duration(aws, aws * time_factor, source)
        for action, key in PAD_FIGURES.items():
            figure = FIGURES[key]
            aws = float(figure.worst_seconds or 0.0)
            pads[action] = Duration(aws, aws * time_factor,
                                    f"{figure.label}: worst {aws:g} s ({figure.source}, read {figure.read_on})")
    if lag_override is not None:
        lags = {kind: Duration(lag_override / time_factor if profile == "aws" else lag_override,
                               lag_override, "--replication-lag override (lab seconds)")
                for kind in lags}
    return LabTiming(profile, time_factor, lags, pads)
