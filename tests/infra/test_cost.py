"""The Cost component under Pulumi's mock runtime: budgets, anomaly detection, allocation tags."""

from __future__ import annotations

import pulumi_aws as aws
import pytest

from infra.components.cost import (
    BACKUP_SERVICES,
    STORAGE_SERVICES,
    BudgetThreshold,
    Cost,
    CostArgs,
    CostPolicyError,
    validate_cost_args,
)
from infra.offline import OfflineResult, run_program

PRIMARY = "us-east-1"
TOPIC = "arn:aws:sns:us-east-1:123456789012:alerts"
EMAILS = ["finops@example.com"]


def cost_args(providers, **overrides) -> CostArgs:
    values = dict(
        primary_region=PRIMARY,
        providers=providers,
        storage_budget_usd=500,
        backup_budget_usd=250.5,
        alert_emails=EMAILS,
        alert_topic_arn=TOPIC,
        anomaly_threshold_usd=75,
        create_anomaly_monitor=True,
        cost_allocation_tags=["project", "environment", "workload"],
        name_prefix="securecart-prod",
        tags={"project": "securecart"},
    )
    values.update(overrides)
    return CostArgs(**values)


def evaluate(**overrides) -> OfflineResult:
    def program() -> None:
        providers = {PRIMARY: aws.Provider(f"aws-{PRIMARY}", region=PRIMARY)}
        Cost("cost", cost_args(providers, **overrides))

    return run_program(program)


@pytest.fixture(scope="module")
def declared() -> OfflineResult:
    return evaluate()


def test_every_child_uses_the_primary_provider(declared):
    for resource in declared.resources:
        if resource.custom and not resource.type.startswith("pulumi:providers"):
            assert resource.provider == f"aws-{PRIMARY}", f"{resource.urn}: provider {resource.provider}"


@pytest.mark.parametrize(("key", "limit", "services"), [("storage", "500.00", STORAGE_SERVICES),
                                                       ("backup", "250.50", BACKUP_SERVICES)])
def test_monthly_budget_filters_by_service_and_notifies_at_every_threshold(declared, key, limit, services):
    [budget] = [b for b in declared.of_type("aws:budgets/budget:Budget") if b.name == f"cost-budget-{key}"]
    assert budget.inputs["name"] == f"securecart-prod-{key}", budget.urn
    assert (budget.inputs["budgetType"], budget.inputs["timeUnit"]) == ("COST", "MONTHLY"), budget.urn
    assert (budget.inputs["limitAmount"], budget.inputs["limitUnit"]) == (limit, "USD"), budget.urn
    assert budget.inputs["costFilters"] == [{"name": "Service", "values": list(services)}], budget.urn
    notifications = {(n["notificationType"], n["threshold"]) for n in budget.inputs["notifications"]}
    assert notifications == {("FORECASTED", 80), ("ACTUAL", 100)}, f"{budget.urn}: {notifications}"
    for notification in budget.inputs["notifications"]:
        assert notification["thresholdType"] == "PERCENTAGE", budget.urn
        assert notification["subscriberEmailAddresses"] == EMAILS, f"{budget.urn}: e-mails missing"
        assert notification["subscriberSnsTopicArns"] == [TOPIC], f"{budget.urn}: topic missing"


def test_anomaly_monitor_watches_services_and_both_subscriptions_use_the_threshold(declared):
    [monitor] = declared.of_type("aws:costexplorer/anomalyMonitor:AnomalyMonitor")
    assert (monitor.inputs["monitorType"], monitor.inputs["monitorDimension"]) == ("DIMENSIONAL", "SERVICE"), monitor.urn
    subscriptions = {s.inputs["frequency"]: s for s in declared.of_type(
        "aws:costexplorer/anomalySubscription:AnomalySubscription")}
    assert set(subscriptions) == {"IMMEDIATE", "DAILY"}
    assert subscriptions["IMMEDIATE"].inputs["subscribers"] == [{"type": "SNS", "address": TOPIC}]
    assert subscriptions["DAILY"].inputs["subscribers"] == [{"type": "EMAIL", "address": EMAILS[0]}]
    for subscription in subscriptions.values():
        assert subscription.inputs["monitorArnLists"] == [monitor.outputs["arn"]], subscription.urn
        dimension = subscription.inputs["thresholdExpression"]["dimension"]
        assert dimension == {"key": "ANOMALY_TOTAL_IMPACT_ABSOLUTE", "matchOptions": ["GREATER_THAN_OR_EQUAL"],
                             "values": ["75"]}, f"{subscription.urn}: {dimension}"


def test_cost_allocation_tags_are_activated(declared):
    tags = {t.inputs["tagKey"]: t.inputs["status"] for t in declared.of_type(
        "aws:costexplorer/costAllocationTag:CostAllocationTag")}
    assert tags == {"project": "Active", "environment": "Active", "workload": "Active"}


def test_an_existing_monitor_is_reused_and_email_only_alerts_skip_the_sns_subscription():
    existing = "arn:aws:ce::123456789012:anomalymonitor/existing"
    result = evaluate(anomaly_monitor_arn=existing, alert_topic_arn=None, create_anomaly_monitor=False)
    assert result.of_type("aws:costexplorer/anomalyMonitor:AnomalyMonitor") == [], "a second SERVICE monitor"
    [subscription] = result.of_type("aws:costexplorer/anomalySubscription:AnomalySubscription")
    assert subscription.inputs["frequency"] == "DAILY" and subscription.inputs["monitorArnLists"] == [existing]
    for budget in result.of_type("aws:budgets/budget:Budget"):
        for notification in budget.inputs["notifications"]:
            assert "subscriberSnsTopicArns" not in notification, f"{budget.urn}: topic without a topic"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"storage_budget_usd": 0}, "storage_budget_usd"),
        ({"thresholds": []}, "thresholds"),
        ({"thresholds": [BudgetThreshold(-5, "ACTUAL")]}, "thresholds: percent"),
        ({"thresholds": [BudgetThreshold(90, "PREDICTED")]}, "thresholds: notification_type"),
        ({"alert_emails": [], "alert_topic_arn": None}, "alert_emails"),
        ({"alert_emails": [f"a{i}@example.com" for i in range(11)]}, "at most 10"),
    ],
)
def test_invalid_settings_are_refused_naming_the_field(overrides, field):
    with pytest.raises(CostPolicyError, match=field):
        validate_cost_args(cost_args({PRIMARY: object()}, **overrides))


def test_by_default_no_monitor_is_created_and_no_tag_is_activated():
    """One AWS-services monitor per account, and tag keys unknown to billing for ~24 h: a fresh
    stack must create neither unless it opts in."""
    result = evaluate(create_anomaly_monitor=False, cost_allocation_tags=[])
    assert result.of_type("aws:costexplorer/anomalyMonitor:AnomalyMonitor") == []
    assert result.of_type("aws:costexplorer/anomalySubscription:AnomalySubscription") == []
    assert result.of_type("aws:costexplorer/costAllocationTag:CostAllocationTag") == []


def test_stacks_activate_tags_and_create_the_monitor_only_when_configured(prod, staging):
    from infra.offline import evaluate_stack
    for result in (prod, staging):
        assert result.of_type("aws:costexplorer/costAllocationTag:CostAllocationTag") == [], result.stack
    # prod owns the account's monitor (createAnomalyMonitor: true); staging would be a second one.
    assert len(prod.of_type("aws:costexplorer/anomalyMonitor:AnomalyMonitor")) == 1
    assert staging.of_type("aws:costexplorer/anomalyMonitor:AnomalyMonitor") == []
    activated = evaluate_stack("prod", overrides={"securecart-dr:budgets.activateCostAllocationTags": True})
    keys = {t.inputs["tagKey"] for t in activated.of_type("aws:costexplorer/costAllocationTag:CostAllocationTag")}
    assert {"workload", "backup-tier", "environment"} <= keys
