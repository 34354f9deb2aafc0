"""The store-kind protocol: what the harness needs from one kind of data store.

Each kind (`dynamodb.py`, `s3.py`, `rds.py`, ...) is one module holding a typed view of its
inventory `stores` block (parsed once, at the boundary, by `chaos.targets.inventory`) whose
methods are everything kind-specific the phases need:

- where the data lives: `primary()`, `replicas()`;
- the canary's writer and the audit of what a store holds;
- its accidental deletion;
- its point-in-time restore;
- its regional failover (what to do to the DR copy before the application is switched to it)
  and, where the kind has one, its failover inside a region;
- its reasons not to take part in a scenario, in words the report can show.

The phase packages (scenarios, faults, runbooks, probes, engine) call these methods and never
branch on the kind; adding a kind is one new module registered in `chaos/stores/__init__.py`.
"""
from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

if TYPE_CHECKING:  # imported for annotations only: runbooks import the stores, not the reverse
    from chaos.runbooks.context import RunbookContext
    from chaos.targets.base import Target
    from chaos.targets.inventory import Workload


class InventoryError(ValueError):
    """A field of the inventory is missing or has the wrong type; `field` is its dotted path."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field


@dataclass(frozen=True)
class StoreRef:
    """One store: `name` is the table name, bucket name, DB instance identifier, file system id
    or the volume set's name."""

    kind: str
    region: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.region}/{self.name}"


@dataclass(frozen=True)
class RecordStream:
    """The namespace of one writer's records: canary or probe, per run and scenario.

    Records of different runs and scenarios never collide, so an audit counts only its own.
    """

    role: str  # "canary" or "probe"
    run_id: str
    scenario: str

    @property
    def key(self) -> str:
        """DynamoDB partition key and PostgreSQL `stream` column of this stream's records."""
        return f"{self.role}#{self.run_id}#{self.scenario}"

    @property
    def s3_prefix(self) -> str:
        """Object-key (and directory) prefix of this stream's records."""
        return f"{self.role}/{self.run_id}/{self.scenario}/"

    @staticmethod
    def sort_key(seq: int) -> str:
        return f"{seq:08d}"


class Writer(Protocol):
    """Writes and reads one workload's records; one instance per thread."""

    def write(self, store: StoreRef, stream: RecordStream, seq: int, written_at: float) -> None: ...
    def read(self, store: StoreRef, stream: RecordStream, seq: int) -> bool: ...
    def close(self) -> None: ...


# -- reading the raw block (the schema was checked already; these name the field if not) --------
def field(block: Any, key: str, where: str, kind: type | tuple[type, ...] = str) -> Any:
    """`block[key]`, required, of type `kind`; InventoryError naming `where.key` otherwise."""
    if not isinstance(block, dict) or key not in block or block[key] is None:
        raise InventoryError(f"{where}.{key}", "missing")
    value = block[key]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise InventoryError(f"{where}.{key}", f"expected {getattr(kind, '__name__', kind)}, "
                                               f"got {type(value).__name__}")
    return value


def optional(block: dict[str, Any], key: str, default: Any = None) -> Any:
    value = block.get(key)
    return default if value is None else value


def blocks(block: dict[str, Any], key: str, where: str) -> list[dict[str, Any]]:
    """An optional list of objects (`replicas`), each checked to be an object."""
    items = block.get(key) or []
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise InventoryError(f"{where}.{key}", "expected a list of objects")
    return items


class Stores(abc.ABC):
    """The typed `stores` block of one workload, and everything kind-specific about it.

    Defaults describe a kind that lacks the capability; a kind overrides what it has.
    """

    kind: ClassVar[str]
    deletion_modes: ClassVar[tuple[str, ...]] = ("items",)

    # -- where the data is ------------------------------------------------------------------
    @abc.abstractmethod
    def primary(self) -> StoreRef:
        """The store the application writes to before any failover."""

    def replicas(self) -> list[StoreRef]:
        """Live cross-region copies the application can be switched to."""
        return []

    def in_region(self, region: str) -> StoreRef | None:
        """The primary or replica store located in `region`, if there is one."""
        for store in [self.primary(), *self.replicas()]:
            if store.region == region:
                return store
        return None

    # -- canary ------------------------------------------------------------------------------
    def why_no_canary(self) -> str | None:
        """None when the harness can write and audit this kind's data (every scenario needs it)."""
        return None

    @abc.abstractmethod
    def writer(self, target: "Target", *, fail_fast: bool = True) -> Writer:
        """A writer for this workload (its own clients or connection)."""

    @abc.abstractmethod
    def audit(self, target: "Target", store: StoreRef, stream: RecordStream) -> set[int]:
        """Which sequence numbers of `stream` exist in `store`."""

    def prepare(self, target: "Target") -> None:
        """Make the primary ready for the canary (e.g. create its table); default nothing."""

    # -- accidental deletion and point-in-time restore --------------------------------------
    def deletion_mode(self, asked: str) -> str:
        """The deletion mode to use when `asked` is requested (a kind without tables deletes
        items)."""
        return asked if asked in self.deletion_modes else self.deletion_modes[0]

    def delete(self, target: "Target", store: StoreRef, stream: RecordStream,
               mode: str) -> int | str:
        """Delete `stream`'s records (mode "items") or the whole table ("table"): how many, or
        "table"."""
        raise NotImplementedError(f"{self.kind} has no accidental-deletion fault")

    def why_no_point_in_time_restore(self) -> str | None:
        """None when deleted data can be restored to just before the deletion."""
        return f"{self.kind} has no point-in-time restore in the harness"

    def restore_point_in_time(self, ctx: "RunbookContext", stream: RecordStream) -> None:
        """Undo an accidental deletion at `ctx.fault_time`; journal started/done; switch the
        application if the restore lands in a new store."""
        raise NotImplementedError(f"{self.kind} has no point-in-time restore")

    # -- regional failover -------------------------------------------------------------------
    def why_no_regional_failover(self, workload: "Workload") -> str | None:
        """None when a live replica in the DR region can take the application over."""
        if self.in_region(workload.dr_region) is None or workload.dr_region == self.primary().region:
            return (f"{workload.strategy} keeps no live replica in {workload.dr_region}: it "
                    "recovers from AWS Backup copies, which the lab declares but does not emulate")
        return None

    def take_over(self, ctx: "RunbookContext", dr: StoreRef) -> None:
        """Make the DR copy `dr` take writes (promote it, break replication...); the runbook then
        switches the application to it. Default: a replica that already takes writes."""

    def taken_over(self, target: "Target", dr: StoreRef) -> bool:
        """The DR copy takes writes now that something else made it take over (the stack's
        Region switch plan). Default: a replica that already takes writes."""
        return True

    # -- failover inside a region ------------------------------------------------------------
    def why_no_multi_az_failover(self) -> str | None:
        """None when the primary has a standby in another AZ to fail over to."""
        return (f"{self.kind} is a regional service spread over AZs by AWS: there is no "
                "instance to fail over")

    def primary_zone(self) -> str | None:
        """The availability zone of the primary instance, if the inventory gives one."""
        return None

    def fail_over_within_region(self, ctx: "RunbookContext", *, forced: bool) -> None:
        """Multi-AZ recovery: `forced` reboots with failover, otherwise await AWS's own."""
        raise NotImplementedError(f"{self.kind} has no failover inside a region")


@dataclass(frozen=True)
class Undriven(Stores):
    """A kind the inventory declares that the harness has no data plane for (yet): every
    scenario skips it with that reason."""

    kind: str  # type: ignore[misc]  # per instance: the kind's own name
    region: str
    name: str

    def why_no_canary(self) -> str:
        return (f"{self.kind} has no canary (the canaries write DynamoDB items, S3 objects "
                f"and PostgreSQL rows; the lab has no {self.kind.upper()} data plane "
                "either), so there is nothing to measure")

    def primary(self) -> StoreRef:
        return StoreRef(self.kind, self.region, self.name)

    def writer(self, target: "Target", *, fail_fast: bool = True) -> Writer:
        raise NotImplementedError(self.why_no_canary())

    def audit(self, target: "Target", store: StoreRef, stream: RecordStream) -> set[int]:
        raise NotImplementedError(self.why_no_canary())
