"""The Monitoring component under Pulumi's mock runtime: topics, alarms, event rules, dashboard."""

from __future__ import annotations

import json

import pulumi_aws as aws
import pytest

from infra.components.monitoring import (
    DynamoReplicationWatch,
    Monitoring,
    MonitoringArgs,
    MonitoringPolicyError,
    RdsReplicaWatch,
    S3ReplicationWatch,
    validate_monitoring_args,
)
from infra.offline import OfflineResult, run_program
from tests.infra.conftest import assert_explicit_providers_in

PRIMARY, DR = "us-east-1", "us-west-2"
EMAILS = ["ops@example.com", "dba@example.com"]


def monitoring_args(providers, **overrides) -> MonitoringArgs:
    values = dict(
        primary_region=PRIMARY,
        dr_region=DR,
        providers=providers,
        alert_emails=EMAILS,
        s3_replication=[S3ReplicationWatch("images", PRIMARY, "images-src", "images-dst", "to-dr", 900)],
        dynamodb_replication=[DynamoReplicationWatch("catalog", PRIMARY, "catalog", DR, 30)],
        rds_replicas=[RdsReplicaWatch("orders", DR, "orders-replica-us-west-2", 120)],
        tags={"project": "securecart"},
    )
    values.update(overrides)
    return MonitoringArgs(**values)


@pytest.fixture(scope="module")
def declared() -> OfflineResult:
    def program() -> None:
        providers = {region: aws.Provider(f"aws-{region}", region=region) for region in (PRIMARY, DR)}
        Monitoring("mon", monitoring_args(providers))

    return run_program(program)


def topic_in(result: OfflineResult, region: str):
    [topic] = [t for t in result.of_type("aws:sns/topic:Topic") if t.region == region]
    return topic


def alarm(result: OfflineResult, key: str):
    [found] = [a for a in result.of_type("aws:cloudwatch/metricAlarm:MetricAlarm") if a.name == f"mon-{key}"]
    return found


def test_every_child_uses_an_explicit_provider_of_one_of_the_two_regions(declared):
    assert_explicit_providers_in(declared, (PRIMARY, DR))


def test_each_region_has_an_alert_topic_with_every_email_subscribed(declared):
    for region in (PRIMARY, DR):
        topic = topic_in(declared, region)
        emails = sorted(s.inputs["endpoint"] for s in declared.of_type("aws:sns/topicSubscription:TopicSubscription")
                        if s.inputs["topic"] == topic.outputs["arn"] and s.inputs["protocol"] == "email")
        assert emails == sorted(EMAILS), f"{topic.urn}: subscribers {emails}"


def test_topic_policy_lets_alarms_eventbridge_and_billing_publish_for_this_account_only(declared):
    for policy in declared.of_type("aws:sns/topicPolicy:TopicPolicy"):
        statements = json.loads(policy.inputs["policy"])["Statement"]
        services = next(s for s in statements if "Service" in s["Principal"])
        assert {"events.amazonaws.com", "cloudwatch.amazonaws.com", "budgets.amazonaws.com"} <= set(
            services["Principal"]["Service"]), policy.urn
        assert services["Action"] == "SNS:Publish", f"{policy.urn}: services may do more than publish"
        assert services["Condition"]["StringEquals"]["aws:SourceAccount"] == "123456789012", policy.urn


def test_every_alarm_notifies_the_topic_of_its_own_region(declared):
    alarms = declared.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
    assert len(alarms) == 9, [a.name for a in alarms]
    for found in alarms:
        topic = topic_in(declared, found.region)
        assert found.inputs["alarmActions"] == [topic.outputs["arn"]], f"{found.urn}: notifies another region"
        assert found.inputs["comparisonOperator"] == "GreaterThanThreshold", found.urn


@pytest.mark.parametrize("region", [PRIMARY, DR])
@pytest.mark.parametrize("metric", ["NumberOfBackupJobsFailed", "NumberOfCopyJobsFailed", "NumberOfRestoreJobsFailed"])
def test_failed_backup_copy_restore_jobs_raise_an_alarm_in_both_regions(declared, region, metric):
    matches = [a for a in declared.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
               if a.region == region and a.inputs["metricName"] == metric]
    assert len(matches) == 1, f"no {metric} alarm in {region}"
    [found] = matches
    assert (found.inputs["namespace"], found.inputs["statistic"], found.inputs["threshold"]) == ("AWS/Backup", "Sum", 0)


def test_replication_lag_alarms_sit_where_the_metric_is_published(declared):
    s3 = alarm(declared, f"s3-images-{PRIMARY}")
    assert s3.region == PRIMARY, f"{s3.urn}: S3 latency is published in the source region"
    assert (s3.inputs["namespace"], s3.inputs["metricName"], s3.inputs["threshold"]) == ("AWS/S3", "ReplicationLatency", 900)
    assert s3.inputs["dimensions"] == {"SourceBucket": "images-src", "DestinationBucket": "images-dst", "RuleId": "to-dr"}

    dynamo = alarm(declared, f"dynamodb-catalog-to-{DR}")
    assert dynamo.region == PRIMARY, f"{dynamo.urn}: DynamoDB latency is published in the source region"
    assert dynamo.inputs["threshold"] == 30_000, f"{dynamo.urn}: the metric is in milliseconds"
    assert dynamo.inputs["dimensions"] == {"TableName": "catalog", "ReceivingRegion": DR}, dynamo.urn

    rds = alarm(declared, f"rds-orders-{DR}")
    assert rds.region == DR, f"{rds.urn}: ReplicaLag is published in the replica's region"
    assert (rds.inputs["metricName"], rds.inputs["threshold"]) == ("ReplicaLag", 120), rds.urn
    assert rds.inputs["treatMissingData"] == "breaching", f"{rds.urn}: a silent replica would look healthy"


def test_backup_job_events_that_end_badly_reach_the_regions_topic(declared):
    rules = declared.of_type("aws:cloudwatch/eventRule:EventRule")
    targets = declared.of_type("aws:cloudwatch/eventTarget:EventTarget")
    assert len(rules) == 6, [r.name for r in rules]
    backup_job_regions = set()
    for rule in rules:
        pattern = json.loads(rule.inputs["eventPattern"])
        assert pattern["source"] == ["aws.backup"], rule.urn
        if pattern["detail-type"] == ["Backup Job State Change"]:
            assert sorted(pattern["detail"]["state"]) == ["ABORTED", "EXPIRED", "FAILED"], rule.urn
            backup_job_regions.add(rule.region)
        [target] = [t for t in targets if t.inputs["rule"] == rule.outputs["name"]]
        assert target.inputs["arn"] == topic_in(declared, rule.region).outputs["arn"], f"{target.urn}: other topic"
        assert target.region == rule.region, target.urn
    assert backup_job_regions == {PRIMARY, DR}


def _referenced(composite) -> set[str]:
    return set(composite.inputs["alarmRule"].replace('ALARM("', "").replace('")', "").split(" OR "))


def test_guardrail_alarm_combines_exactly_the_alarms_of_its_region(declared):
    guardrails = [c for c in declared.of_type("aws:cloudwatch/compositeAlarm:CompositeAlarm")
                  if "-guardrail-" in c.name and "experiment" not in c.name]
    assert {g.region for g in guardrails} == {PRIMARY, DR}
    for guardrail in guardrails:
        local = {a.outputs["name"] for a in declared.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
                 if a.region == guardrail.region}
        assert _referenced(guardrail) == local, f"{guardrail.urn}: rule covers {_referenced(guardrail)}"


def test_experiment_guardrail_leaves_out_the_alarms_a_replication_pause_trips(declared):
    """FIS stops on this one: a paused replication raises ReplicationLatency by design."""
    alarms = declared.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
    latency = {a.outputs["name"] for a in alarms if a.inputs["metricName"] == "ReplicationLatency"}
    assert latency, "the fixture must watch some replication"
    guardrails = [c for c in declared.of_type("aws:cloudwatch/compositeAlarm:CompositeAlarm")
                  if "experiment-guardrail" in c.name]
    assert {g.region for g in guardrails} == {PRIMARY, DR}
    for guardrail in guardrails:
        referenced = _referenced(guardrail)
        assert not referenced & latency, f"{guardrail.urn}: includes {referenced & latency}"
        backup_failures = {a.outputs["name"] for a in alarms
                           if a.region == guardrail.region and a.inputs["namespace"] == "AWS/Backup"}
        assert backup_failures <= referenced, guardrail.urn


def test_dashboard_is_valid_json_showing_every_watched_metric(declared):
    [dashboard] = declared.of_type("aws:cloudwatch/dashboard:Dashboard")
    assert dashboard.region == PRIMARY, dashboard.urn
    body = json.loads(dashboard.inputs["dashboardBody"])
    metrics = [m for w in body["widgets"] for m in w["properties"]["metrics"]]
    shown = {(m[0], m[1]) for m in metrics}
    assert {("AWS/S3", "ReplicationLatency"), ("AWS/DynamoDB", "ReplicationLatency"), ("AWS/RDS", "ReplicaLag"),
            ("AWS/Backup", "NumberOfBackupJobsFailed")} <= shown, f"{dashboard.urn}: {shown}"
    rds = next(m for m in metrics if m[1] == "ReplicaLag")
    assert rds[3] == "orders-replica-us-west-2" and rds[-1]["region"] == DR, f"{dashboard.urn}: {rds}"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"rds_replicas": [RdsReplicaWatch("orders", "eu-west-1", "x")]}, r"rds_replicas\[orders\].region"),
        ({"s3_replication": [S3ReplicationWatch("i", PRIMARY, "a", "b", "r", 0)]}, r"s3_replication\[i\].threshold"),
        ({"dynamodb_replication": [DynamoReplicationWatch("c", PRIMARY, "c", DR)] * 2}, "duplicate"),
        ({"alert_emails": ["not-an-address"]}, "alert_emails"),
    ],
)
def test_invalid_settings_are_refused_naming_the_field(overrides, field):
    with pytest.raises(MonitoringPolicyError, match=field):
        validate_monitoring_args(monitoring_args({PRIMARY: object(), DR: object()}, **overrides))
