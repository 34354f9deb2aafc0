"""What DR costs: budgets for storage and backup spend, anomaly detection, cost-allocation tags.

* Two monthly AWS Budgets filtered by the Cost Explorer ``Service`` dimension: storage
  (S3 and Glacier, where replicas, versions and archives accumulate) and AWS Backup (vaults,
  cold storage, cross-region copies). Each notifies at every threshold (e.g. 80 % forecast,
  100 % actual) by e-mail and, when given, to an SNS topic.
* Anomaly subscriptions that report anomalies whose total impact reaches ``anomaly_threshold_usd``:
  immediately to the SNS topic, daily to the e-mail addresses (AWS allows SNS only with IMMEDIATE,
  e-mail only with DAILY or WEEKLY), on the account's AWS-services monitor (DIMENSIONAL /
  SERVICE). An account has one such monitor, so by default none is created: a stack reuses an
  existing one by ARN, or one stack opts in to creating it.
* Opt-in activation of the project's cost-allocation tag keys. AWS knows a key only once it appears
  in billing data (up to 24 h after first use), and an Organizations member account cannot
  activate them at all (the management account does): activation is a second step, off by default.

Budgets and Cost Explorer are global services answered from us-east-1; the resources are declared
with the primary region's provider and the AWS provider routes them to the global endpoint.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Mapping, Sequence

import pulumi
import pulumi_aws as aws

#: Cost Explorer "Service" dimension values. S3 Glacier storage classes bill under S3; "Amazon
#: Glacier" is the vault-based service, listed so archives there are counted too.
STORAGE_SERVICES: tuple[str, ...] = ("Amazon Simple Storage Service", "Amazon Glacier")
BACKUP_SERVICES: tuple[str, ...] = ("AWS Backup",)


class CostPolicyError(ValueError):
    """A cost setting AWS would reject; the message is one line."""


@dataclass(frozen=True)
class BudgetThreshold:
    """Notify when spend (actual or forecast) passes ``percent`` of the budget."""

    percent: float
    notification_type: Literal["ACTUAL", "FORECASTED"]


@dataclass
class CostArgs:
    """Inputs of :class:`Cost`."""

    primary_region: str
    """Budgets and Cost Explorer are global: declared through this region's provider."""
    providers: Mapping[str, aws.Provider]
    """One provider per region name; must contain the primary region."""
    storage_budget_usd: float
    """Monthly limit for S3 + Glacier."""
    backup_budget_usd: float
    """Monthly limit for AWS Backup."""
    alert_emails: Sequence[str]
    """E-mail subscribers of budget and anomaly alerts (Budgets takes at most 10)."""
    thresholds: Sequence[BudgetThreshold] = (
        BudgetThreshold(80, "FORECASTED"),
        BudgetThreshold(100, "ACTUAL"),
    )
    """Every budget notifies at each of these (percent of the limit, actual or forecast spend)."""
    alert_topic_arn: pulumi.Input[str] | None = None
    """SNS topic for budget and immediate anomaly alerts (its policy must let
    budgets.amazonaws.com and costalerts.amazonaws.com publish; Monitoring's topic does)."""
    anomaly_threshold_usd: float = 100.0
    """Report anomalies whose total impact is at least this many dollars."""
    anomaly_monitor_arn: pulumi.Input[str] | None = None
    """An existing SERVICE anomaly monitor to subscribe to (AWS allows one per account)."""
    create_anomaly_monitor: bool = False
    """Create the account's SERVICE monitor (only one stack per account may)."""
    cost_allocation_tags: Sequence[str] = ()
    """Tag keys to activate for cost allocation (they must already appear in billing data);
    empty by default: the second step, after the keys appear (docs/config.md)."""
    name_prefix: str = "securecart"
    """Prefix of budget names; budget names are unique per account."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags for every taggable child."""


def validate_cost_args(args: CostArgs) -> None:
    """Refuse settings Budgets or Cost Explorer would reject; one line naming the field."""
    if args.primary_region not in args.providers:
        raise CostPolicyError(f"CostArgs.providers: no provider for {args.primary_region}")
    for field_name in ("storage_budget_usd", "backup_budget_usd", "anomaly_threshold_usd"):
        if getattr(args, field_name) <= 0:
            raise CostPolicyError(f"CostArgs.{field_name}: must be > 0")
    if not args.thresholds:
        raise CostPolicyError("CostArgs.thresholds: give at least one threshold")
    for threshold in args.thresholds:
        if threshold.percent <= 0:
            raise CostPolicyError(f"CostArgs.thresholds: percent must be > 0; got {threshold.percent}")
        if threshold.notification_type not in ("ACTUAL", "FORECASTED"):
            raise CostPolicyError(
                "CostArgs.thresholds: notification_type must be ACTUAL or FORECASTED; "
                f"got {threshold.notification_type}"
            )
    if args.create_anomaly_monitor and args.anomaly_monitor_arn is not None:
        raise CostPolicyError("CostArgs.create_anomaly_monitor: given together with anomaly_monitor_arn; choose one")
    if not args.alert_emails and args.alert_topic_arn is None:
        raise CostPolicyError("CostArgs.alert_emails: give an e-mail or an alert_topic_arn, or alerts reach nobody")
    if len(args.alert_emails) > 10:
        raise CostPolicyError("CostArgs.alert_emails: AWS Budgets accepts at most 10 e-mail subscribers")


class Cost(pulumi.ComponentResource):
    """Budgets, anomaly detection and cost-allocation tags for the DR spend."""

    budgets: dict[str, aws.budgets.Budget]
    """Keyed ``storage`` and ``backup``."""
    anomaly_monitor: aws.costexplorer.AnomalyMonitor | None
    anomaly_monitor_arn: pulumi.Output[str] | None
    anomaly_subscriptions: dict[str, aws.costexplorer.AnomalySubscription]
    """Keyed ``immediate`` (SNS) and/or ``daily`` (e-mail)."""
    cost_allocation_tags: dict[str, aws.costexplorer.CostAllocationTag]

    def __init__(self, name: str, args: CostArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("securecart:cost:Cost", name, None, opts)
        validate_cost_args(args)
        self._name = name
        self._args = args
        tags = dict(args.tags)

        self.budgets = {
            "storage": self._budget("storage", args.storage_budget_usd, STORAGE_SERVICES, tags),
            "backup": self._budget("backup", args.backup_budget_usd, BACKUP_SERVICES, tags),
        }

        self.anomaly_monitor, self.anomaly_monitor_arn = None, None
        if args.create_anomaly_monitor:
            self.anomaly_monitor = aws.costexplorer.AnomalyMonitor(
                f"{name}-anomaly-monitor",
                name=f"{args.name_prefix}-services",
                monitor_type="DIMENSIONAL",
                monitor_dimension="SERVICE",
                tags=tags,
                opts=self._opts(),
            )
            self.anomaly_monitor_arn = self.anomaly_monitor.arn
        elif args.anomaly_monitor_arn is not None:
            self.anomaly_monitor_arn = pulumi.Output.from_input(args.anomaly_monitor_arn)
        else:
            pulumi.log.warn("cost: no anomaly monitor (AWS allows one AWS-services monitor per account); set "
                            "budgets.anomalyMonitorArn to reuse the account's, or budgets.createAnomalyMonitor: true "
                            "in the one stack that owns it", self)

        self.anomaly_subscriptions = {}
        if self.anomaly_monitor_arn is not None and args.alert_topic_arn is not None:
            self.anomaly_subscriptions["immediate"] = self._anomaly_subscription(
                "immediate", "IMMEDIATE", [aws.costexplorer.AnomalySubscriptionSubscriberArgs(
                    type="SNS", address=args.alert_topic_arn)], tags
            )
        if args.alert_emails and self.anomaly_monitor_arn is not None:
            self.anomaly_subscriptions["daily"] = self._anomaly_subscription(
                "daily", "DAILY", [aws.costexplorer.AnomalySubscriptionSubscriberArgs(type="EMAIL", address=email)
                                   for email in args.alert_emails], tags
            )

        self.cost_allocation_tags = {
            key: aws.costexplorer.CostAllocationTag(
                f"{name}-allocation-tag-{key}", tag_key=key, status="Active", opts=self._opts()
            )
            for key in args.cost_allocation_tags
        }

        self.register_outputs(
            {
                "budget_names": {key: budget.name for key, budget in self.budgets.items()},
                "anomaly_monitor_arn": self.anomaly_monitor_arn,
                "cost_allocation_tags": list(args.cost_allocation_tags),
            }
        )

    def _opts(self) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, provider=self._args.providers[self._args.primary_region])

    def _budget(
        self, key: str, limit_usd: float, services: Sequence[str], tags: dict[str, str]
    ) -> aws.budgets.Budget:
        args = self._args
        notifications = [
            aws.budgets.BudgetNotificationArgs(
                comparison_operator="GREATER_THAN",
                threshold=threshold.percent,
                threshold_type="PERCENTAGE",
                notification_type=threshold.notification_type,
                subscriber_email_addresses=list(args.alert_emails) or None,
                subscriber_sns_topic_arns=[args.alert_topic_arn] if args.alert_topic_arn is not None else None,
            )
            for threshold in args.thresholds
        ]
        return aws.budgets.Budget(
            f"{self._name}-budget-{key}",
            name=f"{args.name_prefix}-{key}",
            budget_type="COST",
            time_unit="MONTHLY",
            limit_amount=f"{limit_usd:.2f}",
            limit_unit="USD",
            cost_filters=[aws.budgets.BudgetCostFilterArgs(name="Service", values=list(services))],
            notifications=notifications,
            tags=tags,
            opts=self._opts(),
        )

    def _anomaly_subscription(
        self,
        key: str,
        frequency: str,
        subscribers: list[aws.costexplorer.AnomalySubscriptionSubscriberArgs],
        tags: dict[str, str],
    ) -> aws.costexplorer.AnomalySubscription:
        return aws.costexplorer.AnomalySubscription(
            f"{self._name}-anomaly-{key}",
            name=f"{self._args.name_prefix}-anomalies-{key}",
            frequency=frequency,
            monitor_arn_lists=[self.anomaly_monitor_arn],
            subscribers=subscribers,
            threshold_expression=aws.costexplorer.AnomalySubscriptionThresholdExpressionArgs(
                dimension=aws.costexplorer.AnomalySubscriptionThresholdExpressionDimensionArgs(
                    key="ANOMALY_TOTAL_IMPACT_ABSOLUTE",
                    match_options=["GREATER_THAN_OR_EQUAL"],
                    values=[f"{self._args.anomaly_threshold_usd:g}"],
                )
            ),
            tags=tags,
            opts=self._opts(),
        )
