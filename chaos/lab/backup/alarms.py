"""What AWS Backup tells monitoring, and the CloudWatch alarm that listens.

At each job end the lab queues what AWS Backup publishes:
- a CloudWatch datapoint `AWS/Backup` `NumberOf{Backup,Copy,Restore}Jobs{Completed,Failed,...}`
  (account-wide, no dimension, value 1), which the monitoring component's alarms watch;
- an EventBridge event, source `aws.backup`, detail-type `Backup|Copy|Restore Job State Change`,
  with `detail.state` (backup, copy) or `detail.status` (restore), as the component's rules match.
AWS emits Backup events "in a best-effort manner every 5 minutes"
(https://docs.aws.amazon.com/aws-backup/latest/devguide/eventbridge.html, read 2026-11-30); the lab
delivers both at the next 5-minute boundary of its AWS clock. For the metrics AWS states no
interval on the pages read: the same 5 minutes is an estimate.

Alarms: every AWS-clock minute (CloudWatch evaluates a standard-resolution alarm once a minute;
an estimate, no AWS page read states it) every moto CloudWatch alarm on an `AWS/Backup` metric is
evaluated over its period from the datapoints above: statistic vs threshold with its comparison
operator, missing data per `TreatMissingData`. A state change is written to moto (DescribeAlarms
shows it) and published to each `AlarmActions`/`OKActions` SNS topic in CloudWatch's notification
shape, so a subscribed SQS queue receives it: the scenario's time-to-alarm.
"""
from __future__ import annotations

import json
import logging
import math
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

from chaos.lab import motostate
from chaos.lab.backup.clock import LabClock
from chaos.lab.backup.engine import BackupEngine, Job
from infra.envelope.figures import typical, worst

log = logging.getLogger(__name__)

# From the figures table, as the envelope's backup-job-failure terms are (infra/envelope/worst_case.py):
# AWS Backup -> EventBridge "every 5 minutes" (the metric's same cadence is an estimate), and one
# alarm evaluation per minute (estimate; the envelope's worst case is one full alarm period).
PUBLISH_INTERVAL_AWS_SECONDS = worst("backup.event_publication")
ALARM_EVALUATION_AWS_SECONDS = typical("cloudwatch.alarm_evaluation")
_DETAIL_TYPES = {"BACKUP": "Backup Job State Change", "COPY": "Copy Job State Change",
                 "RESTORE": "Restore Job State Change"}
_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "GreaterThanThreshold": lambda v, t: v > t, "GreaterThanOrEqualToThreshold": lambda v, t: v >= t,
    "LessThanThreshold": lambda v, t: v < t, "LessThanOrEqualToThreshold": lambda v, t: v <= t,
}


@dataclass(frozen=True)
class Datapoint:
    region: str
    metric: str
    aws_time: float
    value: float


class BackupMonitoring:
    def __init__(self, clock: LabClock, client: Callable[[str, str], Any], on_event: Callable[..., None]):
        self.clock = clock
        self.client = client
        self._record = on_event
        self._lock = threading.Lock()
        self._pending: list[tuple[float, Callable[[], None]]] = []
        self.datapoints: list[Datapoint] = []
        self._next_evaluation = 0.0
        self.regions: list[str] = []

    def clear(self) -> None:
        # No regions until the next deploy has wired its alarms and their topics: evaluating the
        # half-built deployment published to topics that did not exist yet (NotFound).
        self.regions = []
        with self._lock:
            self._pending.clear()
            self.datapoints.clear()
            self._next_evaluation = 0.0

    # --- publishing -------------------------------------------------------------------------------

    def on_job_end(self, job: Job, engine: BackupEngine) -> None:
        kind = job.kind.title()
        metric = f"NumberOf{kind}Jobs{job.state.title()}"
        due = math.floor(self.clock.aws_now() / PUBLISH_INTERVAL_AWS_SECONDS + 1) * PUBLISH_INTERVAL_AWS_SECONDS
        detail = self._event_detail(job)
        with self._lock:
            self._pending.append((due, lambda: self._publish(job.region, metric, detail, job.kind, due)))

    def _event_detail(self, job: Job) -> dict[str, Any]:
        f = job.fields
        state_field = "status" if job.kind == "RESTORE" else "state"
        detail: dict[str, Any] = {state_field: job.state,
                                  "resourceArn": f.get("ResourceArn") or f.get("SourceResourceArn"),
                                  "resourceType": f.get("ResourceType"),
                                  "creationDate": _iso(job.created_wall), "statusMessage": job.status_message or ""}
        id_key = {"BACKUP": "backupJobId", "COPY": "copyJobId", "RESTORE": "restoreJobId"}[job.kind]
        detail[id_key] = job.job_id
        if job.kind == "BACKUP":
            detail.update(backupVaultName=f.get("BackupVaultName"), backupVaultArn=f.get("BackupVaultArn"),
                          recoveryPointArn=f.get("RecoveryPointArn"))
        elif job.kind == "COPY":
            detail.update(sourceBackupVaultArn=f.get("SourceBackupVaultArn"),
                          destinationBackupVaultArn=f.get("DestinationBackupVaultArn"))
        return detail

    def _publish(self, region: str, metric: str, detail: dict[str, Any], kind: str, due_aws: float) -> None:
        with self._lock:
            self.datapoints.append(Datapoint(region, metric, due_aws, 1.0))
        cw = self.client("cloudwatch", region)
        cw.put_metric_data(Namespace="AWS/Backup", MetricData=[
            {"MetricName": metric, "Value": 1.0, "Unit": "Count",
             "Timestamp": datetime.fromtimestamp(self.clock.wall_now(), tz=timezone.utc)}])
        try:
            self.client("events", region).put_events(Entries=[{
                "Source": "aws.backup", "DetailType": _DETAIL_TYPES[kind], "Detail": json.dumps(detail),
                "Resources": [r for r in (detail.get("resourceArn"),) if r]}])
        except Exception as error:  # noqa: BLE001 - an event bus hiccup must not stop the metric
            log.warning("EventBridge put_events failed: %s", error)
        self._record("backup_event_published", region=region, metric=metric, detail_type=_DETAIL_TYPES[kind],
                     state=detail.get("state") or detail.get("status"))

    # --- the clock's work -------------------------------------------------------------------------

    def tick(self) -> None:
        now = self.clock.aws_now()
        with self._lock:
            due = [item for item in self._pending if item[0] <= now]
            self._pending = [item for item in self._pending if item[0] > now]
        for _, publish in sorted(due, key=lambda item: item[0]):
            try:
                publish()
            except Exception:  # noqa: BLE001
                log.exception("publishing a backup metric failed")
        if now >= self._next_evaluation:
            self._next_evaluation = math.floor(now / ALARM_EVALUATION_AWS_SECONDS + 1) * ALARM_EVALUATION_AWS_SECONDS
            for region in self.regions:
                self.evaluate(region, now)

    def evaluate(self, region: str, now_aws: float) -> None:
        backend = motostate.cloudwatch_backend(region)
        for alarm in list(backend.alarms.values()):
            if alarm.namespace != "AWS/Backup" or alarm.metric_name is None:
                continue
            period = float(alarm.period or 300)
            window_start = now_aws - period * int(alarm.evaluation_periods or 1)
            with self._lock:
                values = [p.value for p in self.datapoints if p.region == region and p.metric == alarm.metric_name
                          and window_start < p.aws_time <= now_aws]
            state, reason = self._state(alarm, values)
            if state != alarm.state_value:
                self._transition(region, alarm, state, reason)

    @staticmethod
    def _state(alarm: Any, values: list[float]) -> tuple[str, str]:
        if not values:
            treat = alarm.treat_missing_data or "missing"
            if treat == "breaching":
                return "ALARM", "Treating missing data as breaching"
            if treat in ("notBreaching", "ignore"):
                return ("OK", "Treating missing data as not breaching") if treat == "notBreaching" else \
                    (alarm.state_value, "Missing data ignored")
            return "INSUFFICIENT_DATA", "Insufficient Data: no datapoints"
        statistic = alarm.statistic or "Sum"
        value = {"Sum": sum(values), "Maximum": max(values), "Minimum": min(values),
                 "Average": sum(values) / len(values), "SampleCount": float(len(values))}.get(statistic, sum(values))
        compare = _COMPARE.get(alarm.comparison_operator, _COMPARE["GreaterThanThreshold"])
        breached = compare(value, float(alarm.threshold))
        word = "" if breached else "not "
        return ("ALARM" if breached else "OK",
                f"Threshold Crossed: 1 datapoint [{value:g}] was {word}{alarm.comparison_operator} "
                f"the threshold ({float(alarm.threshold):g}).")

    def _transition(self, region: str, alarm: Any, state: str, reason: str) -> None:
        old = alarm.state_value
        alarm.update_state(reason, json.dumps({"version": "1.0"}), state)
        self._record("alarm_state_changed", region=region, alarm=alarm.name, old=old, new=state)
        actions = alarm.alarm_actions if state == "ALARM" else alarm.ok_actions if state == "OK" else []
        if not alarm.actions_enabled:
            return
        message = {
            "AlarmName": alarm.name, "AlarmDescription": alarm.description, "AWSAccountId": motostate.ACCOUNT_ID,
            "NewStateValue": state, "NewStateReason": reason, "StateChangeTime": _iso(self.clock.wall_now()),
            "Region": region, "AlarmArn": alarm.alarm_arn, "OldStateValue": old,
            "Trigger": {"MetricName": alarm.metric_name, "Namespace": alarm.namespace,
                        "StatisticType": "Statistic", "Statistic": (alarm.statistic or "").upper(),
                        "Unit": None, "Dimensions": [], "Period": alarm.period,
                        "EvaluationPeriods": alarm.evaluation_periods,
                        "ComparisonOperator": alarm.comparison_operator, "Threshold": alarm.threshold,
                        "TreatMissingData": alarm.treat_missing_data or "missing"},
        }
        for topic in actions or []:
            if str(topic).startswith("arn:aws:sns:"):
                topic_region = str(topic).split(":")[3]
                self.client("sns", topic_region).publish(
                    TopicArn=topic, Subject=f'{state}: "{alarm.name}" in {region}', Message=json.dumps(message))
                self._record("alarm_notified", region=region, alarm=alarm.name, topic=topic, state=state)


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
