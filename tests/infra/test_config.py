"""Stack config validation: each invalid case yields one line naming the key and the fix."""

from __future__ import annotations

import copy
import runpy

import pulumi
import pytest

from infra.config import ConfigError, load_stack_config
from infra.offline import REPO_ROOT, apply_override, evaluate_stack, load_stack_file, run_program
from infra.strategies import STRATEGIES, Kind

PROD = load_stack_file("prod")


def prod_with(**overrides) -> dict:
    """The prod stack config with dotted-key overrides ("workloads.orders.strategy"); None deletes."""
    config = copy.deepcopy(PROD)
    for key, value in overrides.items():
        apply_override(config, key, value)
    return config


def error_for(**overrides) -> str:
    with pytest.raises(ConfigError) as caught:
        load_stack_config(prod_with(**overrides))
    message = str(caught.value)
    assert "\n" not in message, "the error must be one line"
    return message


def test_prod_staging_and_localstack_configs_are_valid():
    for stack in ("prod", "staging", "localstack"):
        config = load_stack_config(load_stack_file(stack))
        assert config.primary_region != config.dr_region
        assert config.workloads


def test_targets_default_to_the_strategy_and_may_tighten():
    config = load_stack_config(PROD)
    orders, sessions = config.workloads["orders"], config.workloads["sessions"]
    # pilot-light RDS: promotion (15 min, estimate) + detection + TTL; lag bounded by the alarm
    assert (orders.targets.rto_seconds, orders.targets.rpo_seconds) == (1200, 300)
    assert sessions.targets.rpo_seconds == 90  # prod tightens warm-standby DynamoDB's 120 s
    assert orders.strategy is STRATEGIES["pilot-light"] and orders.kind is Kind.RDS


@pytest.mark.parametrize(
    ("overrides", "expected_key", "expected_words"),
    [
        ({"workloads.orders.strategy": "pilot-lite"}, "securecart-dr:workloads.orders.strategy", "unknown value 'pilot-lite'"),
        ({"drRegion": "us-east-1"}, "securecart-dr:drRegion", "equals the primary region"),
        ({"workloads.logs.rpoSeconds": 0}, "securecart-dr:workloads.logs.rpoSeconds",
         "0 s is tighter than AWS Backup daily/weekly/monthly rules copied to the DR vault"),
        ({"workloads.catalog.rtoSeconds": 0}, "securecart-dr:workloads.catalog.rtoSeconds", "RTO must be > 0"),
        ({"workloads.orders.rtoSeconds": 7200}, "securecart-dr:workloads.orders.rtoSeconds", "looser than the pilot-light default"),
        ({"backup.tiers.standard.rules.monthly.deleteAfterDays": 100},
         "securecart-dr:backup.tiers.standard.rules.monthly.deleteAfterDays", "AWS Backup minimum 90"),
        ({"backup.tiers.critical.rules.monthly.coldStorageAfterDays": 30},
         "securecart-dr:backup.tiers.critical.rules.monthly.coldStorageAfterDays", "cannot move rds/s3 recovery points"),
        ({"workloads.orders.backupRetentionDays": -1}, "securecart-dr:workloads.orders.backupRetentionDays", "below the minimum"),
        ({"workloads.orders.backupRetentionDays": 36}, "securecart-dr:workloads.orders.backupRetentionDays", "above the maximum 35"),
        ({"backup.tiers.critical.rules.daily.deleteAfterDays": None},
         "securecart-dr:backup.tiers.critical.rules.daily.deleteAfterDays", "missing"),
        ({"budgets.s3MonthlyUsd": "lots"}, "securecart-dr:budgets.s3MonthlyUsd", "expected a number"),
        ({"workloads.orders.kind": "aurora"}, "securecart-dr:workloads.orders.kind", "unknown value 'aurora'"),
        ({"workloads.orders.instanceClas": "db.r6g.large"}, "securecart-dr:workloads.orders.instanceClas", "unknown key"),
        ({"workloads.catalog.pitrRecoveryPeriodDays": 36},
         "securecart-dr:workloads.catalog.pitrRecoveryPeriodDays", "above the maximum 35"),
        ({"workloads.orders.strategy": "active-active"}, "securecart-dr:workloads.orders.strategy",
         "active-active cannot protect a rds workload"),
        ({"workloads.sessions.strategy": "pilot-light", "workloads.sessions.rpoSeconds": None},
         "securecart-dr:workloads.sessions.strategy", "pilot-light cannot protect a dynamodb workload"),
        ({"workloads.orders.backupTier": "gold"}, "securecart-dr:workloads.orders.backupTier", "no backup tier 'gold'"),
        ({"failover.healthCheck.intervalSeconds": 15}, "securecart-dr:failover.healthCheck.intervalSeconds", "10 or 30"),
        ({"workloads.logs.glacierAfterDays": 40}, "securecart-dr:workloads.logs.glacierAfterDays", "30 days in Standard-IA"),
        ({"workloads.sessions.failover.routing": "latency"}, "securecart-dr:workloads.sessions.failover.routing",
         "DNS routing belongs to the application"),
        ({"workloads.logs.failover.recordName": "logs.prod.securecart.internal"}, "securecart-dr:workloads.logs.failover",
         "backup-restore keeps no DR copy"),
        ({"workloads.orders.failover.recordName": "orders.securecart.example.com"},
         "securecart-dr:workloads.orders.failover.recordName", "outside the private zone prod.securecart.internal"),
        ({"failover.routing": "latency"}, "securecart-dr:failover.routing", "orders (pilot-light) has one writable region"),
        ({"failover.endpoints.us-west-2": None}, "securecart-dr:failover.endpoints.us-west-2.hostName",
         "both regions' endpoints"),
        ({"failover.endpoints.eu-west-1": {"hostName": "lb.example.com"}}, "securecart-dr:failover.endpoints.eu-west-1",
         "not one of the stack's regions"),
        ({"failover.endpoints.us-east-1.loadBalancerZoneId": "elb"},
         "securecart-dr:failover.endpoints.us-east-1.loadBalancerZoneId", "not a hosted zone id"),
        ({"failover.recordName": "www.example.org"}, "securecart-dr:failover.recordName", "outside the hosted zone"),
        ({"network.us-east-1": None}, "securecart-dr:network.us-east-1", "missing"),
        ({"network.defaultVpc": True}, "securecart-dr:network.defaultVpc", "default security group"),
        ({"network.us-east-1.subnets": {"us-east-1a": "subnet-0a1b2c3d4e5f60711"}},
         "securecart-dr:network.us-east-1.subnets", "two zones"),
        ({"network.us-east-1.subnets.us-west-2a": "subnet-0a1b2c3d4e5f60719"},
         "securecart-dr:network.us-east-1.subnets.us-west-2a", "not an availability zone of us-east-1"),
        ({"network.us-west-2.vpcId": "default"}, "securecart-dr:network.us-west-2.vpcId", "not a vpc id"),
        ({"network.us-west-2.securityGroups.database": []},
         "securecart-dr:network.us-west-2.securityGroups.database", "missing"),
        ({"workloads.compute.imageParameter": None}, "securecart-dr:workloads.compute.imageParameter",
         "imageParameter or amiIds"),
        ({"workloads.compute.amiIds": {"us-east-1": "ami-0123456789abcdef0"}},
         "securecart-dr:workloads.compute.imageParameter", "one of them"),
        ({"backup.tiers.critical.continuous": True}, "securecart-dr:backup.tiers.critical.continuous",
         "no longer declared"),
        ({"backup.auditFramework": "yes"}, "securecart-dr:backup.auditFramework", "unknown value 'yes'"),
        ({"monitoring.alertEmails": []}, "securecart-dr:backup.notify", "would reach nobody"),
        ({"backup.notify": [{"protocol": "sqs", "endpoint": "my-queue"}]}, "securecart-dr:backup.notify[0].endpoint",
         "named by ARN"),
        ({"budgets.anomalyMonitorArn": "arn:aws:ce::123456789012:anomalymonitor/abc"},
         "securecart-dr:budgets.createAnomalyMonitor", "together with anomalyMonitorArn"),
        ({"workloads.orders.exportSchedule": "weekly"}, "securecart-dr:workloads.orders.exportSchedule",
         "not a schedule expression"),
        ({"chaos.fisTemplates": True}, "securecart-dr:chaos.fisTemplates", "opt in to chaos"),
        ({"backup.vaultLock.mode": "governance"}, "securecart-dr:backup.vaultLock.changeableForDays",
         "only compliance mode"),
        ({"backup.tiers.critical.rules.monthly.deleteAfterDays": 4000},
         "securecart-dr:backup.tiers.critical.rules.monthly.deleteAfterDays", "outside the vault lock range"),
        ({"primaryRegion": "us-east"}, "securecart-dr:primaryRegion", "not a region pulumi-aws knows"),
        ({"primaryRegion": "us-east-9"}, "securecart-dr:primaryRegion", "not a region pulumi-aws knows"),
        ({"workloads": None}, "securecart-dr:workloads", "missing"),
        ({"surprise": 1}, "securecart-dr:surprise", "unknown key"),
    ],
)
def test_bad_config_names_the_key_and_the_fix(overrides, expected_key, expected_words):
    message = error_for(**overrides)
    assert message.startswith(f"{expected_key}: "), message
    assert expected_words in message, message
    assert ";" in message, f"no fix given: {message}"


def test_config_error_prints_without_traceback_under_pulumi_up():
    # The Pulumi language host prints a RunError's message alone, without a Python traceback.
    assert issubclass(ConfigError, pulumi.RunError)


def test_bad_config_fails_before_any_resource_is_declared():
    bad = prod_with(**{"workloads.logs.strategy": "hot-spare"})
    caught: list[ConfigError] = []

    def program() -> None:
        try:
            runpy.run_path(str(REPO_ROOT / "__main__.py"), run_name="__main__")
        except ConfigError as error:
            caught.append(error)

    result = run_program(program, stack="prod", config=bad)
    assert caught and "securecart-dr:workloads.logs.strategy" in str(caught[0])
    assert result.resources == [], f"declared before failing: {[r.urn for r in result.resources]}"


def test_misspelled_top_level_key_is_refused_under_the_pulumi_runtime():
    with pytest.raises(ConfigError, match=r"^securecart-dr:workload: unknown key; "):
        evaluate_stack("prod", overrides={"securecart-dr:workload": {"x": {}}})


def test_evaluate_stack_reports_the_error_and_unknown_stacks():
    with pytest.raises(ConfigError, match=r"^securecart-dr:drRegion: "):
        evaluate_stack("prod", overrides={"securecart-dr:drRegion": "us-east-1"})
    with pytest.raises(ConfigError, match=r"Pulumi\.qa\.yaml.*available stacks: localstack, prod, staging"):
        evaluate_stack("qa")


def test_bad_localstack_endpoint_service_names_aws_endpoints():
    with pytest.raises(ConfigError, match=r"^aws:endpoints: .*use the pulumi-aws service names"):
        evaluate_stack("localstack", overrides={"aws:endpoints": [{"dynamo": "http://localhost:4566"}]})
