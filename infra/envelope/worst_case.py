"""Worst-case RTO and RPO on AWS, per workload and scenario, from what the program provisions.

Each bound is the sum of named terms of the mechanism that recovers the scenario: a term is an AWS
figure (`infra.envelope.figures`) or a value the stack provisions (a health-check interval, a
backup rule's windows, an alarm threshold). Everything here is a pure function of a `Provision`,
the slice of the validated config the envelope needs, so `infra.config` can refuse a target before
a resource is declared and `python -m chaos plan` can print the same numbers.

What "worst" means per mechanism is in docs/envelope.md; in short:

* DNS failover moves clients after Route 53 has seen `failureThreshold` consecutive failed checks
  (each up to `intervalSeconds` apart plus the 6 s an HTTP(S) check may take to fail) and the
  resolvers' cached answer has expired (`ttlSeconds`).
* Asynchronous replication that AWS does not bound (RDS read replicas, DynamoDB global tables in
  eventual mode) is bounded only by the lag alarm: threshold plus one evaluation period before it
  pages. S3 RTC (900 s) and EFS replication (900 s) have AWS-stated bounds for a region loss, but a
  stalled replication is again bounded only by the alarm.
* Scheduled copies (AWS Backup copy actions, DLM cross-region copies) lose up to the largest gap
  between two runs, plus the windows a run may take to start and finish, plus the copy.
* Detection of a human mistake (an accidental deletion) or of an attack (ransomware: a witness order
  gone) is not AWS's: the envelope of those scenarios starts at the decision to restore.
* A restore drill ends on the DR vault's copy: restore time plus repoint; its data is as old as the
  newest copy in the DR vault. A failed backup job loses no write; its RTO is AWS Backup's metric
  publication, the alarm's period and the retried job.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import lru_cache

from croniter import croniter

from infra.envelope.figures import FIGURES, worst

# Scenario names: the harness's (chaos.targets.base) so plan, inventory and reports line up.
REGION_OUTAGE = "region-outage"
AZ_OUTAGE = "az-outage"
INSTANCE_FAILURE = "instance-failure"
REPLICATION_PAUSE = "replication-pause"
ACCIDENTAL_DELETION = "accidental-deletion"
RESTORE_DRILL = "restore-drill"  # chaos.faults.backup
RANSOMWARE = "ransomware"  # chaos.faults.backup
BACKUP_JOB_FAILURE = "backup-job-failure"
SCENARIOS = (REGION_OUTAGE, AZ_OUTAGE, INSTANCE_FAILURE, REPLICATION_PAUSE, ACCIDENTAL_DELETION,
             RESTORE_DRILL, RANSOMWARE, BACKUP_JOB_FAILURE)
#: Scenarios recovered by a restore or a retried backup whatever the strategy: each has its own
#: default target per (strategy, kind) and is left out of the workload's region-level default
#: (`infra.strategies.default_targets`), which a restore would otherwise dominate.
RESTORE_SCENARIOS = (ACCIDENTAL_DELETION, RESTORE_DRILL, RANSOMWARE, BACKUP_JOB_FAILURE)

#: Period of the NumberOf{Backup,Copy,Restore}JobsFailed alarms the monitoring component declares
#: (infra/components/monitoring.py reads it): the alarm may page up to one period after AWS
#: Backup publishes the failed job (figure `cloudwatch.alarm_evaluation`).
BACKUP_ALARM_PERIOD_SECONDS = 3600

#: CloudWatch evaluation period of each replication-lag alarm (infra/components/monitoring.py uses
#: these): a lag above the threshold pages at most one period later. RDS, DynamoDB and EFS lag
#: metrics are alarmed per minute; S3 replication latency over 5 minutes.
ALARM_PERIOD_SECONDS = {"rds": 60, "dynamodb": 60, "s3": 300, "efs": 60}

#: Config keys of the lag alarms, per kind (for messages and the plan).
ALARM_CONFIG_KEYS = {
    "rds": "monitoring.rdsReplicaLagThresholdSeconds",
    "dynamodb": "monitoring.dynamodbReplicationLatencyThresholdSeconds",
    "s3": "monitoring.s3ReplicationLatencyThresholdSeconds",
    "efs": "monitoring.efsTimeSinceLastSyncThresholdSeconds",
}
ALARM_METRICS = {"rds": "RDS ReplicaLag", "dynamodb": "DynamoDB ReplicationLatency",
                 "s3": "S3 ReplicationLatency", "efs": "EFS TimeSinceLastSync"}

#: The figure describing each kind's asynchronous replication to the DR region (eventual mode for
#: DynamoDB); the lag alarm terms cite it and the lab's `aws` profile draws its lags from it.
REPLICATION_FIGURE = {"rds": "rds.cross_region_replica_lag", "dynamodb": "dynamodb.mrec_replication",
                      "s3": "s3.rtc_replication", "efs": "efs.replication"}

RESTORE_FIGURE = {"rds": "restore.rds", "dynamodb": "restore.dynamodb", "s3": "restore.s3",
                  "efs": "restore.efs", "ec2": "restore.ebs"}

#: A year of schedule firings is enough to see every gap of a daily/weekly/monthly cron.
_CRON_ORIGIN = datetime(2027, 1, 1, tzinfo=timezone.utc)
_CRON_HORIZON = timedelta(days=400)


# ----- inputs ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HealthCheck:
    interval_seconds: float
    failure_threshold: int
    ttl_seconds: float


@dataclass(frozen=True)
class BackupSchedule:
    """One AWS Backup rule of the workload's tier."""

    name: str
    schedule: str  # AWS cron expression, "cron(0 5 * * ? *)"
    start_window_minutes: float
    completion_window_minutes: float
    copy_to_dr: bool


@dataclass(frozen=True)
class Provision:
    """What the program provisions for one workload, as far as its envelope depends on it."""

    workload: str
    kind: str  # rds | dynamodb | s3 | efs | ec2
    strategy: str  # backup-restore | pilot-light | warm-standby | active-active
    live_replica: bool  # a replica in the DR region kept current by replication
    dr_compute: str  # zero | scaled-down | full (EC2)
    health_check: HealthCheck  # the stack's checks and TTL (backup-restore repoints the same records)
    routed: bool  # Route 53 health-checked records move clients (False: repoint by hand)
    backup_rules: tuple[BackupSchedule, ...] = ()
    continuous_backup: bool = False
    alarm_threshold_seconds: float | None = None  # the replication-lag alarm of this workload
    dynamodb_consistency: str = "eventual"  # eventual (MREC) | strong (MRSC)
    dlm_interval_hours: float | None = None  # EC2 snapshot schedule
    backup_tier: str = "tier"  # name of the AWS Backup tier (for the stack keys the terms cite)


# ----- outputs --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    """One named part of a bound: what takes the time, how long, and where the number comes from."""

    name: str
    seconds: float
    source: str  # where the number comes from: a figure key ("s3.rtc_replication") or a stack key
    figure: str | None = None  # the AWS figure describing the behaviour (defaults to `source` if it is one)

    @property
    def figure_key(self) -> str | None:
        return self.figure or (self.source if self.source in FIGURES else None)

    @property
    def estimate(self) -> bool:
        key = self.figure_key
        return key is not None and FIGURES[key].estimate

    def to_dict(self) -> dict:
        return {"name": self.name, "seconds": self.seconds, "source": self.source, "figure": self.figure_key,
                "estimate": self.estimate}


@dataclass(frozen=True)
class Bound:
    terms: tuple[Term, ...]

    @property
    def seconds(self) -> float:
        return float(sum(term.seconds for term in self.terms))

    @property
    def dominant(self) -> Term | None:
        return max(self.terms, key=lambda term: term.seconds, default=None)

    def to_dict(self) -> dict:
        return {"seconds": self.seconds, "terms": [term.to_dict() for term in self.terms]}


@dataclass(frozen=True)
class ScenarioEnvelope:
    """Worst-case RTO and RPO of one scenario, and the mechanism that recovers it."""

    scenario: str
    mechanism: str
    rto: Bound
    rpo: Bound
    rpo_limit: str  # the AWS behaviour that sets the RPO, for messages ("S3 Replication Time Control (900 s ...)")
    rto_limit: str
    ways_out_rpo: tuple[str, ...] = ()
    ways_out_rto: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {
            "scenario": self.scenario,
            "mechanism": self.mechanism,
            "rto_seconds": self.rto.seconds,
            "rpo_seconds": self.rpo.seconds,
            "rto_terms": [t.to_dict() for t in self.rto.terms],
            "rpo_terms": [t.to_dict() for t in self.rpo.terms],
        }


@dataclass(frozen=True)
class WorkloadEnvelope:
    workload: str
    kind: str
    strategy: str
    scenarios: dict[str, ScenarioEnvelope]
    not_covered: dict[str, str] = field(default_factory=dict)  # scenario -> why the strategy does not cover it


# ----- schedule arithmetic --------------------------------------------------------------------------


def _aws_cron_to_standard(expression: str) -> str:
    """AWS `cron(min hour dom month dow year)` -> the five-field form croniter reads."""
    inner = expression.strip()
    if inner.startswith("cron(") and inner.endswith(")"):
        inner = inner[5:-1]
    fields = inner.split()
    if len(fields) != 6:
        raise ValueError(f"{expression!r}: an AWS cron expression has 6 fields (min hour dom month dow year)")
    minute, hour, dom, month, dow, _year = fields
    dom = "*" if dom == "?" else dom
    if dow == "?":
        dow = "*"
    else:  # AWS numbers days 1-7 from Sunday, standard cron 0-6 ("6#3": the week after # stays)
        day, sep, week = dow.partition("#")
        dow = re.sub(r"\d", lambda m: str(int(m.group()) - 1), day) + sep + week
    return f"{minute} {hour} {dom} {month} {dow}"


@lru_cache(maxsize=256)
def _firings(expression: str) -> tuple[float, ...]:
    standard = _aws_cron_to_standard(expression)
    if not croniter.is_valid(standard):
        raise ValueError(f"{expression!r} is not a cron expression AWS would accept")
    iterator = croniter(standard, _CRON_ORIGIN)
    end = (_CRON_ORIGIN + _CRON_HORIZON).timestamp()
    times: list[float] = []
    while True:
        moment = iterator.get_next(float)
        if moment > end:
            return tuple(times)
        times.append(moment)


def max_gap_seconds(expressions: list[str] | tuple[str, ...]) -> float:
    """The largest time between two consecutive runs of any of `expressions` (their union)."""
    moments = sorted({t for expression in expressions for t in _firings(expression)})
    if len(moments) < 2:
        raise ValueError(f"{list(expressions)}: fewer than two runs in {_CRON_HORIZON.days} days")
    return max(b - a for a, b in zip(moments, moments[1:]))


# ----- the mechanisms' terms ------------------------------------------------------------------------


def _detection(hc: HealthCheck) -> list[Term]:
    n, interval = hc.failure_threshold, hc.interval_seconds
    timeout = worst("route53.http_check_timeout")
    return [
        Term(f"Route 53 detection ({n} failed checks x {interval:g} s)", n * interval,
             "failover.healthCheck.failureThreshold x intervalSeconds", "route53.health_check_interval"),
        Term(f"failing checks time out ({n} x {timeout:g} s)", n * timeout, "route53.http_check_timeout"),
    ]


def _ttl(hc: HealthCheck, name: str = "resolvers keep the old answer (DNS TTL)") -> Term:
    return Term(name, hc.ttl_seconds, "failover.ttlSeconds", "route53.dns_ttl")


def _healthy_again(hc: HealthCheck) -> Term:
    n, interval = hc.failure_threshold, hc.interval_seconds
    return Term(f"DR health check turns healthy ({n} passing checks x {interval:g} s)", n * interval,
                "failover.healthCheck.failureThreshold x intervalSeconds", "route53.health_check_interval")


def _figure_term(name: str, key: str) -> Term:
    return Term(name, worst(key), key)


def _alarm_bound(p: Provision, what: str) -> tuple[list[Term], str]:
    """Lag bounded only by the alarm: it pages after threshold + one evaluation period."""
    period = ALARM_PERIOD_SECONDS[p.kind]
    threshold = p.alarm_threshold_seconds
    if threshold is None:
        raise ValueError(f"{p.workload}: {what} needs a replication-lag alarm threshold")
    lag_figure = REPLICATION_FIGURE[p.kind]
    terms = [
        Term(f"{ALARM_METRICS[p.kind]} alarm threshold", threshold,
             f"{ALARM_CONFIG_KEYS[p.kind]} (or rpoSeconds - {period} s)", lag_figure),
        Term("alarm evaluation period (the page goes out up to one period later)", period,
             "infra/components/monitoring.py alarm period", lag_figure),
    ]
    limit = (f"{what} (asynchronous, no AWS bound: only the {ALARM_METRICS[p.kind]} alarm bounds it, "
             f"{threshold:g} s threshold + {period} s period)")
    return terms, limit


def worst_backup_gap(rules: list[BackupSchedule] | tuple[BackupSchedule, ...], copy_seconds: float
                     ) -> tuple[BackupSchedule, float]:
    """The run whose result arrives latest after the previous usable one, and that previous gap.

    A run scheduled at f is usable (in the vault, or copied to the DR vault) by f + start window +
    completion window + copy at worst. Just before the run g becomes usable, the newest usable data
    is the latest run f with an earlier arrival: the loss is g's arrival minus f. Returns g's rule
    and the schedule gap g - f of the worst such pair (the windows and copy are g's own terms).
    """
    runs = []
    for rule in rules:
        delay = (rule.start_window_minutes + rule.completion_window_minutes) * 60 + copy_seconds
        runs += [(moment + delay, moment, rule) for moment in _firings(rule.schedule)]
    if len(runs) < 2:
        raise ValueError(f"{[r.schedule for r in rules]}: fewer than two runs in {_CRON_HORIZON.days} days")
    runs.sort(key=lambda run: run[0])
    newest_usable: float | None = None
    worst_pair: tuple[float, float, BackupSchedule] = (-1.0, 0.0, rules[0])
    for arrival, moment, rule in runs:
        if newest_usable is not None and arrival - newest_usable > worst_pair[0]:
            worst_pair = (arrival - newest_usable, moment - newest_usable, rule)
        newest_usable = moment if newest_usable is None else max(newest_usable, moment)
    _, gap, rule = worst_pair
    return rule, gap


def _backup_copy_rpo(p: Provision, *, to_dr: bool) -> tuple[list[Term], str] | None:
    rules = [r for r in p.backup_rules if r.copy_to_dr or not to_dr]
    if not rules:
        return None
    copy = worst("backup.cross_region_copy") if to_dr else 0.0
    rule, gap = worst_backup_gap(rules, copy)
    key = f"backup.tiers.{p.backup_tier}.rules"
    terms = [
        Term(f"largest gap before a {rule.name} backup", gap, f"{key}.*.schedule"),
        Term(f"{rule.name} start window (the job may start this late)", rule.start_window_minutes * 60,
             f"{key}.{rule.name}.startWindowMinutes", "backup.start_window_minimum"),
        Term(f"{rule.name} completion window (the job may run this long)", rule.completion_window_minutes * 60,
             f"{key}.{rule.name}.completionWindowMinutes", "backup.completion_window"),
    ]
    if to_dr:
        terms.append(Term("cross-region copy to the DR vault", copy, "backup.cross_region_copy"))
    names = "/".join(r.name for r in rules)
    where = "copied to the DR vault" if to_dr else "in the primary vault"
    limit = (f"AWS Backup {names} rules {where} (up to {gap / 3600:g} h apart, {rule.name} windows "
             f"{rule.start_window_minutes:g}+{rule.completion_window_minutes:g} min"
             + (", copy 4 h estimate)" if to_dr else ")"))
    return terms, limit


# ----- per scenario ---------------------------------------------------------------------------------


def _region_outage(p: Provision) -> ScenarioEnvelope | str:
    hc = p.health_check
    dns_ways = ("faster detection and TTL (failover.healthCheck.intervalSeconds: 10, a lower "
                "failureThreshold, a lower failover.ttlSeconds)",)
    if not p.live_replica and p.kind != "ec2":
        copy = _backup_copy_rpo(p, to_dr=True)
        if copy is None:
            return "no backup rule of the workload's tier copies to the DR vault: a region loss loses everything"
        rpo_terms, rpo_limit = copy
        restore = _figure_term(f"restore {p.kind.upper()} from the DR copy", RESTORE_FIGURE[p.kind])
        rto_terms = [restore, _ttl(hc, "repoint clients (DNS TTL)")]
        return ScenarioEnvelope(
            REGION_OUTAGE, "restore the AWS Backup copy in the DR region, then repoint", Bound(tuple(rto_terms)),
            Bound(tuple(rpo_terms)), rpo_limit=rpo_limit,
            rto_limit=f"an AWS Backup restore ({restore.seconds:g} s, estimate; AWS publishes none)",
            ways_out_rpo=("a backup rule with copyToDr: true that runs more often", "shorter start/completion windows",
                          "pilot-light (replication) or stronger"),
            ways_out_rto=("pilot-light or stronger (a live DR copy instead of a restore)",))

    if p.kind == "ec2":
        interval = (p.dlm_interval_hours or 24) * 3600
        rpo_terms = [Term("DLM snapshot interval", interval, f"workloads.{p.workload}.snapshotIntervalHours",
                          "dlm.schedule_interval"),
                     _figure_term("snapshot + cross-region copy", "dlm.snapshot_and_copy")]
        rpo_limit = f"DLM snapshots every {interval / 3600:g} h copied to the DR region"
        rto_terms = _detection(hc)
        if p.dr_compute == "zero":
            rto_terms += [_figure_term("launch and boot DR instances from zero", "ec2.launch_and_boot"),
                          _healthy_again(hc)]
        rto_terms.append(_ttl(hc))
        if not p.routed:  # backup-restore: restore volumes and launch, then repoint by hand
            rto_terms = [_figure_term("create volumes from the DR snapshots", "restore.ebs"),
                         _figure_term("launch and boot instances", "ec2.launch_and_boot"),
                         _ttl(hc, "repoint clients (DNS TTL)")]
        mechanism = ("scale the DR Auto Scaling group out from zero; Route 53 moves clients" if p.dr_compute == "zero"
                     else "Route 53 moves clients to the running DR instances")
        return ScenarioEnvelope(
            REGION_OUTAGE, mechanism if p.routed else "restore DR snapshot copies and launch", Bound(tuple(rto_terms)),
            Bound(tuple(rpo_terms)), rpo_limit=rpo_limit,
            rto_limit="Route 53 detection, instance launch and DNS TTL",
            ways_out_rpo=("a lower snapshotIntervalHours",),
            ways_out_rto=("warm-standby (a DR instance already running)", *dns_ways))

    rto_terms = _detection(hc)
    if p.kind == "rds":
        rto_terms.append(_figure_term("promote the cross-region read replica", "rds.read_replica_promotion"))
        rpo_terms, rpo_limit = _alarm_bound(p, "RDS cross-region read replica lag")
        mechanism = "promote the cross-region read replica, repoint its private record; Route 53 moves clients"
        ways_rpo = ()
    elif p.kind == "dynamodb" and p.dynamodb_consistency == "strong":
        rpo_terms = [Term("MRSC: writes acknowledged only once in another region", 0, "dynamodb.mrsc_replication")]
        rpo_limit = "DynamoDB global tables in strong (MRSC) mode (RPO 0)"
        mechanism = "DynamoDB global table (multi-Region strong consistency); Route 53 moves clients"
        ways_rpo = ()
    elif p.kind == "dynamodb":
        rpo_terms, rpo_limit = _alarm_bound(p, "DynamoDB global tables in eventual mode (typically 1 s)")
        mechanism = "DynamoDB global table (eventual consistency); Route 53 moves clients"
        ways_rpo = ("multiRegionConsistency: strong (MRSC, RPO 0, with a witness region)",)
    elif p.kind == "s3":
        rpo_terms = [_figure_term("S3 Replication Time Control (99.99 % of objects)", "s3.rtc_replication")]
        rpo_limit = "S3 Replication Time Control (900 s for 99.99 % of objects)"
        mechanism = "S3 cross-region replication with RTC; Route 53 moves clients to the DR region's bucket"
        ways_rpo = ()  # AWS states no faster bound for S3 replication
    else:  # efs
        rpo_terms = [_figure_term("EFS replication (stated RPO)", "efs.replication")]
        rpo_limit = "EFS replication (RPO 15 minutes for most file systems)"
        mechanism = "EFS replication; Route 53 moves clients to the DR file system (made writable by deleting the replication)"
        ways_rpo = ()  # AWS states no faster bound for EFS replication
    rto_terms.append(_ttl(hc))
    return ScenarioEnvelope(
        REGION_OUTAGE, mechanism, Bound(tuple(rto_terms)), Bound(tuple(rpo_terms)), rpo_limit=rpo_limit,
        rto_limit="Route 53 detection (failureThreshold x (intervalSeconds + 6 s)) and the DNS TTL"
        + (" plus replica promotion" if p.kind == "rds" else ""),
        ways_out_rpo=ways_rpo, ways_out_rto=dns_ways)


def _replication_pause(p: Provision) -> ScenarioEnvelope | str:
    if not p.live_replica or p.kind == "ec2":
        return "no continuous replication to stall (recovery uses scheduled copies)"
    region = _region_outage(p)
    assert isinstance(region, ScenarioEnvelope)
    if p.kind == "dynamodb" and p.dynamodb_consistency == "strong":
        rpo_terms = [Term("MRSC: a stalled replica blocks writes instead of losing them", 0, "dynamodb.mrsc_replication")]
        limit, ways = region.rpo_limit, ()
    else:
        terms, limit = _alarm_bound(p, f"a stalled {ALARM_METRICS[p.kind].split()[0]} replication")
        rpo_terms = terms
        ways = ("multiRegionConsistency: strong (MRSC, RPO 0, with a witness region)",) if p.kind == "dynamodb" else ()
    return ScenarioEnvelope(
        REPLICATION_PAUSE, f"replication-lag alarm pages; then {region.mechanism}", region.rto,
        Bound(tuple(rpo_terms)), rpo_limit=limit, rto_limit=region.rto_limit,
        ways_out_rpo=ways, ways_out_rto=region.ways_out_rto)


def _multi_az(p: Provision, scenario: str) -> ScenarioEnvelope | str:
    if p.kind != "rds":
        if p.kind == "ec2":
            return ("the other instances (spread over two zones) keep serving; the program times no "
                    "recovery for one instance or zone")
        return f"{p.kind} is spread over AZs by AWS (no instance to fail over)"
    action = "automatic Multi-AZ failover" if scenario == AZ_OUTAGE else "reboot with failover to the standby"
    return ScenarioEnvelope(
        scenario, action,
        Bound((_figure_term("RDS Multi-AZ DB instance failover", "rds.multi_az_instance_failover"),)),
        Bound((Term("synchronous standby: no acknowledged write lost", 0, "rds.multi_az_sync"),)),
        rpo_limit="RDS Multi-AZ synchronous standby (RPO 0)",
        rto_limit="RDS Multi-AZ DB instance failover (typically 60-120 s)",
        ways_out_rto=("a Multi-AZ DB cluster (failover typically under 35 s) is not provisioned by this program",))


def _accidental_deletion(p: Provision) -> ScenarioEnvelope | str:
    hc = p.health_check
    if p.kind == "s3":
        return ScenarioEnvelope(
            ACCIDENTAL_DELETION, "remove the delete markers (versioned bucket)",
            Bound((Term("remove delete markers (API calls)", 0, "s3.versioning_restore"),)),
            Bound((Term("versioning keeps every acknowledged version", 0, "s3.versioning_restore"),)),
            rpo_limit="S3 versioning (RPO 0)", rto_limit="S3 versioning (seconds of API calls)")
    if p.kind in ("rds", "dynamodb"):
        lag_key = "rds.pitr_latest_restorable" if p.kind == "rds" else "dynamodb.pitr_latest_restorable"
        rto_terms = [_figure_term("wait until the latest restorable time passes the deletion", lag_key),
                     _figure_term(f"point-in-time restore into a new {'instance' if p.kind == 'rds' else 'table'}",
                                  RESTORE_FIGURE[p.kind])]
        if p.kind == "rds":
            rto_terms.append(_ttl(hc, "repoint clients to the restored instance (DNS TTL)"))
        return ScenarioEnvelope(
            ACCIDENTAL_DELETION, "point-in-time restore to just before the deletion", Bound(tuple(rto_terms)),
            Bound((_figure_term("point-in-time restore precision", "pitr.precision"),)),
            rpo_limit="point-in-time restore (1 s precision)",
            rto_limit=f"a point-in-time restore ({worst(RESTORE_FIGURE[p.kind]):g} s, estimate) after the "
                      f"latest restorable time ({worst(lag_key):g} s)")
    if p.backup_rules and p.kind in ("efs", "ec2"):
        # The harness restores files (EFS) and volumes (EC2) from AWS Backup and repoints the
        # application to the restored copy (chaos/stores/files.py), as ransomware does.
        return _restore_newest_point(p, ACCIDENTAL_DELETION, "restore the latest AWS Backup recovery point, then repoint")
    if p.kind == "ec2":  # no AWS Backup rule: the DLM snapshots are what is left
        interval = (p.dlm_interval_hours or 24) * 3600
        return ScenarioEnvelope(
            ACCIDENTAL_DELETION, "create volumes from the latest DLM snapshot and relaunch",
            Bound((_figure_term("create volumes from snapshots", "restore.ebs"),
                   _figure_term("launch and boot", "ec2.launch_and_boot"))),
            Bound((Term("DLM snapshot interval", interval, f"workloads.{p.workload}.snapshotIntervalHours",
                          "dlm.schedule_interval"),
                   _figure_term("snapshot creation", "dlm.snapshot_and_copy"))),
            rpo_limit=f"DLM snapshots every {interval / 3600:g} h",
            rto_limit="EBS restore and instance launch (estimates)",
            ways_out_rpo=("a lower snapshotIntervalHours",))
    return "the workload's tier has no backup rule"  # efs without one


def _restore_newest_point(p: Provision, scenario: str, mechanism: str) -> ScenarioEnvelope | str:
    """Restore the newest recovery point of the primary vault, then repoint clients to the copy."""
    copy = _backup_copy_rpo(p, to_dr=False)
    if copy is None:
        return "the workload's tier has no backup rule: no recovery point to restore"
    rpo_terms, rpo_limit = copy
    restore = _figure_term(f"restore {p.kind.upper()} from the newest primary-vault recovery point",
                           RESTORE_FIGURE[p.kind])
    return ScenarioEnvelope(
        scenario, mechanism,
        Bound((restore, _ttl(p.health_check, "repoint clients to the restored copy (DNS TTL)"))),
        Bound(tuple(rpo_terms)), rpo_limit=rpo_limit,
        rto_limit=f"an AWS Backup restore ({restore.seconds:g} s, estimate; AWS publishes none)",
        ways_out_rpo=("a backup rule that runs more often", "shorter start/completion windows"))


def _ransomware(p: Provision) -> ScenarioEnvelope | str:
    """The attacker deletes data with the application's credentials and tries to delete the recovery
    points (the vault lock and IAM refuse). Where the kind restores to a point in time (RDS and
    DynamoDB PITR, S3 versions) the recovery is the accidental deletion's, to just before the attack;
    otherwise (EFS, EC2) the newest recovery point of the primary vault, which the lock kept.
    Detection (a witness order gone) is a human's or a canary's decision, not AWS's: the bound starts
    at the decision to restore, as for an accidental deletion."""
    if p.kind in ("rds", "dynamodb", "s3"):
        deletion = _accidental_deletion(p)
        assert isinstance(deletion, ScenarioEnvelope)
        mechanism = ("restore the object versions from before the attack (versioned bucket)" if p.kind == "s3"
                     else "point-in-time restore to just before the attack")
        return dataclasses.replace(deletion, scenario=RANSOMWARE, mechanism=mechanism)
    return _restore_newest_point(
        p, RANSOMWARE, "restore the newest recovery point that survived the attack (vault lock), then repoint")


def _restore_drill(p: Provision) -> ScenarioEnvelope | str:
    """The drill restores the newest point of each vault side by side and switches the application
    to the DR vault's copy: the slower restore is the DR one (a copy in the other region, same
    restore figure), and the data is as old as the newest copy in the DR vault."""
    if not p.backup_rules:
        return "the workload's tier has no backup rule: there is no recovery point to drill"
    copy = _backup_copy_rpo(p, to_dr=True)
    if copy is None:
        return "no backup rule of the workload's tier copies to the DR vault: the drill ends on a DR copy"
    rpo_terms, rpo_limit = copy
    hc = p.health_check
    restore = _figure_term(f"restore {p.kind.upper()} from the DR vault's copy", RESTORE_FIGURE[p.kind])
    rto_terms = (
        restore,
        # The canary's audit of the restored copy is the harness's own check: AWS times nothing here.
        Term("validate the restored copy against the canary's audit (not timed by AWS; not bounded)", 0,
             "the harness's validation (chaos/scenarios/backup.py)"),
        _ttl(hc, "repoint clients to the DR vault's restored copy (DNS TTL)"),
    )
    return ScenarioEnvelope(
        RESTORE_DRILL, "restore the newest point of each vault side by side, validate, switch to the DR vault's copy",
        Bound(rto_terms), Bound(tuple(rpo_terms)), rpo_limit=rpo_limit,
        rto_limit=f"an AWS Backup restore ({restore.seconds:g} s, estimate; AWS publishes none)",
        ways_out_rpo=("a backup rule with copyToDr: true that runs more often", "shorter start/completion windows"),
        ways_out_rto=("pilot-light or stronger for a region loss (the drill itself always restores)",))


def _backup_job_failure(p: Provision) -> ScenarioEnvelope | str:
    """A backup job fails: AWS Backup publishes it (every 5 minutes, best effort), the
    NumberOfBackupJobsFailed alarm pages within its period, the operator retries the job. No
    acknowledged write is lost: the store keeps serving; what grows is the exposure window (the
    time since the newest recovery point) until the retried job completes."""
    if not p.backup_rules:
        return "the workload's tier has no backup rule: no backup job to fail"
    period = BACKUP_ALARM_PERIOD_SECONDS
    rto_terms = (
        _figure_term("AWS Backup publishes the failed job's metric (every 5 minutes, best effort)",
                     "backup.metric_publication"),
        Term(f"NumberOfBackupJobsFailed alarm pages (up to one {period} s period later)", period,
             "infra/components/monitoring.py backup alarm period (BACKUP_ALARM_PERIOD_SECONDS)",
             "cloudwatch.alarm_evaluation"),
        _figure_term("the retried backup job runs", "backup.job_duration"),
    )
    return ScenarioEnvelope(
        BACKUP_JOB_FAILURE, "NumberOfBackupJobsFailed alarm pages; the operator clears the cause and retries the backup",
        Bound(rto_terms),
        Bound((Term("a failed backup job loses no acknowledged write (the store keeps serving)", 0,
                    "the store is untouched; the exposure window grows until a backup completes"),)),
        rpo_limit="a failed backup loses no write (RPO 0; the exposure window grows)",
        rto_limit=f"AWS Backup's metric publication (5 min, estimate), the {period} s alarm period and the "
                  f"retried job ({worst('backup.job_duration'):g} s, estimate)",
        ways_out_rto=("a shorter NumberOfBackupJobsFailed alarm period (BACKUP_ALARM_PERIOD_SECONDS in "
                      "infra/envelope/worst_case.py; not a stack key)",))


def envelope(p: Provision) -> WorkloadEnvelope:
    """Every scenario the workload's strategy covers, with its worst-case RTO and RPO on AWS."""
    builders = {
        REGION_OUTAGE: _region_outage,
        AZ_OUTAGE: lambda q: _multi_az(q, AZ_OUTAGE),
        INSTANCE_FAILURE: lambda q: _multi_az(q, INSTANCE_FAILURE),
        REPLICATION_PAUSE: _replication_pause,
        ACCIDENTAL_DELETION: _accidental_deletion,
        RESTORE_DRILL: _restore_drill,
        RANSOMWARE: _ransomware,
        BACKUP_JOB_FAILURE: _backup_job_failure,
    }
    covered: dict[str, ScenarioEnvelope] = {}
    not_covered: dict[str, str] = {}
    for scenario, build in builders.items():
        result = build(p)
        if isinstance(result, ScenarioEnvelope):
            covered[scenario] = result
        else:
            not_covered[scenario] = result
    return WorkloadEnvelope(p.workload, p.kind, p.strategy, covered, not_covered)

