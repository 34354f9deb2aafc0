"""Which data store a workload writes to, and the application's switch between stores.

`StoreRef` names one store (a DynamoDB table in a region, an S3 bucket, an RDS instance).
`AppRouting` is the application's current write target: the canary writes through it and runbooks
switch it (to the DR replica, to a restored table), exactly as an operator would repoint the app.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

# Kinds the harness has a data-plane canary for. EFS and EC2 are declared in the inventory but the
# lab has no data plane for them (see docs/gameday.md), so scenarios skip them with that reason.
CANARY_KINDS = ("dynamodb", "s3", "rds")


@dataclass(frozen=True)
class StoreRef:
    """One store: `name` is the table name, bucket name or DB instance identifier."""

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
        return f"{self.role}/{self.run_id}/{self.scenario}/"

    @staticmethod
    def sort_key(seq: int) -> str:
        return f"{seq:08d}"


def primary_store(workload: dict[str, Any]) -> StoreRef:
    """The store the application writes to before any failover."""
    kind, stores = workload["kind"], workload["stores"]
    if kind == "dynamodb":
        return StoreRef(kind, stores["table"]["region"], stores["table"]["name"])
    if kind == "s3":
        return StoreRef(kind, stores["bucket"]["region"], stores["bucket"]["name"])
    if kind == "rds":
        return StoreRef(kind, stores["primary"]["region"], stores["primary"]["identifier"])
    raise ValueError(f"no canary store for kind {kind!r}")


def replica_stores(workload: dict[str, Any]) -> list[StoreRef]:
    """The workload's cross-region replicas (a global-table replica keeps the table's name)."""
    kind, stores = workload["kind"], workload["stores"]
    replicas = stores.get("replicas") or []
    if kind == "dynamodb":
        return [StoreRef(kind, r["region"], stores["table"]["name"]) for r in replicas]
    if kind == "s3":
        return [StoreRef(kind, r["region"], r["name"]) for r in replicas]
    if kind == "rds":
        return [StoreRef(kind, r["region"], r["identifier"]) for r in replicas]
    return []


def store_in_region(workload: dict[str, Any], region: str) -> StoreRef | None:
    """The primary or replica store located in `region`, if the workload has one there."""
    for store in [primary_store(workload), *replica_stores(workload)]:
        if store.region == region:
            return store
    return None


class AppRouting:
    """The application's current write target for one workload; runbooks switch it."""

    def __init__(self, initial: StoreRef) -> None:
        self._lock = threading.Lock()
        self._current = initial
        self._history: list[StoreRef] = [initial]

    @property
    def current(self) -> StoreRef:
        with self._lock:
            return self._current

    def switch(self, store: StoreRef) -> None:
        with self._lock:
            self._current = store
            self._history.append(store)

    @property
    def history(self) -> list[StoreRef]:
        with self._lock:
            return list(self._history)
