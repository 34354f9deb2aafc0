"""Stack config, read once into typed dataclasses and validated before any resource is declared.

Every error is one line: `<full config key>: <what is wrong>; <how to fix>`. `ConfigError` is a
`pulumi.RunError`, so `pulumi up` prints it without a Python traceback.

The reference for every key is docs/config.md.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws
from pulumi.runtime import config as pulumi_config

from infra.envelope.figures import mrsc_region_set
from infra.envelope.provision import alarm_kind, provision_of
from infra.envelope.worst_case import (ALARM_CONFIG_KEYS, ALARM_METRICS, ALARM_PERIOD_SECONDS, REGION_OUTAGE,
                                       REPLICATION_PAUSE, RESTORE_SCENARIOS, SCENARIOS, ScenarioEnvelope, envelope)
from infra.strategies import (STRATEGIES, Kind, Routing, StrategySpec, default_scenario_targets, default_targets)

NAMESPACE = "securecart-dr"
# The regions pulumi-aws 7.51.1 knows (its `Region` enum): a typo like us-east-9 is refused here,
# not by AWS halfway through an update.
KNOWN_REGIONS = frozenset(region.value for region in aws.Region)
# The default VPC has public subnets and the default security group: only for these stacks.
DEFAULT_VPC_ENVIRONMENTS = ("lab", "localstack")
AWS_ID_PATTERNS = {"vpc": re.compile(r"^vpc-[0-9a-f]{8,17}$"), "subnet": re.compile(r"^subnet-[0-9a-f]{8,17}$"),
                   "sg": re.compile(r"^sg-[0-9a-f]{8,17}$"), "ami": re.compile(r"^ami-[0-9a-f]{8,17}$")}
NETWORK_ROLES = ("database", "compute", "fileSystem")
AUDIT_MODES = ("off", "with-recorder", "existing-recorder")
NOTIFY_PROTOCOLS = ("email", "email-json", "https", "sqs", "lambda")
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9-]{1,39}$")
COLD_STORAGE_MINIMUM_DAYS = 90  # AWS Backup keeps cold recovery points at least 90 days
CONTINUOUS_BACKUP_MAX_DAYS = 35
# AWS Backup can move these resource types to cold storage; RDS and S3 recovery points cannot be tiered.
COLD_STORAGE_KINDS = frozenset({Kind.DYNAMODB, Kind.EFS, Kind.EC2})
HEALTH_CHECK_INTERVALS = (10, 30)
EFS_IA_DAYS = (1, 7, 14, 30, 60, 90, 180, 270, 365)
DLM_INTERVAL_HOURS = (1, 2, 3, 4, 6, 8, 12, 24)
# ARC Region switch "is available in all commercial AWS Regions, as well as AWS GovCloud (US) Regions"
# (https://docs.aws.amazon.com/r53recovery/latest/dg/aws-regions-rs.html, read 2026-11-30): not China, not ISO.
REGION_SWITCH_REGION = re.compile(r"^(?!cn-)[a-z]{2}(-gov)?-[a-z]+-\d$")
RESILIENCE_APP_TAG = "resilience-hub-app"
DEFAULT_APPROVAL_TIMEOUT_MINUTES = 60
MAX_APPROVAL_TIMEOUT_MINUTES = 1440  # a day: past that the outage is handled by people, not by a plan


class ConfigError(pulumi.RunError):
    """Invalid stack config: one line naming the key and the fix (no traceback under `pulumi up`)."""


# ----- typed config -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Targets:
    """Recovery objectives in seconds."""

    rto_seconds: float
    rpo_seconds: float


@dataclass(frozen=True)
class RdsSettings:
    instance_class: str = "db.r6g.large"
    replica_instance_class: str = "db.t4g.medium"  # pilot-light keeps the DR copy small
    allocated_storage_gb: int = 100
    engine_version: str = "15"
    db_name: str = "orders"
    master_username: str = "securecart"
    backup_retention_days: int = 35  # RDS automated backups and PITR: 1..35
    backup_window: str = "03:00-04:00"
    maintenance_window: str = "sun:05:00-sun:06:00"
    export_glacier_after_days: int = 30
    export_deep_archive_after_days: int = 180
    export_expire_after_days: int = 2555
    # EventBridge Scheduler expression of the snapshot export to the archive bucket (weekly).
    export_schedule: str = "cron(0 8 ? * SUN *)"


@dataclass(frozen=True)
class DynamoDbSettings:
    pitr_recovery_period_days: int = 35  # 1..35
    # Global tables: "eventual" (MREC, asynchronous) or "strong" (MRSC: RPO 0, needs a witness region
    # in the same MRSC Region set as both replicas).
    multi_region_consistency: str = "eventual"
    witness_region: str | None = None


@dataclass(frozen=True)
class S3Settings:
    standard_ia_after_days: int = 30  # S3 refuses Standard-IA transitions before 30 days
    glacier_after_days: int = 90
    deep_archive_after_days: int = 180
    noncurrent_expire_after_days: int = 365
    abort_incomplete_upload_days: int = 7


@dataclass(frozen=True)
class EfsSettings:
    transition_to_ia_days: int = 30


@dataclass(frozen=True)
class Ec2Settings:
    instance_type: str = "t3.small"
    instance_count: int = 2
    snapshot_interval_hours: int = 12
    snapshot_retain_count: int = 14
    dr_copy_retain_days: int = 7
    # The application image, the same in both regions: an SSM parameter an image pipeline writes
    # in each region (read per region), or AMI ids per region. Exactly one of the two.
    image_parameter: str | None = None
    ami_ids: Mapping[str, str] | None = None
    user_data: str | None = None  # the boot script both regions' launch templates carry


KindSettings = RdsSettings | DynamoDbSettings | S3Settings | EfsSettings | Ec2Settings


@dataclass(frozen=True)
class WorkloadFailover:
    """How one workload's data store fails over (only for strategies that keep a DR copy).

    The application's configuration names the store per region (table, bucket, file system); the
    runbook switches it. RDS adds a private record (`record_name`) the runbook repoints after it
    has promoted the replica, so writers never reach an unpromoted, read-only database.
    """

    switch: str  # "private-record" (rds) or "application-config"
    record_name: str | None  # FQDN in the private zone; rds only


@dataclass(frozen=True)
class Sizing:
    """What the cost estimate assumes of a workload's data (`infra.cost`); the defaults per kind
    are in SIZING_DEFAULTS and docs/cost.md. They size the retention simulation only."""

    data_gb: float
    daily_change_percent: float  # share of the data written or changed per day
    monthly_growth_percent: float
    average_object_mb: float  # S3: object size, for per-request charges (transitions)
    overwrite_percent: float  # S3: share of daily writes that replace an existing object


# Assumptions, not measurements: a stack states its own under workloads.<name>.sizing.
SIZING_DEFAULTS: dict[Kind, dict[str, float]] = {
    Kind.RDS: {"dataGb": 100, "dailyChangePercent": 2, "monthlyGrowthPercent": 2},
    Kind.DYNAMODB: {"dataGb": 25, "dailyChangePercent": 5, "monthlyGrowthPercent": 2},
    Kind.S3: {"dataGb": 500, "dailyChangePercent": 1, "monthlyGrowthPercent": 2,
              "averageObjectMb": 1, "overwritePercent": 10},
    Kind.EFS: {"dataGb": 100, "dailyChangePercent": 3, "monthlyGrowthPercent": 2},
    Kind.EC2: {"dataGb": 16, "dailyChangePercent": 2, "monthlyGrowthPercent": 0},
}


@dataclass(frozen=True)
class WorkloadConfig:
    name: str
    kind: Kind
    strategy: StrategySpec
    targets: Targets  # the workload's RTO/RPO: every covered scenario's target unless overridden
    backup_tier: str
    settings: KindSettings
    failover: WorkloadFailover | None
    sizing: Sizing  # what the cost estimate assumes of its data (infra.cost)
    # Target per scenario the strategy covers (after validation: only covered scenarios); the
    # accidental-deletion default is the kind's restore envelope, the others default to `targets`.
    scenario_targets: dict[str, Targets] = field(default_factory=dict)
    overridden_scenarios: frozenset[str] = frozenset()  # scenarios set under scenarioTargets


@dataclass(frozen=True)
class BackupRule:
    name: str
    schedule: str
    delete_after_days: int
    cold_storage_after_days: int | None
    copy_to_dr: bool
    copy_delete_after_days: int
    copy_cold_storage_after_days: int | None
    start_window_minutes: int
    completion_window_minutes: int


@dataclass(frozen=True)
class BackupTier:
    """A set of rules applied to every resource tagged `backup-tier=<name>`."""

    name: str
    rules: tuple[BackupRule, ...]
    continuous: bool  # continuous backup (PITR) for the tier's RDS and S3 resources
    continuous_retention_days: int
    restore_testing: bool  # include the tier in the weekly AWS Backup restore testing plan
    kinds: frozenset[Kind]  # kinds of the workloads in the tier


@dataclass(frozen=True)
class VaultLock:
    mode: str  # "governance" or "compliance"
    min_retention_days: int
    max_retention_days: int
    changeable_for_days: int | None  # compliance mode only: grace period before the lock is immutable


@dataclass(frozen=True)
class BackupConfig:
    vault_lock: VaultLock
    tiers: dict[str, BackupTier]
    # AWS Backup region settings are account-wide: exactly one stack per account should manage them.
    manage_region_settings: bool
    # The audit framework needs AWS Config recording: "off", "with-recorder" (declare one) or
    # "existing-recorder" (the account already records).
    audit_mode: str = "off"
    notify: tuple[tuple[str, str], ...] = ()  # (protocol, endpoint) subscribed to the vault topics


@dataclass(frozen=True)
class HealthCheckConfig:
    type: str
    port: int
    path: str
    interval_seconds: int
    failure_threshold: int


@dataclass(frozen=True)
class AppEndpoint:
    """The application's entry point in one region: it exists before this program runs."""

    host_name: str  # a load balancer's DNS name, or an existing host name
    load_balancer_zone_id: str | None  # given: an alias record to the load balancer; else a CNAME


@dataclass(frozen=True)
class FailoverConfig:
    zone_name: str  # public hosted zone (a person delegates it from the parent domain)
    record_name: str  # the application's name, e.g. www.<zone>
    routing: Routing
    ttl_seconds: int
    health_check: HealthCheckConfig
    endpoints: dict[str, AppEndpoint]  # region -> endpoint; empty when no workload routes
    private_zone_name: str  # private zone of the data-store records the runbooks repoint


@dataclass(frozen=True)
class RegionNetwork:
    vpc_id: str | None  # None: the region's default VPC (lab and localstack only)
    subnets: Mapping[str, str]  # zone -> private subnet id
    security_groups: Mapping[str, tuple[str, ...]]  # role (database, compute, fileSystem) -> ids


@dataclass(frozen=True)
class NetworkConfig:
    default_vpc: bool
    regions: Mapping[str, RegionNetwork]

    def zones(self, region: str) -> list[str]:
        """The zones the stores spread over: the configured subnets' (a and b in the default VPC)."""
        return sorted(self.regions[region].subnets) or [f"{region}a", f"{region}b"]


@dataclass(frozen=True)
class MonitoringConfig:
    alert_emails: tuple[str, ...]
    # Replication-lag alarm thresholds set explicitly in the stack (None: derived per workload from
    # its RPO target, see `replication_thresholds`). Never looser than a watched workload's target.
    s3_replication_latency_threshold_seconds: int | None = None
    dynamodb_replication_latency_threshold_seconds: int | None = None
    rds_replica_lag_threshold_seconds: int | None = None
    efs_time_since_last_sync_threshold_seconds: int | None = None
    # workload -> effective threshold of its replication-lag alarm (filled by validation)
    replication_thresholds: dict[str, float] = field(default_factory=dict)

    def explicit_threshold(self, kind: str) -> int | None:
        return {"s3": self.s3_replication_latency_threshold_seconds,
                "dynamodb": self.dynamodb_replication_latency_threshold_seconds,
                "rds": self.rds_replica_lag_threshold_seconds,
                "efs": self.efs_time_since_last_sync_threshold_seconds}[kind]


@dataclass(frozen=True)
class BudgetThreshold:
    percent: float
    notification_type: str  # "ACTUAL" or "FORECASTED"


@dataclass(frozen=True)
class BudgetConfig:
    s3_monthly_usd: float
    backup_monthly_usd: float
    thresholds: tuple[BudgetThreshold, ...]
    anomaly_threshold_usd: float
    # AWS allows one SERVICE anomaly monitor per account: by default no monitor is created; a
    # stack either reuses one (`anomaly_monitor_arn`) or opts in to creating it.
    anomaly_monitor_arn: str | None
    create_anomaly_monitor: bool = False
    # Tag keys can be activated only once they appear in billing data (~24 h after first use).
    activate_cost_allocation_tags: bool = False


@dataclass(frozen=True)
class ChaosConfig:
    enabled: bool  # the harness refuses a stack that did not opt in
    fis_templates: bool  # declare FIS experiment templates (staging-like stacks)


@dataclass(frozen=True)
class RecoveryPlanConfig:
    """The stack's ARC Region switch plan (infra/components/recovery_plan.py)."""

    enabled: bool  # declare the plan (and the Resilience Hub policies beside it)
    manual_approval: bool  # a person approves before the DR region is activated
    approval_timeout_minutes: int  # how long the approval step waits before the execution fails


@dataclass(frozen=True)
class StackConfig:
    environment: str
    primary_region: str
    dr_region: str
    tags: dict[str, str]
    workloads: dict[str, WorkloadConfig]
    backup: BackupConfig
    failover: FailoverConfig
    monitoring: MonitoringConfig
    budgets: BudgetConfig
    chaos: ChaosConfig
    network: NetworkConfig
    recovery_plan: RecoveryPlanConfig

    @property
    def regions(self) -> tuple[str, str]:
        return (self.primary_region, self.dr_region)

    def workloads_of(self, kind: Kind) -> list[WorkloadConfig]:
        return [w for w in self.workloads.values() if w.kind is kind]


# ----- reading with key paths ---------------------------------------------------------------------


def _fail(path: str, problem: str, fix: str) -> ConfigError:
    return ConfigError(f"{NAMESPACE}:{path}: {problem}; {fix}")


class _Block:
    """A config object being read: tracks its key path and which keys were consumed."""

    def __init__(self, path: str, raw: Any) -> None:
        if not isinstance(raw, Mapping):
            raise _fail(path, f"expected an object, got {type(raw).__name__}", "write it as a YAML mapping")
        self.path = path
        self.raw = dict(raw)
        self._seen: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def value(self, name: str, required: bool = False) -> Any:
        """The raw value of a key (None when absent), marked as read."""
        return self._get(name, required)

    def _get(self, name: str, required: bool) -> Any:
        self._seen.add(name)
        value = self.raw.get(name)
        if value is None and required:
            raise _fail(self.key(name), "missing", "add it (see docs/config.md)")
        return value

    def text(self, name: str, default: str | None = None, *, choices: tuple[str, ...] | None = None) -> str:
        value = self._get(name, required=default is None)
        if value is None:
            return default  # type: ignore[return-value]
        if not isinstance(value, str) or not value:
            raise _fail(self.key(name), f"expected a non-empty string, got {value!r}", "quote a text value")
        if choices and value not in choices:
            raise _fail(self.key(name), f"unknown value {value!r}", f"use one of {', '.join(choices)}")
        return value

    def number(self, name: str, default: float | None = None, *, minimum: float = 0, maximum: float | None = None,
               integer: bool = False, required: bool = False) -> Any:
        value = self._get(name, required=required)
        if value is None:
            return default
        if isinstance(value, str):
            try:
                value = float(value) if not integer else int(value)
            except ValueError:
                raise _fail(self.key(name), f"expected a number, got {value!r}", "write a plain number") from None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _fail(self.key(name), f"expected a number, got {value!r}", "write a plain number")
        if integer and value != int(value):
            raise _fail(self.key(name), f"expected a whole number, got {value!r}", "drop the fraction")
        if value < minimum:
            raise _fail(self.key(name), f"{value!r} is below the minimum {minimum:g}", f"use a value >= {minimum:g}")
        if maximum is not None and value > maximum:
            raise _fail(self.key(name), f"{value!r} is above the maximum {maximum:g}", f"use a value <= {maximum:g}")
        return int(value) if integer else float(value)

    def whole(self, name: str, default: int | None = None, *, minimum: int = 0, maximum: int | None = None,
              required: bool = False) -> Any:
        return self.number(name, default, minimum=minimum, maximum=maximum, integer=True, required=required)

    def flag(self, name: str, default: bool) -> bool:
        value = self._get(name, required=False)
        if value is None:
            return default
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        if not isinstance(value, bool):
            raise _fail(self.key(name), f"expected true or false, got {value!r}", "write true or false")
        return value

    def block(self, name: str, required: bool = False) -> _Block:
        value = self._get(name, required=required)
        return _Block(self.key(name), value if value is not None else {})

    def strings(self, name: str) -> tuple[str, ...]:
        value = self._get(name, required=False) or []
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise _fail(self.key(name), f"expected a list of strings, got {value!r}", "write a YAML list of text values")
        return tuple(value)

    def finish(self) -> None:
        """Reject keys nobody read: a typo would otherwise silently fall back to a default."""
        unknown = sorted(set(self.raw) - self._seen)
        if unknown:
            known = sorted(self._seen)
            raise _fail(self.key(unknown[0]), "unknown key", f"remove it or use one of {', '.join(known)}")


# ----- sections -----------------------------------------------------------------------------------


def _region(block: _Block, name: str) -> str:
    value = block.text(name)
    if value not in KNOWN_REGIONS:
        raise _fail(block.key(name), f"{value!r} is not a region pulumi-aws knows",
                    "use a region name like us-east-1 (pulumi_aws.Region lists them)")
    return value


def _aws_id(block: _Block, name: str, kind: str, value: Any = None) -> str:
    value = block.text(name) if value is None else value
    if not isinstance(value, str) or not AWS_ID_PATTERNS[kind].match(value):
        raise _fail(block.key(name), f"{value!r} is not a {kind} id", f"write it like {kind}-0123456789abcdef0")
    return value


def _targets(block: _Block, spec: StrategySpec, kind: Kind) -> tuple[Targets, dict[str, Targets], frozenset[str]]:
    """The workload's targets and one per scenario: defaults per (strategy, kind) from the envelope,
    tightened by `rtoSeconds`/`rpoSeconds` and `scenarioTargets.<scenario>.*`; never looser than the
    default; the restore scenarios (accidental deletion, restore drill, ransomware, backup job
    failure) start from, and are capped by, their own default instead. Whether AWS can meet them is
    checked once the whole stack is read."""
    default_rto, default_rpo = default_targets(spec.name, kind)
    rto = float(block.number("rtoSeconds", default_rto))
    rpo = float(block.number("rpoSeconds", default_rpo))
    _within(block, "rtoSeconds", rto, default_rto, spec, kind, rto=True)
    _within(block, "rpoSeconds", rpo, default_rpo, spec, kind)
    targets = Targets(rto_seconds=rto, rpo_seconds=rpo)
    ceilings = {name: (default_rto, default_rpo) for name in SCENARIOS}
    ceilings.update({name: default_scenario_targets(spec.name, kind, name) for name in RESTORE_SCENARIOS})
    per_scenario = {name: Targets(*ceilings[name]) if name in RESTORE_SCENARIOS else targets for name in SCENARIOS}
    overrides = block.block("scenarioTargets")
    for scenario in overrides.raw:
        if scenario not in SCENARIOS:
            raise _fail(overrides.key(scenario), "unknown scenario", f"use one of {', '.join(SCENARIOS)}")
        item = overrides.block(scenario)
        base = per_scenario[scenario]
        ceiling = ceilings[scenario]
        s_rto = float(item.number("rtoSeconds", base.rto_seconds))
        s_rpo = float(item.number("rpoSeconds", base.rpo_seconds))
        restore = scenario if scenario in RESTORE_SCENARIOS else None
        _within(item, "rtoSeconds", s_rto, ceiling[0], spec, kind, rto=True, scenario=restore)
        _within(item, "rpoSeconds", s_rpo, ceiling[1], spec, kind, scenario=restore)
        per_scenario[scenario] = Targets(s_rto, s_rpo)
        item.finish()
    overrides.finish()
    return targets, per_scenario, frozenset(overrides.raw)


def _within(block: _Block, key: str, value: float, default: float, spec: StrategySpec, kind: Kind, *,
            rto: bool = False, scenario: str | None = None) -> None:
    """`scenario`: one of the restore scenarios, whose default is its own (the same restore whatever
    the strategy), so the way out is not a cheaper strategy."""
    if rto and value <= 0:
        raise _fail(block.key(key), "RTO must be > 0 (detection and failover always take time)",
                    f"use a value between 1 and {default:g}")
    if value > default and scenario is not None:
        raise _fail(block.key(key), f"{value:g} s is looser than the {scenario} default for {kind.value} "
                                    f"under {spec.name} ({default:g} s)",
                    f"use <= {default:g} (targets may only tighten the default: a slower recovery would pass unnoticed)")
    if value > default:
        raise _fail(block.key(key), f"{value:g} s is looser than the {spec.name} default for {kind.value} ({default:g} s)",
                    "targets may only tighten the strategy default; choose a cheaper strategy instead")


def _rds_settings(block: _Block, workload: str) -> RdsSettings:
    d = RdsSettings()
    settings = RdsSettings(
        instance_class=block.text("instanceClass", d.instance_class),
        replica_instance_class=block.text("replicaInstanceClass", d.replica_instance_class),
        allocated_storage_gb=block.whole("allocatedStorageGb", d.allocated_storage_gb, minimum=20, maximum=65536),
        engine_version=block.text("engineVersion", d.engine_version, choices=("15",)),
        db_name=block.text("dbName", workload.replace("-", "_")),
        master_username=block.text("masterUsername", d.master_username),
        backup_retention_days=block.whole("backupRetentionDays", d.backup_retention_days, minimum=1, maximum=35),
        backup_window=block.text("backupWindow", d.backup_window),
        maintenance_window=block.text("maintenanceWindow", d.maintenance_window),
        export_glacier_after_days=block.whole("exportGlacierAfterDays", d.export_glacier_after_days, minimum=1),
        export_deep_archive_after_days=block.whole("exportDeepArchiveAfterDays", d.export_deep_archive_after_days, minimum=1),
        export_expire_after_days=block.whole("exportExpireAfterDays", d.export_expire_after_days, minimum=1),
        export_schedule=block.text("exportSchedule", d.export_schedule),
    )
    if not re.match(r"^(cron|rate)\(.+\)$", settings.export_schedule):
        raise _fail(block.key("exportSchedule"), f"{settings.export_schedule!r} is not a schedule expression",
                    'write e.g. "cron(0 8 ? * SUN *)" or "rate(7 days)"')
    if settings.export_deep_archive_after_days < settings.export_glacier_after_days + 90:
        raise _fail(block.key("exportDeepArchiveAfterDays"),
                    "exports must stay 90 days in Glacier (its minimum storage duration) before Deep Archive",
                    f"use >= {settings.export_glacier_after_days + 90}")
    if settings.export_expire_after_days < settings.export_deep_archive_after_days + 180:
        raise _fail(block.key("exportExpireAfterDays"),
                    "Deep Archive keeps objects at least 180 days",
                    f"use >= {settings.export_deep_archive_after_days + 180}")
    return settings


def _s3_settings(block: _Block) -> S3Settings:
    d = S3Settings()
    settings = S3Settings(
        standard_ia_after_days=block.whole("standardIaAfterDays", d.standard_ia_after_days, minimum=30),
        glacier_after_days=block.whole("glacierAfterDays", d.glacier_after_days, minimum=1),
        deep_archive_after_days=block.whole("deepArchiveAfterDays", d.deep_archive_after_days, minimum=1),
        noncurrent_expire_after_days=block.whole("noncurrentExpireAfterDays", d.noncurrent_expire_after_days, minimum=1),
        abort_incomplete_upload_days=block.whole("abortIncompleteUploadDays", d.abort_incomplete_upload_days, minimum=1),
    )
    if settings.glacier_after_days < settings.standard_ia_after_days + 30:
        raise _fail(block.key("glacierAfterDays"), "objects must stay 30 days in Standard-IA before Glacier",
                    f"use >= {settings.standard_ia_after_days + 30}")
    if settings.deep_archive_after_days < settings.glacier_after_days + 90:
        raise _fail(block.key("deepArchiveAfterDays"), "objects must stay 90 days in Glacier before Deep Archive",
                    f"use >= {settings.glacier_after_days + 90}")
    return settings


def _ec2_image(block: _Block, regions: tuple[str, ...]) -> tuple[str | None, dict[str, str] | None]:
    parameter = block.value("imageParameter")
    ami_block = block.block("amiIds")
    if (parameter is None) == (not ami_block.raw):
        raise _fail(block.key("imageParameter"), "give the application image as imageParameter or amiIds (one of them)",
                    "set imageParameter to the SSM parameter your image pipeline writes in both regions")
    if parameter is not None:
        parameter = block.text("imageParameter")
        if not parameter.startswith("/"):
            raise _fail(block.key("imageParameter"), f"{parameter!r} is not an SSM parameter name", "start it with /")
        ami_block.finish()
        return parameter, None
    amis = {region: _aws_id(ami_block, region, "ami") for region in regions}
    ami_block.finish()
    return None, amis


def _kind_settings(block: _Block, kind: Kind, workload: str, regions: tuple[str, ...] = ()) -> KindSettings:
    if kind is Kind.RDS:
        return _rds_settings(block, workload)
    if kind is Kind.DYNAMODB:
        witness = _region(block, "witnessRegion") if block.value("witnessRegion") is not None else None
        return DynamoDbSettings(
            pitr_recovery_period_days=block.whole("pitrRecoveryPeriodDays", 35, minimum=1, maximum=35),
            multi_region_consistency=block.text("multiRegionConsistency", "eventual", choices=("eventual", "strong")),
            witness_region=witness)
    if kind is Kind.S3:
        return _s3_settings(block)
    if kind is Kind.EFS:
        days = block.whole("transitionToIaDays", EfsSettings().transition_to_ia_days, minimum=1)
        if days not in EFS_IA_DAYS:
            raise _fail(block.key("transitionToIaDays"), f"EFS has no {days}-day IA transition",
                        f"use one of {', '.join(map(str, EFS_IA_DAYS))}")
        return EfsSettings(transition_to_ia_days=days)
    d = Ec2Settings()
    hours = block.whole("snapshotIntervalHours", d.snapshot_interval_hours, minimum=1)
    if hours not in DLM_INTERVAL_HOURS:
        raise _fail(block.key("snapshotIntervalHours"), f"DLM has no {hours}-hour interval",
                    f"use one of {', '.join(map(str, DLM_INTERVAL_HOURS))}")
    image_parameter, ami_ids = _ec2_image(block, regions)
    user_data = block.value("userData")
    if user_data is not None and (not isinstance(user_data, str) or not user_data.strip()):
        raise _fail(block.key("userData"), "expected the boot script as text", "write it as a YAML block (userData: |)")
    return Ec2Settings(
        image_parameter=image_parameter, ami_ids=ami_ids, user_data=user_data,
        instance_type=block.text("instanceType", d.instance_type),
        instance_count=block.whole("instanceCount", d.instance_count, minimum=1, maximum=20),
        snapshot_interval_hours=hours,
        snapshot_retain_count=block.whole("snapshotRetainCount", d.snapshot_retain_count, minimum=1, maximum=1000),
        dr_copy_retain_days=block.whole("drCopyRetainDays", d.dr_copy_retain_days, minimum=1),
    )


def _workload(name: str, raw: Any, failover_config: FailoverConfig, tiers: set[str],
              regions: tuple[str, ...] = ()) -> WorkloadConfig:
    block = _Block(f"workloads.{name}", raw)
    if not NAME_PATTERN.match(name):
        raise _fail(block.path, "workload names are lowercase letters, digits and dashes (2-40)", "rename it")
    kind_name = block.text("kind", choices=tuple(k.value for k in Kind))
    kind = Kind(kind_name)
    strategy_name = block.text("strategy", choices=tuple(STRATEGIES))
    spec = STRATEGIES[strategy_name]
    if kind not in spec.kinds:
        raise _fail(block.key("strategy"), f"{spec.name} cannot protect a {kind.value} workload",
                    f"use one of {', '.join(s.name for s in STRATEGIES.values() if kind in s.kinds)}")
    targets, scenario_targets, overridden = _targets(block, spec, kind)
    tier = block.text("backupTier")
    if tier not in tiers:
        raise _fail(block.key("backupTier"), f"no backup tier {tier!r}",
                    f"use one of {', '.join(sorted(tiers))} or add it under {NAMESPACE}:backup.tiers")
    failover_block = block.block("failover")
    failover = None
    if spec.routing is None and failover_block.raw:
        raise _fail(failover_block.path, f"{spec.name} keeps no DR copy to fail over to (recovery restores, then repoints)",
                    "remove the failover block or choose pilot-light or stronger")
    if "routing" in failover_block.raw:
        raise _fail(failover_block.key("routing"), "DNS routing belongs to the application, not to a data store",
                    "remove it; set failover.routing (the application's record) instead")
    if spec.routing is not None and kind is not Kind.EC2:
        record = None
        if kind is Kind.RDS:
            zone = failover_config.private_zone_name
            record = failover_block.text("recordName", f"{name}.{zone}")
            if not record.endswith("." + zone):
                raise _fail(failover_block.key("recordName"), f"{record!r} is outside the private zone {zone}",
                            f"use a name ending in .{zone}")
        failover = WorkloadFailover(switch="private-record" if kind is Kind.RDS else "application-config",
                                    record_name=record)
    failover_block.finish()
    settings = _kind_settings(block, kind, name, regions)
    sizing = _sizing(block.block("sizing"), kind)
    block.finish()
    return WorkloadConfig(name=name, kind=kind, strategy=spec, targets=targets, backup_tier=tier,
                          settings=settings, failover=failover, sizing=sizing,
                          scenario_targets=scenario_targets, overridden_scenarios=overridden)


def _sizing(block: _Block, kind: Kind) -> Sizing:
    defaults = {"averageObjectMb": 1, "overwritePercent": 0, **SIZING_DEFAULTS[kind]}
    sizing = Sizing(
        data_gb=block.number("dataGb", defaults["dataGb"], minimum=0.001, maximum=10_000_000),
        daily_change_percent=block.number("dailyChangePercent", defaults["dailyChangePercent"], maximum=100),
        monthly_growth_percent=block.number("monthlyGrowthPercent", defaults["monthlyGrowthPercent"], maximum=100),
        average_object_mb=block.number("averageObjectMb", defaults["averageObjectMb"], minimum=0.001,
                                       maximum=5_000_000),
        overwrite_percent=block.number("overwritePercent", defaults["overwritePercent"], maximum=100),
    )
    block.finish()
    return sizing


def _backup_rule(block: _Block, name: str) -> BackupRule:
    delete_after = block.whole("deleteAfterDays", required=True, minimum=1)
    cold = block.whole("coldStorageAfterDays", None, minimum=1)
    copy_to_dr = block.flag("copyToDr", True)
    copy_delete = block.whole("copyDeleteAfterDays", delete_after, minimum=1)
    copy_cold = block.whole("copyColdStorageAfterDays", cold, minimum=1)
    for key, keep, moved in (("deleteAfterDays", delete_after, cold), ("copyDeleteAfterDays", copy_delete, copy_cold)):
        if moved is not None and keep < moved + COLD_STORAGE_MINIMUM_DAYS:
            raise _fail(block.key(key), f"{keep} days keeps recovery points only {keep - moved} days in cold storage "
                        f"(AWS Backup minimum {COLD_STORAGE_MINIMUM_DAYS})",
                        f"use >= {moved + COLD_STORAGE_MINIMUM_DAYS} or drop the cold-storage transition")
    start = block.whole("startWindowMinutes", 60, minimum=60)
    completion = block.whole("completionWindowMinutes", 1440, minimum=start + 60)
    schedule = block.text("schedule")
    if not schedule.startswith("cron(") or not schedule.endswith(")"):
        raise _fail(block.key("schedule"), f"{schedule!r} is not an AWS cron expression", 'write e.g. "cron(0 5 * * ? *)"')
    block.finish()
    return BackupRule(name=name, schedule=schedule, delete_after_days=delete_after, cold_storage_after_days=cold,
                      copy_to_dr=copy_to_dr, copy_delete_after_days=copy_delete,
                      copy_cold_storage_after_days=copy_cold, start_window_minutes=start,
                      completion_window_minutes=completion)


def _vault_lock(block: _Block) -> VaultLock:
    mode = block.text("mode", "governance", choices=("governance", "compliance"))
    minimum = block.whole("minRetentionDays", 7, minimum=1)
    maximum = block.whole("maxRetentionDays", 3650, minimum=minimum)
    changeable = block.whole("changeableForDays", 3 if mode == "compliance" else None, minimum=3)
    if mode == "governance" and changeable is not None:
        raise _fail(block.key("changeableForDays"), "only compliance mode has a grace period",
                    "remove it or set mode: compliance")
    block.finish()
    return VaultLock(mode=mode, min_retention_days=minimum, max_retention_days=maximum, changeable_for_days=changeable)


def _tier(block: _Block, name: str, kinds: frozenset[Kind], vault_lock: VaultLock) -> BackupTier:
    for removed in ("continuous", "continuousRetentionDays"):
        if removed in block.raw:
            # docs/protection.md: AWS Backup continuous backup duplicated what the stores already do.
            raise _fail(block.key(removed), "AWS Backup continuous backup is no longer declared: RDS point-in-time "
                        "restore comes from its automated backups (backupRetentionDays, replicated to the DR region), "
                        "S3 from versioning", "remove the key (docs/protection.md)")
    continuous, continuous_days = False, CONTINUOUS_BACKUP_MAX_DAYS
    restore_testing = block.flag("restoreTesting", False)
    rules_block = block.block("rules", required=True)
    if not rules_block.raw:
        raise _fail(rules_block.path, "a tier needs at least one rule", "add e.g. a daily rule")
    rules = []
    for rule_name in rules_block.raw:
        rule = _backup_rule(rules_block.block(rule_name), rule_name)
        if rule.cold_storage_after_days is not None or rule.copy_cold_storage_after_days is not None:
            untiered = sorted(k.value for k in kinds - COLD_STORAGE_KINDS)
            if untiered:
                key = "coldStorageAfterDays" if rule.cold_storage_after_days is not None else "copyColdStorageAfterDays"
                raise _fail(f"{rules_block.key(rule_name)}.{key}",
                            f"AWS Backup cannot move {'/'.join(untiered)} recovery points to cold storage, and tier {name!r} selects them",
                            "remove the cold-storage transition or move those workloads to a tier without one "
                            "(RDS snapshots reach Glacier through the snapshot-export archive bucket)")
        for key, days in (("deleteAfterDays", rule.delete_after_days), ("copyDeleteAfterDays", rule.copy_delete_after_days)):
            if not vault_lock.min_retention_days <= days <= vault_lock.max_retention_days:
                raise _fail(f"{rules_block.key(rule_name)}.{key}",
                            f"{days} days is outside the vault lock range {vault_lock.min_retention_days}-{vault_lock.max_retention_days}",
                            "the locked vault would reject these recovery points; adjust the rule or backup.vaultLock")
        rules.append(rule)
    block.finish()
    return BackupTier(name=name, rules=tuple(rules), continuous=continuous,
                      continuous_retention_days=continuous_days, restore_testing=restore_testing, kinds=kinds)


def _failover(block: _Block, regions: tuple[str, str]) -> FailoverConfig:
    zone = block.text("zoneName").rstrip(".")
    check_block = block.block("healthCheck")
    check = HealthCheckConfig(
        type=check_block.text("type", "HTTPS", choices=("HTTP", "HTTPS")),
        port=check_block.whole("port", 443, minimum=1, maximum=65535),
        path=check_block.text("path", "/health"),
        interval_seconds=check_block.whole("intervalSeconds", 30, minimum=10),
        failure_threshold=check_block.whole("failureThreshold", 3, minimum=1, maximum=10),
    )
    if check.interval_seconds not in HEALTH_CHECK_INTERVALS:
        raise _fail(check_block.key("intervalSeconds"), f"Route 53 checks every 10 or 30 seconds, not {check.interval_seconds}",
                    "use 10 (fast, extra cost) or 30")
    check_block.finish()
    record = block.text("recordName", f"www.{zone}").rstrip(".")
    if not record.endswith("." + zone):
        raise _fail(block.key("recordName"), f"{record!r} is outside the hosted zone {zone}",
                    f"use a name ending in .{zone} (a CNAME cannot sit at the zone apex)")
    routing = Routing(block.text("routing", Routing.FAILOVER.value, choices=tuple(r.value for r in Routing)))
    endpoints_block = block.block("endpoints")
    endpoints = {}
    for region in endpoints_block.raw:
        if region not in regions:
            raise _fail(endpoints_block.key(region), "not one of the stack's regions", f"use {' and '.join(regions)}")
        item = endpoints_block.block(region)
        host = item.text("hostName").rstrip(".")
        if "." not in host:
            raise _fail(item.key("hostName"), f"{host!r} is not an existing endpoint",
                        "give the region's load balancer DNS name or an existing host name")
        lb_zone = item.value("loadBalancerZoneId")
        if lb_zone is not None:
            lb_zone = item.text("loadBalancerZoneId")
            if not re.match(r"^Z[A-Z0-9]{5,31}$", lb_zone):
                raise _fail(item.key("loadBalancerZoneId"), f"{lb_zone!r} is not a hosted zone id",
                            "use the load balancer's CanonicalHostedZoneId (e.g. Z35SXDOTRQ7X7K)")
        item.finish()
        endpoints[region] = AppEndpoint(host_name=host, load_balancer_zone_id=lb_zone)
    endpoints_block.finish()
    private_zone = block.text("privateZoneName", "").rstrip(".")
    ttl = block.whole("ttlSeconds", 60, minimum=1, maximum=86400)
    block.finish()
    return FailoverConfig(zone_name=zone, record_name=record, routing=routing, ttl_seconds=ttl, health_check=check,
                          endpoints=endpoints, private_zone_name=private_zone)


def _application_routing(failover: FailoverConfig, workloads: Mapping[str, WorkloadConfig],
                         regions: tuple[str, str]) -> None:
    """One record for the shop: every workload with a DR copy must accept the routing it implies."""
    routed = [w for w in workloads.values() if w.strategy.routing is not None]
    if routed and set(failover.endpoints) != set(regions):
        missing = next(r for r in regions if r not in failover.endpoints)
        raise _fail(f"failover.endpoints.{missing}.hostName", "missing: the application record fails over between "
                    "both regions' endpoints", "give the region's load balancer DNS name (and loadBalancerZoneId)")
    for w in routed:
        # Failover routing suits every strategy (one region serves at a time); latency or weighted
        # routing sends writers to both regions, which only multi-writer (active-active) data takes.
        if failover.routing is not Routing.FAILOVER and not w.strategy.allows_routing(failover.routing):
            raise _fail("failover.routing", f"{failover.routing.value} sends writers to both regions, but "
                        f"{w.name} ({w.strategy.name}) has one writable region",
                        "use failover, or make every workload active-active")


def _network(block: _Block, environment: str, regions: tuple[str, str]) -> NetworkConfig:
    default_vpc = block.flag("defaultVpc", False)
    if default_vpc and environment not in DEFAULT_VPC_ENVIRONMENTS:
        raise _fail(block.key("defaultVpc"), "the default VPC has public subnets and the default security group",
                    f"only the {' and '.join(DEFAULT_VPC_ENVIRONMENTS)} stacks may use it; give network.<region> ids")
    per_region: dict[str, RegionNetwork] = {}
    for region in regions:
        item = block.block(region, required=not default_vpc)
        if default_vpc:
            if item.raw:
                raise _fail(item.path, "given together with defaultVpc: true", "remove one of them")
            per_region[region] = RegionNetwork(vpc_id=None, subnets={}, security_groups={})
            continue
        vpc = _aws_id(item, "vpcId", "vpc")
        subnets_block = item.block("subnets", required=True)
        subnets = {}
        for zone in subnets_block.raw:
            if not re.match(rf"^{re.escape(region)}[a-z]$", zone):
                raise _fail(subnets_block.key(zone), f"not an availability zone of {region}", f"use e.g. {region}a")
            subnets[zone] = _aws_id(subnets_block, zone, "subnet")
        if len(subnets) < 2:
            raise _fail(subnets_block.path, "RDS subnet groups and Multi-AZ need subnets in two zones",
                        f"give a private subnet in {region}a and {region}b")
        subnets_block.finish()
        groups_block = item.block("securityGroups", required=True)
        groups = {}
        for role in NETWORK_ROLES:
            ids = groups_block.strings(role)
            if not ids:
                raise _fail(groups_block.key(role), "missing", "give the security group ids for this role")
            groups[role] = tuple(_aws_id(groups_block, role, "sg", value) for value in ids)
        groups_block.finish()
        item.finish()
        per_region[region] = RegionNetwork(vpc_id=vpc, subnets=subnets, security_groups=groups)
    block.finish()
    return NetworkConfig(default_vpc=default_vpc, regions=per_region)


def _monitoring(block: _Block) -> MonitoringConfig:
    emails = block.strings("alertEmails")
    for index, email in enumerate(emails):
        if "@" not in email:
            raise _fail(f"{block.key('alertEmails')}[{index}]", f"{email!r} is not an e-mail address", "fix the address")
    config = MonitoringConfig(
        alert_emails=emails,
        s3_replication_latency_threshold_seconds=block.whole("s3ReplicationLatencyThresholdSeconds", None, minimum=1),
        dynamodb_replication_latency_threshold_seconds=block.whole(
            "dynamodbReplicationLatencyThresholdSeconds", None, minimum=1),
        rds_replica_lag_threshold_seconds=block.whole("rdsReplicaLagThresholdSeconds", None, minimum=1),
        efs_time_since_last_sync_threshold_seconds=block.whole("efsTimeSinceLastSyncThresholdSeconds", None, minimum=1),
    )
    if len(emails) > 10:
        raise _fail(block.key("alertEmails"), f"{len(emails)} addresses; AWS Budgets notifies at most 10",
                    "use a distribution list")
    block.finish()
    return config


def _budgets(block: _Block) -> BudgetConfig:
    thresholds = []
    raw_thresholds = block.value("thresholds")
    if raw_thresholds is None:
        raw_thresholds = [{"percent": 80, "type": "FORECASTED"}, {"percent": 100, "type": "ACTUAL"}]
    if not isinstance(raw_thresholds, list) or not raw_thresholds:
        raise _fail(block.key("thresholds"), "expected a non-empty list", "write e.g. [{percent: 80, type: FORECASTED}]")
    for index, raw in enumerate(raw_thresholds):
        item = _Block(f"{block.key('thresholds')}[{index}]", raw)
        thresholds.append(BudgetThreshold(percent=item.number("percent", required=True, minimum=1, maximum=1000),
                                          notification_type=item.text("type", "ACTUAL", choices=("ACTUAL", "FORECASTED"))))
        item.finish()
    config = BudgetConfig(
        s3_monthly_usd=block.number("s3MonthlyUsd", required=True, minimum=1),
        backup_monthly_usd=block.number("backupMonthlyUsd", required=True, minimum=1),
        thresholds=tuple(thresholds),
        anomaly_threshold_usd=block.number("anomalyThresholdUsd", 100, minimum=1),
        anomaly_monitor_arn=block.text("anomalyMonitorArn", "") or None,
        create_anomaly_monitor=block.flag("createAnomalyMonitor", False),
        activate_cost_allocation_tags=block.flag("activateCostAllocationTags", False),
    )
    if config.create_anomaly_monitor and config.anomaly_monitor_arn:
        raise _fail(block.key("createAnomalyMonitor"), "given together with anomalyMonitorArn",
                    "reuse the existing monitor (drop createAnomalyMonitor) or create one (drop anomalyMonitorArn)")
    if config.anomaly_monitor_arn and not config.anomaly_monitor_arn.startswith("arn:aws:ce::"):
        raise _fail(block.key("anomalyMonitorArn"), f"{config.anomaly_monitor_arn!r} is not a Cost Explorer monitor ARN",
                    "copy it from `aws ce get-anomaly-monitors` (arn:aws:ce::<account>:anomalymonitor/<id>)")
    block.finish()
    return config


def _backup_notify(block: _Block, alert_emails: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """Who hears the vault events; the alert e-mails when not given. Refused when nobody would."""
    raw = block.value("notify")
    if raw is None:
        subscribers = tuple(("email", email) for email in alert_emails)
    else:
        if not isinstance(raw, list):
            raise _fail(block.key("notify"), "expected a list", "write e.g. [{protocol: email, endpoint: ops@example.com}]")
        subscribers = []
        for index, item_raw in enumerate(raw):
            item = _Block(f"{block.key('notify')}[{index}]", item_raw)
            protocol = item.text("protocol", choices=NOTIFY_PROTOCOLS)
            endpoint = item.text("endpoint")
            if protocol.startswith("email") and "@" not in endpoint:
                raise _fail(item.key("endpoint"), f"{endpoint!r} is not an e-mail address", "fix the address")
            if protocol in ("sqs", "lambda") and not endpoint.startswith("arn:"):
                raise _fail(item.key("endpoint"), f"{protocol} subscribers are named by ARN", "give the queue or function ARN")
            if protocol == "https" and not endpoint.startswith("https://"):
                raise _fail(item.key("endpoint"), f"{endpoint!r} is not an https URL", "give the https:// endpoint")
            item.finish()
            subscribers.append((protocol, endpoint))
        subscribers = tuple(subscribers)
    if not subscribers:
        raise _fail(block.key("notify"), "AWS Backup vault events would reach nobody",
                    "add monitoring.alertEmails or backup.notify subscribers (email, https, sqs, lambda)")
    return subscribers


def _chaos(block: _Block) -> ChaosConfig:
    enabled = block.flag("enabled", False)
    fis = block.flag("fisTemplates", False)
    if fis and not enabled:
        raise _fail(block.key("fisTemplates"), "FIS templates need the stack to opt in to chaos", "set chaos.enabled: true or drop fisTemplates")
    block.finish()
    return ChaosConfig(enabled=enabled, fis_templates=fis)


def _recovery_plan(block: _Block, regions: tuple[str, str]) -> RecoveryPlanConfig:
    enabled = block.flag("enabled", True)
    manual = block.flag("manualApproval", False)
    timeout = block.whole("approvalTimeoutMinutes", DEFAULT_APPROVAL_TIMEOUT_MINUTES, minimum=1,
                          maximum=MAX_APPROVAL_TIMEOUT_MINUTES)
    if enabled:
        for region in regions:
            if not REGION_SWITCH_REGION.match(region):
                raise _fail(block.key("enabled"), f"ARC Region switch is not offered in {region} (it runs in the "
                            "commercial and GovCloud (US) Regions)", "set recoveryPlan.enabled: false for this stack")
    block.finish()
    return RecoveryPlanConfig(enabled=enabled, manual_approval=manual, approval_timeout_minutes=timeout)


_OBJECT_KEYS = ("tags", "workloads", "backup", "failover", "monitoring", "budgets", "chaos", "network",
                "recoveryPlan")
_TEXT_KEYS = ("environment", "primaryRegion", "drRegion")


def _configured_keys() -> set[str]:
    """Our keys the stack sets, so a misspelled top-level key is refused like a nested one.

    The engine hands config to the program as PULUMI_CONFIG (or `set_all_config` in tests);
    pulumi.Config itself cannot list its keys.
    """
    keys = set(pulumi_config.CONFIG.get()) | set(pulumi_config.get_config_env() or {})
    return {key.split(":", 1)[1] for key in keys if key.startswith(f"{NAMESPACE}:")}


def _raw_from_pulumi(cfg: pulumi.Config) -> dict[str, Any]:
    raw: dict[str, Any] = {key: cfg.get(key) for key in _TEXT_KEYS}
    for key in _configured_keys() - set(_TEXT_KEYS) - set(_OBJECT_KEYS):
        raw[key] = cfg.get(key)
    for key in _OBJECT_KEYS:
        try:
            raw[key] = cfg.get_object(key)
        except Exception as error:  # noqa: BLE001 pulumi raises a bare JSON error
            raise _fail(key, f"not valid structured config ({error})", "write it as a YAML mapping") from None
    return raw


def load_stack_config(cfg: pulumi.Config | Mapping[str, Any]) -> StackConfig:
    """Read and validate the whole stack config (a pulumi.Config or a plain mapping of its keys)."""
    if isinstance(cfg, pulumi.Config):
        raw = _raw_from_pulumi(cfg)
    else:  # keys "securecart-dr:<key>" or bare "<key>"; other namespaces (aws:, pulumi:) are not ours
        raw = {key.removeprefix(f"{NAMESPACE}:"): value for key, value in cfg.items()
               if key.startswith(f"{NAMESPACE}:") or ":" not in key}
    top = _Block("", {k: v for k, v in raw.items() if v is not None})
    environment = top.text("environment")
    primary = _region(top, "primaryRegion")
    dr = _region(top, "drRegion")
    if dr == primary:
        raise _fail("drRegion", f"the DR region equals the primary region ({primary})",
                    "pick another region, e.g. us-west-2 for us-east-1")

    tags_block = top.block("tags")
    tags = {key: tags_block.text(key) for key in tags_block.raw}
    tags_block.finish()

    failover = _failover(top.block("failover", required=True), (primary, dr))
    if not failover.private_zone_name:
        failover = dataclasses.replace(failover, private_zone_name=f"{environment}.securecart.internal")
    network = _network(top.block("network"), environment, (primary, dr))
    monitoring = _monitoring(top.block("monitoring"))

    workloads_block = top.block("workloads", required=True)
    if not workloads_block.raw:
        raise _fail("workloads", "no workloads", "declare at least one workload")
    backup_block = top.block("backup", required=True)
    vault_lock = _vault_lock(backup_block.block("vaultLock"))
    tiers_block = backup_block.block("tiers", required=True)
    manage_region_settings = backup_block.flag("manageRegionSettings", True)
    audit_mode = backup_block.text("auditFramework", "off", choices=AUDIT_MODES)
    notify = _backup_notify(backup_block, monitoring.alert_emails)
    workloads = {
        name: _workload(name, workloads_block.block(name).raw, failover, set(tiers_block.raw), (primary, dr))
        for name in workloads_block.raw
    }
    _application_routing(failover, workloads, (primary, dr))
    tiers = {
        name: _tier(tiers_block.block(name), name,
                    frozenset(w.kind for w in workloads.values() if w.backup_tier == name), vault_lock)
        for name in tiers_block.raw
    }
    backup_block.finish()

    config = StackConfig(
        environment=environment,
        primary_region=primary,
        dr_region=dr,
        # Every resource carries the Resilience Hub application tag (provider default tags), so a
        # tag-based resource group imports the whole stack into an assessment.
        tags={"project": "securecart", "environment": environment, "managed-by": "pulumi",
              RESILIENCE_APP_TAG: f"securecart-{environment}", **tags},
        workloads=workloads,
        backup=BackupConfig(vault_lock=vault_lock, tiers=tiers, manage_region_settings=manage_region_settings,
                            audit_mode=audit_mode, notify=notify),
        failover=failover,
        monitoring=monitoring,
        budgets=_budgets(top.block("budgets", required=True)),
        chaos=_chaos(top.block("chaos")),
        network=network,
        recovery_plan=_recovery_plan(top.block("recoveryPlan"), (primary, dr)),
    )
    top.finish()
    return _check_envelope(config)


# ----- the AWS envelope -----------------------------------------------------------------------------


def _target_key(w: WorkloadConfig, scenario: str, field_name: str) -> str:
    if scenario in RESTORE_SCENARIOS or scenario in w.overridden_scenarios:
        return f"workloads.{w.name}.scenarioTargets.{scenario}.{field_name}"
    return f"workloads.{w.name}.{field_name}"


def _check_consistency(config: StackConfig, w: WorkloadConfig) -> WorkloadConfig:
    """MRSC (multiRegionConsistency: strong): AWS needs three replicas, or two plus a witness, all in
    one Region set; the witness defaults to the set's third region."""
    settings = w.settings
    if not isinstance(settings, DynamoDbSettings):
        return w
    key = f"workloads.{w.name}"
    if settings.multi_region_consistency != "strong":
        if settings.witness_region is not None:
            raise _fail(f"{key}.witnessRegion", "a witness only serves multiRegionConsistency: strong",
                        "remove it or set multiRegionConsistency: strong")
        return w
    if not w.strategy.dynamodb_global_replica:
        raise _fail(f"{key}.multiRegionConsistency", f"{w.strategy.name} keeps no global-table replica to be strong with",
                    "use warm-standby or active-active, or multiRegionConsistency: eventual")
    region_set = mrsc_region_set(config.regions)
    if region_set is None:
        raise _fail(f"{key}.multiRegionConsistency",
                    f"MRSC needs both regions in one Region set and {config.primary_region}/{config.dr_region} are not",
                    "use eventual, or regions of one set (US: us-east-1, us-east-2, us-west-2)")
    spare = sorted(region_set - set(config.regions))
    witness = settings.witness_region
    if witness is None:
        if len(spare) != 1:
            raise _fail(f"{key}.witnessRegion", "missing (MRSC needs three replicas or two plus a witness)",
                        f"add one of {', '.join(spare)}")
        witness = spare[0]
    elif witness not in spare:
        raise _fail(f"{key}.witnessRegion", f"{witness} is not a third region of the MRSC Region set of the replicas",
                    f"use one of {', '.join(spare)}")
    return dataclasses.replace(w, settings=dataclasses.replace(settings, witness_region=witness))


def _alarm_threshold(config: StackConfig, w: WorkloadConfig) -> float | None:
    """The workload's replication-lag alarm threshold: the stack's if set (refused when looser than
    the target allows), else its RPO target minus the alarm's evaluation period."""
    kind = alarm_kind(w)
    if kind is None:
        return None
    period = ALARM_PERIOD_SECONDS[kind]
    bounded = [s for s in (REGION_OUTAGE, REPLICATION_PAUSE) if s in w.scenario_targets]
    scenario = min(bounded, key=lambda s: w.scenario_targets[s].rpo_seconds)
    target = w.scenario_targets[scenario].rpo_seconds
    explicit = config.monitoring.explicit_threshold(kind)
    if explicit is None:
        return max(1.0, target - period)
    if explicit + period > target and target >= period + 1:
        raise _fail(ALARM_CONFIG_KEYS[kind],
                    f"{explicit} s lets {w.name} lose up to {explicit + period:g} s before the {ALARM_METRICS[kind]} "
                    f"alarm pages ({explicit} s + {period} s period), looser than its rpoSeconds {target:g} s",
                    f"use <= {target - period:g}, or remove the key (each workload's alarm then derives from its target)")
    return float(explicit)


def _refusal(w: WorkloadConfig, scenario: ScenarioEnvelope, field_name: str, target: float) -> ConfigError:
    """`<key>: <target> s is tighter than <AWS mechanism and figure> in a <scenario>; use >= <envelope>, or <ways out>`."""
    rpo = field_name == "rpoSeconds"
    bound = scenario.rpo if rpo else scenario.rto
    limit = scenario.rpo_limit if rpo else scenario.rto_limit
    ways = scenario.ways_out_rpo if rpo else scenario.ways_out_rto
    fix = f"use >= {bound.seconds:g}" + "".join(f", or {way}" for way in ways)
    return _fail(_target_key(w, scenario.scenario, field_name),
                 f"{target:g} s is tighter than {limit} for the {scenario.scenario} scenario", fix)


def _check_envelope(config: StackConfig) -> StackConfig:
    """Refuse a target the AWS envelope of what this stack provisions cannot meet; derive each
    workload's alarm thresholds from its targets; keep per-scenario targets for covered scenarios."""
    thresholds: dict[str, float] = {}
    workloads: dict[str, WorkloadConfig] = {}
    for name, w in config.workloads.items():
        w = _check_consistency(config, w)
        threshold = _alarm_threshold(config, w)
        if threshold is not None:
            thresholds[name] = threshold
        env = envelope(provision_of(config, w, alarm_threshold=threshold))
        if REGION_OUTAGE in env.not_covered:  # every strategy must survive a region loss
            raise _fail(f"workloads.{name}.backupTier", f"{env.not_covered[REGION_OUTAGE]} (tier {w.backup_tier!r})",
                        f"set copyToDr: true on a rule of backup.tiers.{w.backup_tier}, or choose pilot-light or stronger")
        covered = {s: w.scenario_targets[s] for s in SCENARIOS if s in env.scenarios}
        for scenario_name, target in covered.items():
            scenario = env.scenarios[scenario_name]
            if target.rpo_seconds < scenario.rpo.seconds:
                raise _refusal(w, scenario, "rpoSeconds", target.rpo_seconds)
            if target.rto_seconds < scenario.rto.seconds:
                raise _refusal(w, scenario, "rtoSeconds", target.rto_seconds)
        workloads[name] = dataclasses.replace(w, scenario_targets=covered)
    monitoring = dataclasses.replace(config.monitoring, replication_thresholds=thresholds)
    return dataclasses.replace(config, workloads=workloads, monitoring=monitoring)
