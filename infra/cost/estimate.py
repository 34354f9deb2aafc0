"""From simulated ledgers to dollars: monthly cost per workload and mechanism, the lifecycle
saving, budgets, and the what-if table of strategies.

The monthly figure is the twelfth simulated month: by then every retention window of a year or
less is full, which is what a budget meets month after month. The first-year total is given too.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from infra.config import StackConfig, load_stack_config
from infra.cost import engine
from infra.cost.engine import Ledger
from infra.cost.prices import PRICES, MissingPrice, price
from infra.cost.workloads import Declared, simulate_stack
from infra.strategies import STRATEGIES

STEADY_MONTH = 11  # the twelfth month, 0-based

# Cost Explorer "Service" of each price key family: budgets filter on these names.
SERVICE_OF_KEY = {
    "backup": "AWS Backup",
    "s3": "Amazon Simple Storage Service",
    "rds": "Amazon Relational Database Service",
    "dynamodb": "Amazon DynamoDB",
    "efs": "Amazon Elastic File System",
    "ebs": "EC2 - Other",
    "ec2": "Amazon Elastic Compute Cloud - Compute",
    "route53": "Amazon Route 53",
}
# Transfer between regions is billed by the service that moves the data.
SERVICE_OF_TRANSFER = (
    ("AWS Backup", "AWS Backup"),
    ("cross-region replica", "Amazon Simple Storage Service"),
    ("global table", "Amazon DynamoDB"),
    ("EFS", "Amazon Elastic File System"),
    ("DLM", "EC2 - Other"),
    ("replica", "Amazon Relational Database Service"),
    ("automated backups", "Amazon Relational Database Service"),
)

UNIT_DIVISOR = {"GB-month": 1.0, "month": 1.0, "GB": 1.0, "hour": 1.0, "1000 requests": 1000.0,
                "million units": 1_000_000.0}


def service_of(mechanism: str, key: str) -> str:
    if key.startswith("transfer."):
        for fragment, service in SERVICE_OF_TRANSFER:
            if fragment in mechanism:
                return service
        return "AWS Data Transfer"
    return SERVICE_OF_KEY[key.split(".", 1)[0]]


@dataclass(frozen=True)
class Line:
    """One priced line of one workload: a mechanism's use of one price key in one region."""

    workload: str
    mechanism: str
    key: str
    region: str
    service: str
    monthly_usd: tuple[float, ...]  # twelve months

    @property
    def steady_usd(self) -> float:
        return self.monthly_usd[STEADY_MONTH]


def _priced(key: str, region: str) -> tuple[float, float]:
    """(usd per unit, divisor) for a ledger key; early-deletion keys cost their class's GB-month."""
    base = key.removesuffix(".early_deletion")
    found = price(base, "us-east-1" if region == "global" else region)
    divisor = 1.0 if key.endswith(".early_deletion") else UNIT_DIVISOR[found.unit]
    return found.usd, divisor


@dataclass(frozen=True)
class Unpriced:
    """A quantity the simulation produced for which the price table has no sourced figure: shown
    with its quantity, and left out of every total (never priced with a guess)."""

    workload: str
    mechanism: str
    key: str
    region: str
    quantity: float  # in month 12: average for stored amounts, sum for flows
    unit: str

    def to_dict(self) -> dict[str, Any]:
        return {"workload": self.workload, "mechanism": self.mechanism, "key": self.key,
                "region": self.region, "quantity": round(self.quantity, 3), "unit": self.unit}


def _natural_unit(key: str, level: bool) -> str:
    if level:
        return "health checks" if key.startswith("route53.") else "GB-month"
    if ".instance." in key:
        return "instance-hours"
    if ".transition." in key:
        return "requests"
    return "GB"


def price_ledger(workload: str, ledger: Ledger) -> tuple[list[Line], list[Unpriced]]:
    lines, unpriced = [], []
    months = engine.month_slices(ledger.days)
    steady = months[STEADY_MONTH]
    for level, entries in ((True, ledger.levels), (False, ledger.flows)):
        for (mechanism, key, region), daily in entries.items():
            if not any(daily):
                continue
            try:
                usd, divisor = _priced(key, region)
            except MissingPrice:
                amount = sum(daily[steady]) / (len(daily[steady]) if level else 1)
                unpriced.append(Unpriced(workload, mechanism, key, region, amount, _natural_unit(key, level)))
                continue
            if level:
                monthly = tuple(sum(daily[m]) / len(daily[m]) * usd / divisor for m in months)
            else:
                monthly = tuple(sum(daily[m]) * usd / divisor for m in months)
            lines.append(Line(workload, mechanism, key, region, service_of(mechanism, key), monthly))
    return lines, unpriced


@dataclass
class WorkloadCost:
    name: str
    kind: str
    strategy: str
    lines: list[Line]
    notes: list[str]
    unpriced: list[Unpriced] = field(default_factory=list)

    @property
    def monthly_usd(self) -> float:
        return sum(line.steady_usd for line in self.lines)

    @property
    def first_year_usd(self) -> float:
        return sum(sum(line.monthly_usd) for line in self.lines)

    def by_mechanism(self) -> dict[str, float]:
        totals: dict[str, float] = {}
        for line in self.lines:
            totals[line.mechanism] = totals.get(line.mechanism, 0.0) + line.steady_usd
        return dict(sorted(totals.items(), key=lambda item: -item[1]))


@dataclass
class BudgetCheck:
    key: str  # the stack config key that sets it
    budget_usd: float
    estimate_usd: float
    services: tuple[str, ...]

    @property
    def over(self) -> bool:
        return self.estimate_usd > self.budget_usd


@dataclass
class StrategyOption:
    strategy: str
    monthly_usd: float
    envelope_rto_seconds: float | None
    envelope_rpo_seconds: float | None
    mechanisms: dict[str, float] = field(default_factory=dict)
    # Quantities of this option with no sourced price: left out of `monthly_usd`, so an option
    # with any is a lower bound, and says so (never compared as if complete).
    unpriced: list[Unpriced] = field(default_factory=list)


@dataclass
class Estimate:
    stack: str
    workloads: list[WorkloadCost]
    lifecycle_saving_usd: float
    budgets: list[BudgetCheck]
    what_if: dict[str, list[StrategyOption]]

    @property
    def total_monthly_usd(self) -> float:
        return sum(w.monthly_usd for w in self.workloads)

    @property
    def unpriced(self) -> list[Unpriced]:
        return [u for w in self.workloads for u in w.unpriced]

    def to_dict(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "total_monthly_usd": round(self.total_monthly_usd, 2),
            "complete": not self.unpriced,  # False: some quantities have no sourced price (see unpriced)
            "workloads": [{"name": w.name, "kind": w.kind, "strategy": w.strategy,
                           "monthly_usd": round(w.monthly_usd, 2),
                           "first_year_usd": round(w.first_year_usd, 2),
                           "by_mechanism": {m: round(v, 2) for m, v in w.by_mechanism().items()},
                           "notes": w.notes,
                           "unpriced": [u.to_dict() for u in w.unpriced]} for w in self.workloads],
            "lifecycle_saving_usd": round(self.lifecycle_saving_usd, 2),
            "what_if": {name: [{"strategy": o.strategy, "monthly_usd": round(o.monthly_usd, 2),
                                "envelope_rto_seconds": o.envelope_rto_seconds,
                                "envelope_rpo_seconds": o.envelope_rpo_seconds,
                                "complete": not o.unpriced,
                                "unpriced": [u.to_dict() for u in o.unpriced]}
                               for o in options] for name, options in self.what_if.items()},
            "budgets": [{"key": b.key, "budget_usd": b.budget_usd, "estimate_usd": round(b.estimate_usd, 2),
                         "over": b.over} for b in self.budgets],
        }


BUDGET_KEYS = {"storage": "securecart-dr:budgets.s3MonthlyUsd",
               "backup": "securecart-dr:budgets.backupMonthlyUsd"}


def budgets(declared: Declared, workloads: list[WorkloadCost]) -> list[BudgetCheck]:
    """Each declared budget against the estimate of the services it filters on."""
    checks = []
    for budget in declared.of_type("aws:budgets/budget:Budget"):
        services: tuple[str, ...] = ()
        for cost_filter in budget.inputs.get("costFilters") or []:
            if cost_filter.get("name") == "Service":
                services = tuple(cost_filter.get("values") or ())
        suffix = str(budget.inputs.get("name", "")).rsplit("-", 1)[-1]
        estimate = sum(line.steady_usd for w in workloads for line in w.lines
                       if not services or line.service in services)
        checks.append(BudgetCheck(BUDGET_KEYS.get(suffix, budget.name), float(budget.inputs["limitAmount"]),
                                  estimate, services))
    return checks


def cost_workloads(declared: Declared, config: StackConfig, only: set[str] | None = None) -> list[WorkloadCost]:
    """Cost per workload (`only`: just these, e.g. the ones a what-if variant changed)."""
    costs = []
    for name, ledger in simulate_stack(declared, config, only).items():
        lines, unpriced = price_ledger(name, ledger)
        workload = config.workloads[name]
        costs.append(WorkloadCost(name, workload.kind.value, workload.strategy.name, lines, ledger.notes, unpriced))
    return costs


def what_if_overrides(config: StackConfig, strategy: str) -> dict[str, Any]:
    """Config overrides putting every workload that can take `strategy` on it, with the strategy's
    own default targets (a workload's tightened targets belong to its current strategy)."""
    spec = STRATEGIES[strategy]
    overrides: dict[str, Any] = {}
    for name, workload in config.workloads.items():
        if workload.kind not in spec.kinds:
            continue
        base = f"securecart-dr:workloads.{name}"
        overrides[f"{base}.strategy"] = strategy
        for key in ("rtoSeconds", "rpoSeconds", "failover"):
            overrides[f"{base}.{key}"] = None
    return overrides


def envelope_of(inventory: Mapping[str, Any], workload: str) -> tuple[float | None, float | None]:
    """The envelope's worst-case RTO and RPO for a region loss, as the inventory carries it."""
    entry = (inventory.get("workloads") or {}).get(workload) or {}
    scenarios = (entry.get("envelope") or {}).get("scenarios") or {}
    region = scenarios.get("region-outage") or {}
    return region.get("rto_seconds"), region.get("rpo_seconds")


def known_prices() -> list[str]:
    return sorted(PRICES)


__all__ = ["Estimate", "MissingPrice", "cost_workloads", "budgets", "what_if_overrides", "envelope_of",
           "price_ledger", "load_stack_config", "known_prices"]
