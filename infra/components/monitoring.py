"""Alarms and alerts for the DR topology: backup job failures, replication lag, one dashboard.

CloudWatch alarms and EventBridge rules are regional and may only notify an SNS topic of their own
region, so this component declares an alert topic per region (both with the same e-mail
subscribers) and puts every alarm in the region whose metrics it watches:

* AWS Backup ``NumberOf{Backup,Copy,Restore}JobsFailed`` in both regions (account-wide metrics,
  no dimension, so the default vault and any future vault are covered too);
* S3 ``ReplicationLatency`` per replication rule and DynamoDB ``ReplicationLatency`` per receiving
  region, both published in the source region; RDS ``ReplicaLag`` in the replica's region; EFS
  ``TimeSinceLastSync`` per replicated file system (source region). Their thresholds come from the
  workloads' RPO targets (``infra.config``: threshold + one evaluation period <= target), and the
  statistic is ``Maximum``: an average would let a lag spike above the target go unpaged;
* EventBridge rules for AWS Backup job state changes that end badly (backup FAILED/ABORTED/EXPIRED,
  copy and restore FAILED/ABORTED) -> the region's topic;
* a composite "guardrail" alarm per region (any of the above firing), and an "experiment
  guardrail" per region that leaves out the replication-latency alarms: the FIS templates stop on
  it, because pausing replication trips those alarms by design and would stop its own experiment;
* a CloudWatch dashboard in the primary region showing all of it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import pulumi
import pulumi_aws as aws

from infra.components import iam
from infra.components.regions import check_two_regions
from infra.envelope.worst_case import ALARM_PERIOD_SECONDS, BACKUP_ALARM_PERIOD_SECONDS

#: (alarm key, AWS/Backup metric). Published per region, summed over all vaults and resource types.
BACKUP_FAILURE_METRICS: tuple[tuple[str, str], ...] = (
    ("backup-jobs-failed", "NumberOfBackupJobsFailed"),
    ("copy-jobs-failed", "NumberOfCopyJobsFailed"),
    ("restore-jobs-failed", "NumberOfRestoreJobsFailed"),
)

#: EventBridge detail-types of AWS Backup and the end states worth waking someone for. Backup and
#: copy job events carry ``detail.state``; restore job events carry ``detail.status``.
BACKUP_EVENT_RULES: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("backup-job", "Backup Job State Change", "state", ("FAILED", "ABORTED", "EXPIRED")),
    ("copy-job", "Copy Job State Change", "state", ("FAILED", "ABORTED")),
    ("restore-job", "Restore Job State Change", "status", ("FAILED", "ABORTED")),
)

#: Services allowed to publish to the alert topics (alarms, EventBridge, Budgets, Cost Anomaly).
#: Copy-age alarms count completed copy jobs per hour; CloudWatch allows period x evaluation
#: periods up to 7 days for periods of an hour or more (PutMetricAlarm `Period`, read 2026-11-30:
#: https://docs.aws.amazon.com/sdk-for-kotlin/api/latest/cloudwatch/aws.sdk.kotlin.services.cloudwatch.model/-put-metric-alarm-request/period.html).
BACKUP_AGE_PERIOD_SECONDS = 3600
BACKUP_AGE_MAX_PERIODS = 7 * 24


def backup_age_periods(max_age_seconds: float) -> int:
    """Whole hours that fit in the age bound (never looser than it), capped at CloudWatch's 7 days."""
    return max(1, min(BACKUP_AGE_MAX_PERIODS, int(max_age_seconds // BACKUP_AGE_PERIOD_SECONDS)))


PUBLISHING_SERVICES: tuple[str, ...] = (
    "cloudwatch.amazonaws.com",
    "events.amazonaws.com",
    "budgets.amazonaws.com",
    "costalerts.amazonaws.com",
)


#: Alarm keys of replication latency (see `alarm_specs`): a replication-pause experiment trips them.
REPLICATION_LATENCY_PREFIXES: tuple[str, ...] = ("s3-", "dynamodb-")
#: The DR-copy age alarm is in ALARM on a fresh stack until its first copy completes (missing data
#: breaches): it pages, but it must not stop game-day experiments, which cannot age the copies.
BACKUP_AGE_PREFIXES: tuple[str, ...] = ("backup-copy-age-",)


@dataclass(frozen=True)
class S3ReplicationWatch:
    """One S3 replication rule whose latency to watch (metric published in the source region)."""

    name: str
    """Key used in child names, e.g. ``images``."""
    region: str
    """Source bucket's region."""
    source_bucket: pulumi.Input[str]
    destination_bucket: pulumi.Input[str]
    rule_id: pulumi.Input[str]
    threshold_seconds: float = 600.0
    """Alarm above this latency: the workload's RPO target minus the 300 s evaluation period."""


@dataclass(frozen=True)
class DynamoReplicationWatch:
    """One global-table replica whose replication latency to watch (metric in the source region)."""

    name: str
    region: str
    """Region of the table that ships changes (the metric lives here)."""
    table_name: pulumi.Input[str]
    receiving_region: str
    threshold_seconds: float = 60.0
    """Alarm above this latency (seconds; the metric is in ms): RPO target minus the 60 s period."""


@dataclass(frozen=True)
class RdsReplicaWatch:
    """One RDS read replica whose lag to watch (metric in the replica's region)."""

    name: str
    region: str
    """Replica's region."""
    replica_identifier: pulumi.Input[str]
    threshold_seconds: float = 240.0
    """Alarm above this lag: the workload's RPO target minus the 60 s evaluation period."""


@dataclass(frozen=True)
class BackupCopyAgeWatch:
    """Pages when no AWS Backup copy job completed for `max_age_seconds` (the DR copies of
    backup-restore workloads are getting older than their RPO target)."""

    name: str
    region: str
    """Region the copy jobs start in (the primary: copy actions run from the source vault)."""
    max_age_seconds: float
    """The smallest RPO target among the workloads whose region-loss recovery uses the copies."""


@dataclass(frozen=True)
class EfsReplicationWatch:
    """One EFS replication whose time since the last successful sync to watch (source region)."""

    name: str
    region: str
    """Source file system's region (the metric lives here)."""
    file_system_id: pulumi.Input[str]
    destination_file_system_id: pulumi.Input[str]
    threshold_seconds: float = 840.0
    """Alarm above this age of the last sync: the workload's RPO target minus the 60 s period."""


@dataclass
class MonitoringArgs:
    """Inputs of :class:`Monitoring`."""

    primary_region: str
    """Region of the dashboard (each region gets its own alert topic, backup alarms and guardrail)."""
    dr_region: str
    """The other region watched; a replica's lag alarm lives in the replica's region."""
    providers: Mapping[str, aws.Provider]
    """One provider per region name; must contain both regions."""
    alert_emails: Sequence[str] = ()
    """Addresses subscribed to both regions' alert topics (each must confirm by e-mail)."""
    s3_replication: Sequence[S3ReplicationWatch] = ()
    """One latency alarm per S3 replication rule."""
    dynamodb_replication: Sequence[DynamoReplicationWatch] = ()
    """One latency alarm per global-table replica region."""
    rds_replicas: Sequence[RdsReplicaWatch] = ()
    """One lag alarm per RDS read replica."""
    efs_replication: Sequence[EfsReplicationWatch] = ()
    """One time-since-last-sync alarm per EFS replication."""
    backup_copy_age: Sequence[BackupCopyAgeWatch] = ()
    """Alarms on the age of the newest completed AWS Backup copy job."""
    backup_alarm_period_seconds: int = BACKUP_ALARM_PERIOD_SECONDS
    """Window over which failed jobs are summed; one failure in it raises the alarm. The envelope's
    backup-job-failure RTO counts the default (the alarm may page up to one period late)."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags for every taggable child."""


class MonitoringPolicyError(ValueError):
    """A monitoring setting that cannot work; the message is one line."""


def validate_monitoring_args(args: MonitoringArgs) -> None:
    """Refuse watches in regions without a provider, duplicate names, or nonsense thresholds."""
    check_two_regions("MonitoringArgs", args.primary_region, args.dr_region, args.providers, MonitoringPolicyError)
    regions = {args.primary_region, args.dr_region}
    seen: set[str] = set()
    watches: list[tuple[str, Any]] = [
        *(("s3_replication", w) for w in args.s3_replication),
        *(("dynamodb_replication", w) for w in args.dynamodb_replication),
        *(("rds_replicas", w) for w in args.rds_replicas),
        *(("efs_replication", w) for w in args.efs_replication),
    ]
    for watch in args.backup_copy_age:
        where = f"MonitoringArgs.backup_copy_age[{watch.name}]"
        if watch.region not in regions:
            raise MonitoringPolicyError(f"{where}.region: {watch.region} is neither {sorted(regions)}")
        if not BACKUP_AGE_PERIOD_SECONDS <= watch.max_age_seconds:
            raise MonitoringPolicyError(f"{where}.max_age_seconds: below one {BACKUP_AGE_PERIOD_SECONDS} s period")
    for field_name, watch in watches:
        where = f"MonitoringArgs.{field_name}[{watch.name}]"
        if watch.region not in regions:
            raise MonitoringPolicyError(f"{where}.region: {watch.region} is neither {sorted(regions)}")
        if watch.threshold_seconds <= 0:
            raise MonitoringPolicyError(f"{where}.threshold_seconds: must be > 0")
        key = f"{field_name}:{watch.name}"
        if key in seen:
            raise MonitoringPolicyError(f"{where}: duplicate watch name")
        seen.add(key)
    for email in args.alert_emails:
        if "@" not in email:
            raise MonitoringPolicyError(f"MonitoringArgs.alert_emails: {email!r} is not an e-mail address")


@dataclass(frozen=True)
class AlarmSpec:
    """One metric alarm: fires when `metric_name` goes above `threshold` in one period (or, with
    ``comparison="LessThanThreshold"`` and N evaluation periods, stays below it for all N)."""

    key: str
    """Alarm key in :attr:`Monitoring.alarms` and in the child name."""
    region: str
    """Region whose metric it watches; it notifies that region's topic."""
    description: str
    namespace: str
    metric_name: str
    statistic: str
    period: int
    threshold: float
    dimensions: Mapping[str, pulumi.Input[str]] | None
    treat_missing_data: str
    evaluation_periods: int = 1
    comparison: str = "GreaterThanThreshold"


def alarm_specs(args: MonitoringArgs) -> list[AlarmSpec]:
    """Every alarm Monitoring declares: backup job failures per region, then one per watch."""
    specs = [
        AlarmSpec(
            f"{key}-{region}",
            region,
            description=f"AWS Backup reported a failed job ({metric}) in {region}",
            namespace="AWS/Backup",
            metric_name=metric,
            statistic="Sum",
            period=args.backup_alarm_period_seconds,
            threshold=0,
            dimensions=None,
            treat_missing_data="notBreaching",  # no jobs failed -> no data points
        )
        for region in (args.primary_region, args.dr_region)
        for key, metric in BACKUP_FAILURE_METRICS
    ]
    specs += [
        AlarmSpec(
            f"s3-{watch.name}-{watch.region}",
            watch.region,
            description=f"S3 replication of {watch.name} is slower than {watch.threshold_seconds:g}s",
            namespace="AWS/S3",
            metric_name="ReplicationLatency",
            statistic="Maximum",
            period=ALARM_PERIOD_SECONDS["s3"],
            threshold=watch.threshold_seconds,
            dimensions={
                "SourceBucket": watch.source_bucket,
                "DestinationBucket": watch.destination_bucket,
                "RuleId": watch.rule_id,
            },
            # S3 publishes latency only while objects replicate; quiet buckets send nothing.
            treat_missing_data="notBreaching",
        )
        for watch in args.s3_replication
    ]
    specs += [
        AlarmSpec(
            f"dynamodb-{watch.name}-to-{watch.receiving_region}",
            watch.region,
            description=(
                f"DynamoDB replication of {watch.name} to {watch.receiving_region} is slower "
                f"than {watch.threshold_seconds:g}s"
            ),
            namespace="AWS/DynamoDB",
            metric_name="ReplicationLatency",
            statistic="Maximum",
            period=ALARM_PERIOD_SECONDS["dynamodb"],
            threshold=watch.threshold_seconds * 1000,  # the metric is in milliseconds
            dimensions={"TableName": watch.table_name, "ReceivingRegion": watch.receiving_region},
            treat_missing_data="notBreaching",
        )
        for watch in args.dynamodb_replication
    ]
    specs += [
        AlarmSpec(
            f"rds-{watch.name}-{watch.region}",
            watch.region,
            description=f"RDS replica {watch.name} lags more than {watch.threshold_seconds:g}s",
            namespace="AWS/RDS",
            metric_name="ReplicaLag",
            statistic="Maximum",
            period=ALARM_PERIOD_SECONDS["rds"],
            threshold=watch.threshold_seconds,
            dimensions={"DBInstanceIdentifier": watch.replica_identifier},
            # A healthy replica reports lag every minute: silence means replication broke.
            treat_missing_data="breaching",
        )
        for watch in args.rds_replicas
    ]
    specs += [
        AlarmSpec(
            f"efs-{watch.name}-{watch.region}",
            watch.region,
            description=f"EFS replication of {watch.name} last synced more than {watch.threshold_seconds:g}s ago",
            namespace="AWS/EFS",
            metric_name="TimeSinceLastSync",
            statistic="Maximum",
            period=ALARM_PERIOD_SECONDS["efs"],
            threshold=watch.threshold_seconds,
            dimensions={"FileSystemId": watch.file_system_id,
                        "DestinationFileSystemId": watch.destination_file_system_id},
            # The metric exists while the replication runs: silence means it broke.
            treat_missing_data="breaching",
        )
        for watch in args.efs_replication
    ]
    specs += [
        AlarmSpec(
            f"backup-copy-age-{watch.name}-{watch.region}",
            watch.region,
            description=(f"No AWS Backup copy job completed in {watch.region} for "
                         f"{backup_age_periods(watch.max_age_seconds)} h: DR copies are older than the RPO target"),
            namespace="AWS/Backup",
            metric_name="NumberOfCopyJobsCompleted",
            statistic="Sum",
            period=BACKUP_AGE_PERIOD_SECONDS,
            threshold=1,
            dimensions=None,  # account-wide in the region, like the failed-job alarms
            treat_missing_data="breaching",  # no copy job at all is exactly what must page
            evaluation_periods=backup_age_periods(watch.max_age_seconds),
            comparison="LessThanThreshold",
        )
        for watch in args.backup_copy_age
    ]
    return specs


class Monitoring(pulumi.ComponentResource):
    """Per-region alert topics, the alarms and rules that feed them, a guardrail alarm, a dashboard."""

    alert_topics: dict[str, aws.sns.Topic]
    alarm_topic: aws.sns.Topic
    """The primary region's alert topic (Budgets and anomaly alerts may use it too)."""
    alarms: dict[str, aws.cloudwatch.MetricAlarm]
    """Keyed e.g. ``backup-jobs-failed-us-east-1``, ``s3-images-us-east-1``,
    ``dynamodb-catalog-to-us-west-2``, ``rds-orders-us-west-2``; see :attr:`alarm_regions`."""
    alarm_regions: dict[str, str]
    event_rules: dict[str, aws.cloudwatch.EventRule]
    guardrail_alarms: dict[str, aws.cloudwatch.CompositeAlarm]
    experiment_guardrail_alarms: dict[str, aws.cloudwatch.CompositeAlarm]
    """Region -> composite without the replication-latency alarms (FIS stop condition)."""
    dashboard: aws.cloudwatch.Dashboard

    def __init__(self, name: str, args: MonitoringArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("securecart:monitoring:Monitoring", name, None, opts)
        validate_monitoring_args(args)
        self._name = name
        self._args = args
        self._tags = dict(args.tags)
        regions = (args.primary_region, args.dr_region)

        self.alert_topics = {region: self._alert_topic(region) for region in regions}
        self.alarm_topic = self.alert_topics[args.primary_region]

        self.alarms, self.alarm_regions = {}, {}
        for spec in alarm_specs(args):
            self._alarm(spec)

        self.event_rules = {}
        for region in regions:
            for key, detail_type, state_field, states in BACKUP_EVENT_RULES:
                self._event_rule(region, key, detail_type, state_field, states)

        self.guardrail_alarms = {region: self._guardrail(region) for region in regions}
        self.experiment_guardrail_alarms = {
            region: self._guardrail(region, kind="experiment-guardrail", skip=REPLICATION_LATENCY_PREFIXES + BACKUP_AGE_PREFIXES)
            for region in regions
        }
        self.dashboard = self._dashboard()

        self.register_outputs(
            {
                "alert_topic_arns": {region: topic.arn for region, topic in self.alert_topics.items()},
                "alarm_arns": {key: alarm.arn for key, alarm in self.alarms.items()},
                "guardrail_alarm_arns": {r: alarm.arn for r, alarm in self.guardrail_alarms.items()},
                "dashboard_name": self.dashboard.dashboard_name,
            }
        )

    # ----- children ---------------------------------------------------------------------------

    def _in(self, region: str, **extra) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, provider=self._args.providers[region], **extra)

    def _alert_topic(self, region: str) -> aws.sns.Topic:
        topic = aws.sns.Topic(f"{self._name}-alerts-{region}", tags=self._tags, opts=self._in(region))
        account_id = topic.arn.apply(lambda arn: arn.split(":")[4])
        aws.sns.TopicPolicy(
            f"{self._name}-alerts-policy-{region}",
            arn=topic.arn,
            policy=iam.policy_document(
                [
                    iam.statement(
                        ["SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:Subscribe",
                         "SNS:ListSubscriptionsByTopic", "SNS:Publish"],
                        topic.arn,
                        sid="AccountManagesTopic",
                        principal={"AWS": pulumi.Output.concat("arn:aws:iam::", account_id, ":root")},
                    ),
                    iam.statement(
                        "SNS:Publish",
                        topic.arn,
                        # Only on behalf of this account (confused-deputy guard).
                        {"StringEquals": {"aws:SourceAccount": account_id}},
                        sid="AwsServicesOfThisAccountPublish",
                        principal={"Service": list(PUBLISHING_SERVICES)},
                    ),
                ]
            ),
            opts=self._in(region),
        )
        for index, email in enumerate(self._args.alert_emails):
            aws.sns.TopicSubscription(
                f"{self._name}-alerts-{region}-email-{index}",
                topic=topic.arn,
                protocol="email",
                endpoint=email,
                opts=self._in(region),
            )
        return topic

    def _alarm(self, spec: AlarmSpec) -> None:
        topic_arn = self.alert_topics[spec.region].arn
        self.alarms[spec.key] = aws.cloudwatch.MetricAlarm(
            f"{self._name}-{spec.key}",
            alarm_description=spec.description,
            namespace=spec.namespace,
            metric_name=spec.metric_name,
            statistic=spec.statistic,
            period=spec.period,
            evaluation_periods=spec.evaluation_periods,
            datapoints_to_alarm=spec.evaluation_periods,
            threshold=spec.threshold,
            comparison_operator=spec.comparison,
            dimensions=dict(spec.dimensions) if spec.dimensions else None,
            treat_missing_data=spec.treat_missing_data,
            alarm_actions=[topic_arn],
            ok_actions=[topic_arn],
            tags=self._tags,
            opts=self._in(spec.region),
        )
        self.alarm_regions[spec.key] = spec.region

    def _event_rule(
        self, region: str, key: str, detail_type: str, state_field: str, states: tuple[str, ...]
    ) -> None:
        rule = aws.cloudwatch.EventRule(
            f"{self._name}-{key}-events-{region}",
            description=f"AWS Backup {detail_type} to {'/'.join(states)} in {region}",
            event_pattern=json.dumps(
                {
                    "source": ["aws.backup"],
                    "detail-type": [detail_type],
                    "detail": {state_field: list(states)},
                }
            ),
            tags=self._tags,
            opts=self._in(region),
        )
        aws.cloudwatch.EventTarget(
            f"{self._name}-{key}-events-{region}-to-sns",
            rule=rule.name,
            arn=self.alert_topics[region].arn,
            opts=self._in(region),
        )
        self.event_rules[f"{key}-{region}"] = rule

    def _guardrail(self, region: str, kind: str = "guardrail", skip: tuple[str, ...] = ()) -> aws.cloudwatch.CompositeAlarm:
        names = [alarm.name for key, alarm in self.alarms.items()
                 if self.alarm_regions[key] == region and not key.startswith(skip)]
        rule = pulumi.Output.all(*names).apply(lambda ns: " OR ".join(f'ALARM("{n}")' for n in ns))
        what = "DR protection alarm" if not skip else "alarm a game day does not trip on purpose"
        return aws.cloudwatch.CompositeAlarm(
            f"{self._name}-{kind}-{region}",
            alarm_name=f"{self._name}-{kind}-{region}",
            alarm_description=f"Any {what} in {region} is firing: stop experiments",
            alarm_rule=rule,
            alarm_actions=[self.alert_topics[region].arn],
            tags=self._tags,
            opts=self._in(region),
        )

    def _dashboard(self) -> aws.cloudwatch.Dashboard:
        args = self._args
        regions = (args.primary_region, args.dr_region)
        backup_widgets = [
            {
                "type": "metric",
                "width": 12,
                "height": 6,
                "properties": {
                    "title": f"AWS Backup failed jobs ({region})",
                    "region": region,
                    "stat": "Sum",
                    "period": 3600,
                    "metrics": [["AWS/Backup", metric, {"region": region}] for _, metric in BACKUP_FAILURE_METRICS],
                },
            }
            for region in regions
        ]
        lag_inputs: list[Any] = []
        for w in args.s3_replication:
            lag_inputs.append(["AWS/S3", "ReplicationLatency", "SourceBucket", w.source_bucket,
                               "DestinationBucket", w.destination_bucket, "RuleId", w.rule_id,
                               {"region": w.region, "label": f"S3 {w.name} (s)"}])
        for w in args.dynamodb_replication:
            lag_inputs.append(["AWS/DynamoDB", "ReplicationLatency", "TableName", w.table_name,
                               "ReceivingRegion", w.receiving_region,
                               {"region": w.region, "label": f"DynamoDB {w.name} -> {w.receiving_region} (ms)"}])
        for w in args.rds_replicas:
            lag_inputs.append(["AWS/RDS", "ReplicaLag", "DBInstanceIdentifier", w.replica_identifier,
                               {"region": w.region, "label": f"RDS {w.name} (s)"}])
        for w in args.efs_replication:
            lag_inputs.append(["AWS/EFS", "TimeSinceLastSync", "FileSystemId", w.file_system_id,
                               "DestinationFileSystemId", w.destination_file_system_id,
                               {"region": w.region, "label": f"EFS {w.name} since last sync (s)"}])

        def body(lag_metrics: list[Any]) -> str:
            widgets = list(backup_widgets)
            if lag_metrics:
                widgets.append(
                    {
                        "type": "metric",
                        "width": 24,
                        "height": 6,
                        "properties": {
                            "title": "Replication lag",
                            "region": args.primary_region,
                            "stat": "Maximum",
                            "period": 60,
                            "metrics": lag_metrics,
                        },
                    }
                )
            return json.dumps({"widgets": widgets})

        return aws.cloudwatch.Dashboard(
            f"{self._name}-dashboard",
            dashboard_name=re.sub(r"[^A-Za-z0-9_-]", "-", f"{self._name}-dr"),
            dashboard_body=pulumi.Output.all(*lag_inputs).apply(lambda resolved: body(list(resolved))),
            opts=self._in(args.primary_region),
        )
