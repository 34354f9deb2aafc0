"""The inventory at the harness's boundary: checked against `infra/inventory.schema.json`, then
parsed once into typed views (`Inventory`, `Workload`, each with its kind's `Stores`).

A game day may be handed an inventory file from another tool version or a hand-edited one; the
first field that does not match the contract (docs/inventory.md) is reported as one line.
Past this module nothing reads the inventory's JSON: the phases work with the views.
The validator is `jsonschema` (installed with moto[server]); see the lead's notes on pinning it.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from chaos.errors import ChaosError
from chaos.stores import InventoryError, StoreRef, Stores, parse_stores
from chaos.stores.base import blocks, field

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "infra" / "inventory.schema.json"
# prod's inventory is ~40 KB and 8 levels deep; these leave room for a stack many times larger
# while a hostile or broken file cannot exhaust memory or Python's recursion limit.
MAX_INVENTORY_BYTES = 4 * 1024 * 1024
MAX_NESTING = 32


def nesting_depth(value: Any, limit: int) -> int:
    """Depth of nested lists/objects, counted without recursion; stops once past `limit`."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if not isinstance(item, (dict, list)):
            continue
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def parse_bounded_json(text: str | bytes, what: str, *, max_bytes: int = MAX_INVENTORY_BYTES,
                       max_nesting: int = MAX_NESTING) -> Any:
    """json.loads with a size and a nesting bound; ChaosError (one line naming `what`) otherwise."""
    if len(text) > max_bytes:
        raise ChaosError(f"{what}: {len(text)} bytes, more than the {max_bytes} allowed; pass the "
                         "inventory itself (`pulumi stack output inventory --json`)")
    try:
        value = json.loads(text)
    except RecursionError:
        raise ChaosError(f"{what}: JSON nested too deeply (limit {max_nesting} levels)") from None
    except ValueError as err:
        raise ChaosError(f"{what}: not JSON ({str(err).splitlines()[0]})") from None
    if nesting_depth(value, max_nesting) > max_nesting:
        raise ChaosError(f"{what}: JSON nested more than {max_nesting} levels deep; an inventory is "
                         "about 8 (docs/inventory.md)")
    return value


def validate_inventory(inventory: Any, source: str) -> None:
    """ChaosError naming the first offending field of `inventory` (read from `source`)."""
    if nesting_depth(inventory, MAX_NESTING) > MAX_NESTING:
        raise ChaosError(f"inventory: nested more than {MAX_NESTING} levels deep (in {source}); an "
                         "inventory is about 8 (docs/inventory.md)")
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    error = best_match(Draft202012Validator(schema).iter_errors(inventory))
    if error is None:
        return
    where = ".".join(["inventory", *(str(part) for part in error.absolute_path)])
    message = error.message if len(error.message) <= 160 else error.message[:157] + "..."
    raise ChaosError(f"{where}: {message} (in {source}); re-export it with "
                     "`pulumi stack output inventory --json` (docs/inventory.md)")


# -- typed views: the inventory is parsed once, here, and travels as these ----------------------

@dataclass(frozen=True)
class FailoverRecord:
    set_identifier: str
    region: str
    value: str
    failover: str | None = None    # PRIMARY / SECONDARY for failover routing
    weight: int | None = None
    health_check_id: str | None = None
    alias_zone_id: str | None = None  # an alias to the region's load balancer (schema 2)


@dataclass(frozen=True)
class HealthCheck:
    id: str
    region: str


@dataclass(frozen=True)
class PrivateRecord:
    """A data store's private name (RDS): repointed after the DR copy is promoted."""

    zone_id: str
    name: str
    type: str
    ttl: int
    value: str


@dataclass(frozen=True)
class Failover:
    """The application's Route 53 failover records (docs/inventory.md, `application`); a workload
    carries it when its data store has a DR copy to switch the application to."""

    record_name: str
    record_type: str
    routing: str
    records: tuple[FailoverRecord, ...]
    health_checks: tuple[HealthCheck, ...]
    ttl_seconds: int | None = None   # of every record: clients keep an answer that long

    def record_in(self, region: str) -> FailoverRecord | None:
        return next((r for r in self.records if r.region == region), None)


@dataclass(frozen=True)
class BackupVault:
    name: str
    arn: str | None
    lock_mode: str | None


@dataclass(frozen=True)
class Workload:
    """One workload: what every phase reads, with its `stores` as the kind's typed view."""

    name: str
    kind: str
    strategy: str
    primary_region: str
    dr_region: str
    stores: Stores
    failover: Failover | None = None
    endpoints: dict[str, str] = dataclass_field(default_factory=dict)  # region -> store the app names
    private_record: PrivateRecord | None = None
    backup_plan: str | None = None
    continuous_backup: bool = False
    fis_templates: dict[str, str] = dataclass_field(default_factory=dict)

    @property
    def dr_store(self) -> StoreRef | None:
        """The live copy in the DR region, if the strategy keeps one."""
        store = self.stores.in_region(self.dr_region)
        return None if store is None or store == self.stores.primary() else store


@dataclass(frozen=True)
class PlanStep:
    """One step of the Region switch plan (docs/inventory.md, `recovery_plan`)."""

    name: str
    block_type: str
    workloads: tuple[str, ...]
    steps: tuple["PlanStep", ...] = ()

    def walk(self) -> list["PlanStep"]:
        """This step, then every step inside it (a Parallel block's)."""
        return [self, *(s for child in self.steps for s in child.walk())]


@dataclass(frozen=True)
class RecoveryPlan:
    """The stack's ARC Region switch plan: its workflows by the region they activate."""

    name: str
    arn: str
    rto_objective_seconds: float | None
    activations: dict[str, tuple[PlanStep, ...]]  # target region -> steps

    def steps_activating(self, region: str) -> list[PlanStep]:
        return [s for step in self.activations.get(region, ()) for s in step.walk()]


@dataclass(frozen=True)
class Inventory:
    primary_region: str
    dr_region: str
    hosted_zone_id: str | None
    workloads: dict[str, Workload]
    vaults: dict[str, BackupVault]     # by region
    raw: dict[str, Any]                # the JSON as exported (the lab deploys it; digests hash it)
    recovery_plan: RecoveryPlan | None = None


def _failover(raw: Any, where: str) -> Failover | None:
    if not raw:
        return None
    records = tuple(
        FailoverRecord(set_identifier=str(r.get("set_identifier") or ""),
                       region=field(r, "region", f"{where}.records[{i}]"),
                       value=str(r.get("value") or ""), failover=r.get("failover"),
                       weight=r.get("weight"), health_check_id=r.get("health_check_id"),
                       alias_zone_id=r.get("alias_zone_id"))
        for i, r in enumerate(blocks(raw, "records", where)))
    checks = tuple(HealthCheck(id=c["id"], region=c["region"])
                   for c in blocks(raw, "health_checks", where) if c.get("id") and c.get("region"))
    if not raw.get("record_name") or not records:
        return None
    return Failover(record_name=raw["record_name"], record_type=raw.get("record_type") or "CNAME",
                    routing=raw.get("routing") or "failover", records=records, health_checks=checks,
                    ttl_seconds=int(raw["ttl_seconds"]) if raw.get("ttl_seconds") else None)


def _private_record(raw: Any) -> PrivateRecord | None:
    if not isinstance(raw, dict) or not raw.get("name"):
        return None
    return PrivateRecord(zone_id=str(raw.get("zone_id") or "").rsplit("/", 1)[-1], name=raw["name"],
                         type=raw.get("type") or "CNAME", ttl=int(raw.get("ttl") or 60), value=str(raw.get("value") or ""))


def parse_workload(name: str, raw: Any, *, where: str | None = None,
                   application: Failover | None = None) -> Workload:
    """The typed view of one inventory workload; InventoryError naming the field otherwise."""
    where = where or f"inventory.workloads.{name}"
    if not isinstance(raw, dict):
        raise InventoryError(where, "expected an object")
    kind = field(raw, "kind", where)
    primary = raw.get("primary_region") or ""
    stores = parse_stores(kind, raw.get("stores"), f"{where}.stores")
    backup = raw.get("backup") or {}
    return Workload(name=name, kind=kind, strategy=str(raw.get("strategy") or "unknown"),
                    primary_region=primary or stores.primary().region,
                    dr_region=str(raw.get("dr_region") or ""), stores=stores,
                    # Schema 2: DNS failover is the application's; the workload takes part when its
                    # store has a DR copy (its `failover` block).
                    failover=application if raw.get("failover") else None,
                    endpoints=dict((raw.get("failover") or {}).get("endpoints") or {}),
                    private_record=_private_record((raw.get("failover") or {}).get("private_record")),
                    backup_plan=backup.get("plan_name"),
                    continuous_backup=bool(backup.get("continuous")),
                    fis_templates=dict(raw.get("fis_templates") or {}))


def _plan_step(raw: Any, where: str) -> PlanStep:
    return PlanStep(name=field(raw, "name", where), block_type=field(raw, "block_type", where),
                    workloads=tuple(str(w) for w in raw.get("workloads") or ()),
                    steps=tuple(_plan_step(s, f"{where}.steps[{i}]") for i, s in enumerate(blocks(raw, "steps", where))))


def parse_recovery_plan(raw: Any) -> RecoveryPlan | None:
    if not raw:
        return None
    where = "inventory.recovery_plan"
    minutes = raw.get("rto_objective_minutes")
    activations = {}
    for i, workflow in enumerate(blocks(raw, "workflows", where)):
        if workflow.get("target_action") == "activate":
            activations[field(workflow, "target_region", f"{where}.workflows[{i}]")] = tuple(
                _plan_step(s, f"{where}.workflows[{i}].steps[{j}]")
                for j, s in enumerate(blocks(workflow, "steps", f"{where}.workflows[{i}]")))
    return RecoveryPlan(name=field(raw, "name", where), arn=field(raw, "arn", where),
                        rto_objective_seconds=None if minutes is None else float(minutes) * 60.0,
                        activations=activations)


def parse_inventory(raw: Any, source: str = "the inventory") -> Inventory:
    """Parse an inventory (already schema-checked, or from the offline program) into typed views;
    ChaosError naming the first bad field."""
    try:
        if not isinstance(raw, dict):
            raise InventoryError("inventory", "expected an object")
        workloads = raw.get("workloads") or {}
        if not isinstance(workloads, dict):
            raise InventoryError("inventory.workloads", "expected an object")
        zone = (raw.get("hosted_zone") or {}).get("id")
        application = _failover(raw.get("application"), "inventory.application")
        vaults = {region: BackupVault(v.get("name") or "", v.get("arn"), v.get("lock_mode"))
                  for region, v in ((raw.get("backup") or {}).get("vaults") or {}).items()
                  if isinstance(v, dict)}
        return Inventory(primary_region=str(raw.get("primary_region") or ""),
                         dr_region=str(raw.get("dr_region") or ""),
                         hosted_zone_id=zone.rsplit("/", 1)[-1] if zone else None,
                         workloads={n: parse_workload(n, w, application=application)
                                    for n, w in workloads.items()},
                         vaults=vaults, raw=raw, recovery_plan=parse_recovery_plan(raw.get("recovery_plan")))
    except InventoryError as err:
        raise ChaosError(f"{err} (in {source}); re-export it with "
                         "`pulumi stack output inventory --json` (docs/inventory.md)") from None
