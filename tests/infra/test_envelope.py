"""The envelope: worst-case RTO/RPO per scenario as named terms; the config refuses what AWS cannot meet.

One refusal test per mechanism, each checking the one-line error names the key, the AWS behaviour
and the way out. The arithmetic tests build `Provision`s by hand so each term is visible.
"""

from __future__ import annotations

import pytest

from infra.config import load_stack_config
from infra.envelope.figures import worst
from infra.envelope.provision import stack_envelopes
from infra.envelope.worst_case import (ACCIDENTAL_DELETION, AZ_OUTAGE, REGION_OUTAGE, REPLICATION_PAUSE,
                                       RESTORE_SCENARIOS, BackupSchedule, HealthCheck, Provision, envelope, max_gap_seconds,
                                       worst_backup_gap)
from infra.offline import load_stack_file
from infra.strategies import STRATEGIES, default_scenario_targets, default_targets, reference_envelope
from tests.infra.test_config import error_for, prod_with

PROD = load_stack_file("prod")
HC = HealthCheck(interval_seconds=10, failure_threshold=3, ttl_seconds=60)
DAILY = BackupSchedule("daily", "cron(0 5 * * ? *)", 60, 180, True)


def provision(kind: str, strategy: str, **extra) -> Provision:
    spec = STRATEGIES[strategy]
    live = {"rds": spec.rds_cross_region_replica, "dynamodb": spec.dynamodb_global_replica,
            "s3": spec.s3_replication, "efs": spec.efs_replication, "ec2": False}[kind]
    values = dict(workload="w", kind=kind, strategy=strategy, live_replica=live, dr_compute=spec.dr_compute,
                  health_check=HC, routed=spec.routing is not None, backup_rules=(DAILY,),
                  alarm_threshold_seconds=60, dlm_interval_hours=12)
    values.update(extra)
    return Provision(**values)


# ----- schedule arithmetic ---------------------------------------------------------------------------


def test_cron_gaps_of_daily_weekly_monthly_and_their_union():
    assert max_gap_seconds(["cron(0 5 * * ? *)"]) == 86400
    assert max_gap_seconds(["cron(0 6 ? * SUN *)"]) == 7 * 86400
    assert max_gap_seconds(["cron(0 6 ? * 1 *)"]) == 7 * 86400  # AWS numbers Sunday 1
    assert max_gap_seconds(["cron(0 7 1 * ? *)"]) == 31 * 86400
    assert max_gap_seconds(["cron(0 5 * * ? *)", "cron(0 6 ? * SUN *)"]) == 86400
    assert max_gap_seconds(["cron(0 */4 * * ? *)"]) == 4 * 3600


def test_backup_copy_worst_case_is_gap_plus_windows_plus_copy():
    weekly_slow = BackupSchedule("weekly", "cron(0 6 ? * SUN *)", 60, 1440, True)
    rule, gap = worst_backup_gap([DAILY, weekly_slow], copy_seconds=0)
    assert (rule.name, gap) == ("daily", 86400)  # the slow weekly run never arrives before the next daily
    env = envelope(provision("s3", "backup-restore", backup_rules=(DAILY,)))
    rpo = env.scenarios[REGION_OUTAGE].rpo
    assert [t.seconds for t in rpo.terms] == [86400, 3600, 10800, worst("backup.cross_region_copy")]
    assert rpo.seconds == 86400 + 3600 + 10800 + 14400


# ----- the mechanisms ----------------------------------------------------------------------------------


def test_dns_failover_rto_is_threshold_times_interval_plus_timeouts_plus_ttl():
    region = envelope(provision("dynamodb", "active-active")).scenarios[REGION_OUTAGE]
    assert [t.seconds for t in region.rto.terms] == [3 * 10, 3 * 6, 60]
    assert region.rto.seconds == 108


def test_rds_region_loss_adds_promotion_and_is_bounded_by_the_lag_alarm():
    env = envelope(provision("rds", "pilot-light", alarm_threshold_seconds=240))
    region = env.scenarios[REGION_OUTAGE]
    assert region.rto.seconds == 108 + worst("rds.read_replica_promotion")
    assert any(t.estimate for t in region.rto.terms)  # promotion time is our estimate, and says so
    assert region.rpo.seconds == 240 + 60
    assert env.scenarios[AZ_OUTAGE].rto.seconds == 120 and env.scenarios[AZ_OUTAGE].rpo.seconds == 0


def test_s3_region_loss_is_bounded_by_rtc_and_a_stall_by_the_alarm():
    env = envelope(provision("s3", "warm-standby", alarm_threshold_seconds=600))
    assert env.scenarios[REGION_OUTAGE].rpo.seconds == 900
    assert env.scenarios[REPLICATION_PAUSE].rpo.seconds == 600 + 300
    assert env.scenarios[ACCIDENTAL_DELETION].rpo.seconds == 0  # versioning


def test_dynamodb_strong_consistency_has_rpo_zero_eventual_does_not():
    strong = envelope(provision("dynamodb", "active-active", dynamodb_consistency="strong"))
    eventual = envelope(provision("dynamodb", "active-active"))
    assert strong.scenarios[REGION_OUTAGE].rpo.seconds == 0
    assert strong.scenarios[REPLICATION_PAUSE].rpo.seconds == 0
    assert eventual.scenarios[REGION_OUTAGE].rpo.seconds == 120


def test_ec2_from_zero_adds_launch_and_the_dr_check_turning_healthy():
    pilot = envelope(provision("ec2", "pilot-light")).scenarios[REGION_OUTAGE]
    warm = envelope(provision("ec2", "warm-standby")).scenarios[REGION_OUTAGE]
    assert pilot.rto.seconds == warm.rto.seconds + worst("ec2.launch_and_boot") + 3 * 10
    assert pilot.rpo.seconds == 12 * 3600 + worst("dlm.snapshot_and_copy")


def test_efs_replication_uses_the_stated_rpo_and_backup_restore_the_copies():
    assert envelope(provision("efs", "pilot-light", alarm_threshold_seconds=840)
                    ).scenarios[REGION_OUTAGE].rpo.seconds == 900
    backup = envelope(provision("efs", "backup-restore"))
    assert REPLICATION_PAUSE in backup.not_covered
    assert backup.scenarios[ACCIDENTAL_DELETION].rpo.seconds == 86400 + 3600 + 10800  # no copy in-region


def test_defaults_per_strategy_and_kind_cover_their_reference_envelope():
    for strategy, spec in STRATEGIES.items():
        for kind in spec.kinds:
            rto, rpo = default_targets(strategy, kind)
            env = reference_envelope(strategy, kind)
            for name, scenario in env.scenarios.items():
                if name == ACCIDENTAL_DELETION:
                    assert default_scenario_targets(strategy, kind, ACCIDENTAL_DELETION) >= (scenario.rto.seconds, scenario.rpo.seconds)
                elif name in RESTORE_SCENARIOS:  # their own defaults: tests/infra/test_envelope_restore_scenarios.py
                    continue
                else:
                    assert rto >= scenario.rto.seconds and rpo >= scenario.rpo.seconds, (strategy, kind, name)


def test_every_shipped_stack_meets_its_envelope():
    for stack in ("prod", "staging", "localstack"):
        config = load_stack_config(load_stack_file(stack))
        for name, env in stack_envelopes(config).items():
            targets = config.workloads[name].scenario_targets
            assert set(targets) == set(env.scenarios)
            for scenario, bound in env.scenarios.items():
                assert targets[scenario].rto_seconds >= bound.rto.seconds, (stack, name, scenario)
                assert targets[scenario].rpo_seconds >= bound.rpo.seconds, (stack, name, scenario)


# ----- one refusal per mechanism -----------------------------------------------------------------------


@pytest.mark.parametrize(("overrides", "key", "words"), [
    # S3 Replication Time Control
    ({"workloads.product-images.rpoSeconds": 30}, "workloads.product-images.rpoSeconds",
     ["30 s is tighter than S3 Replication Time Control (900 s for 99.99 % of objects)", "use >= 900"]),
    # DynamoDB global tables, eventual mode: bounded by the alarm; MRSC is the way to zero
    ({"workloads.sessions.rpoSeconds": 15}, "workloads.sessions.rpoSeconds",
     ["DynamoDB global tables in eventual mode", "use >= 61", "multiRegionConsistency: strong"]),
    ({"workloads.catalog.rpoSeconds": 0}, "workloads.catalog.rpoSeconds",
     ["0 s is tighter than DynamoDB global tables in eventual mode", "multiRegionConsistency: strong"]),
    # RDS cross-region read replica: lag bounded by the ReplicaLag alarm; promotion in the RTO
    ({"workloads.orders.rpoSeconds": 30}, "workloads.orders.rpoSeconds",
     ["RDS cross-region read replica lag", "ReplicaLag alarm", "use >= 61"]),
    ({"workloads.orders.rtoSeconds": 600}, "workloads.orders.rtoSeconds",
     ["plus replica promotion", "use >= 1008"]),
    # Route 53 detection and the DNS TTL
    ({"workloads.catalog.rtoSeconds": 60}, "workloads.catalog.rtoSeconds",
     ["Route 53 detection", "DNS TTL", "use >= 108", "failover.ttlSeconds"]),
    # AWS Backup copy to the DR vault
    ({"workloads.logs.rpoSeconds": 3600}, "workloads.logs.rpoSeconds",
     ["AWS Backup daily/weekly/monthly rules copied to the DR vault", "use >= 115200", "copyToDr"]),
    # DLM snapshots and EC2 from zero
    ({"workloads.compute.rpoSeconds": 3600}, "workloads.compute.rpoSeconds",
     ["DLM snapshots every 12 h", "snapshotIntervalHours"]),
    ({"workloads.compute.rtoSeconds": 300}, "workloads.compute.rtoSeconds",
     ["instance launch", "use >= 738"]),
    # EFS replication's stated RPO
    ({"workloads.app-logs.strategy": "pilot-light", "workloads.app-logs.rpoSeconds": 60},
     "workloads.app-logs.rpoSeconds", ["EFS replication (RPO 15 minutes for most file systems)", "use >= 900"]),
    # RDS Multi-AZ failover
    ({"workloads.orders.scenarioTargets": {"az-outage": {"rtoSeconds": 60}}},
     "workloads.orders.scenarioTargets.az-outage.rtoSeconds",
     ["RDS Multi-AZ DB instance failover (typically 60-120 s)", "use >= 120"]),
    # Point-in-time restore (estimate) and AWS Backup restore of EFS
    ({"workloads.orders.scenarioTargets": {"accidental-deletion": {"rtoSeconds": 600}}},
     "workloads.orders.scenarioTargets.accidental-deletion.rtoSeconds",
     ["a point-in-time restore (3600 s, estimate)", "use >= 3960"]),
    ({"workloads.app-logs.scenarioTargets": {"accidental-deletion": {"rpoSeconds": 3600}}},
     "workloads.app-logs.scenarioTargets.accidental-deletion.rpoSeconds",
     ["AWS Backup daily/weekly/monthly rules in the primary vault", "use >= 100800"]),
])
def test_a_target_below_its_envelope_is_refused_naming_mechanism_figure_and_way_out(overrides, key, words):
    message = error_for(**overrides)
    assert message.startswith(f"securecart-dr:{key}: "), message
    for word in words:
        assert word in message, message


def test_a_tier_that_copies_nothing_to_the_dr_region_is_refused():
    message = error_for(**{f"backup.tiers.critical.rules.{rule}.copyToDr": False for rule in ("daily", "weekly", "monthly")})
    assert message.startswith("securecart-dr:workloads.logs.backupTier: no backup rule"), message
    assert "copyToDr: true" in message


def test_unknown_scenario_target_is_refused():
    message = error_for(**{"workloads.orders.scenarioTargets": {"meteor-strike": {"rtoSeconds": 60}}})
    assert "workloads.orders.scenarioTargets.meteor-strike: unknown scenario" in message


# ----- active-active with RPO 0: DynamoDB multi-Region strong consistency -----------------------------


def test_strong_consistency_lets_active_active_promise_rpo_zero_with_the_third_us_region_as_witness():
    config = load_stack_config(prod_with(**{"workloads.catalog.multiRegionConsistency": "strong",
                                            "workloads.catalog.rpoSeconds": 0}))
    catalog = config.workloads["catalog"]
    assert catalog.settings.witness_region == "us-east-2"
    assert catalog.targets.rpo_seconds == 0
    assert "catalog" not in config.monitoring.replication_thresholds  # synchronous: no lag alarm


@pytest.mark.parametrize(("overrides", "key", "words"), [
    ({"workloads.catalog.multiRegionConsistency": "strong", "workloads.catalog.witnessRegion": "us-west-1"},
     "workloads.catalog.witnessRegion", ["not a third region", "us-east-2"]),
    ({"workloads.catalog.witnessRegion": "us-east-2"}, "workloads.catalog.witnessRegion",
     ["only serves multiRegionConsistency: strong"]),
    ({"workloads.catalog.multiRegionConsistency": "always"}, "workloads.catalog.multiRegionConsistency",
     ["unknown value 'always'"]),
])
def test_strong_consistency_follows_aws_region_rules(overrides, key, words):
    message = error_for(**overrides)
    assert message.startswith(f"securecart-dr:{key}: "), message
    for word in words:
        assert word in message, message


def test_mrsc_needs_all_regions_in_one_region_set():
    from infra.envelope.figures import mrsc_region_set

    assert mrsc_region_set(("us-east-1", "us-west-2")) == {"us-east-1", "us-east-2", "us-west-2"}
    assert mrsc_region_set(("us-east-1", "eu-west-1")) is None
    assert mrsc_region_set(("eu-west-1", "eu-central-1")) is not None


# ----- alarm thresholds derive from the targets --------------------------------------------------------


def test_alarm_thresholds_derive_from_targets_minus_the_alarm_period():
    thresholds = load_stack_config(PROD).monitoring.replication_thresholds
    assert thresholds == {"orders": 300 - 60, "catalog": 120 - 60, "sessions": 90 - 60, "product-images": 900 - 300,
                          "app-logs": 900 - 60}


@pytest.mark.parametrize(("key", "value", "words"), [
    ("monitoring.rdsReplicaLagThresholdSeconds", 300, ["lets orders lose up to 360 s", "use <= 240"]),
    ("monitoring.dynamodbReplicationLatencyThresholdSeconds", 60, ["lets sessions lose up to 120 s", "use <= 30"]),
    ("monitoring.s3ReplicationLatencyThresholdSeconds", 900, ["lets product-images lose up to 1200 s", "use <= 600"]),
])
def test_an_alarm_threshold_looser_than_a_target_is_refused(key, value, words):
    message = error_for(**{key: value})
    assert message.startswith(f"securecart-dr:{key}: {value} s lets"), message
    for word in words:
        assert word in message, message


def test_an_explicit_alarm_threshold_tighter_than_the_targets_is_used():
    config = load_stack_config(prod_with(**{"monitoring.rdsReplicaLagThresholdSeconds": 100}))
    assert config.monitoring.replication_thresholds["orders"] == 100
    orders = stack_envelopes(config)["orders"]
    assert orders.scenarios[REGION_OUTAGE].rpo.seconds == 100 + 60


def test_strong_consistency_declares_a_strong_replica_and_the_witness():
    from infra.offline import evaluate_stack

    result = evaluate_stack("prod", overrides={"securecart-dr:workloads.catalog.multiRegionConsistency": "strong",
                                               "securecart-dr:workloads.catalog.rpoSeconds": 0})
    catalog = next(t for t in result.of_type("aws:dynamodb/table:Table") if t.name == "catalog-table")
    assert catalog.inputs["globalTableWitness"] == {"regionName": "us-east-2"}
    assert [r["consistencyMode"] for r in catalog.inputs["replicas"]] == ["STRONG"]
    inventory = result.inventory["workloads"]["catalog"]
    assert inventory["stores"]["consistency"] == "strong" and inventory["stores"]["witness_region"] == "us-east-2"
    assert inventory["envelope"]["scenarios"]["region-outage"]["rpo_seconds"] == 0
    # no ReplicationLatency alarm for a synchronous table
    assert not [a for a in result.of_type("aws:cloudwatch/metricAlarm:MetricAlarm") if "catalog" in a.name]


def test_eventual_tables_declare_no_witness_and_alarm_at_the_derived_threshold(prod):
    sessions = next(t for t in prod.of_type("aws:dynamodb/table:Table") if t.name == "sessions-table")
    assert "globalTableWitness" not in sessions.inputs
    alarm = next(a for a in prod.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
                 if a.name.endswith("dynamodb-sessions-to-us-west-2"))
    assert alarm.inputs["threshold"] == 30 * 1000 and alarm.inputs["statistic"] == "Maximum"
    assert alarm.inputs["period"] == 60


def test_dr_copy_age_alarm_pages_before_the_tightest_backup_restore_target(prod):
    from infra.components.monitoring import backup_age_periods

    alarm = next(a for a in prod.of_type("aws:cloudwatch/metricAlarm:MetricAlarm") if "backup-copy-age" in a.name)
    # logs and app-logs recover from the daily DR copy with a 36 h RPO target: 36 hourly periods
    assert (alarm.inputs["metricName"], alarm.inputs["evaluationPeriods"], alarm.inputs["datapointsToAlarm"]) == (
        "NumberOfCopyJobsCompleted", 36, 36)
    assert alarm.inputs["comparisonOperator"] == "LessThanThreshold" and alarm.inputs["treatMissingData"] == "breaching"
    assert backup_age_periods(129600) == 36 and backup_age_periods(5399) == 1  # whole hours, never looser
    assert backup_age_periods(30 * 86400) == 7 * 24  # CloudWatch's 7-day evaluation limit


def test_the_copy_age_alarm_pages_but_does_not_stop_experiments(prod):
    guardrails = {r.name: r.inputs["alarmRule"] for r in prod.of_type("aws:cloudwatch/compositeAlarm:CompositeAlarm")}
    protection = next(rule for name, rule in guardrails.items() if name.endswith("-guardrail-us-east-1")
                      and "experiment" not in name)
    experiment = next(rule for name, rule in guardrails.items() if "experiment-guardrail-us-east-1" in name)
    assert "backup-copy-age" in protection and "backup-copy-age" not in experiment
