"""Store kinds, one module each, behind the `Stores` protocol (chaos/stores/base.py).

`parse_stores(kind, raw, where)` is the only place that looks at a workload's `kind`: it turns
the inventory's `stores` block into the kind's typed view, whose methods the phases call.
"""
from __future__ import annotations

from typing import Any, Callable

from chaos.stores.base import InventoryError, RecordStream, StoreRef, Stores, Undriven, Writer, field
from chaos.stores.dynamodb import DynamoDbStores
from chaos.stores.rds import RdsStores
from chaos.stores.s3 import S3Stores


def _efs(raw: dict[str, Any], where: str) -> Stores:
    fs = field(raw, "file_system", where, dict)
    return Undriven("efs", field(fs, "region", f"{where}.file_system"),
                    field(fs, "id", f"{where}.file_system"))


def _ec2(raw: dict[str, Any], where: str) -> Stores:
    instances = field(raw, "instances", where, list)
    if not instances:
        raise InventoryError(f"{where}.instances", "empty")
    first = instances[0]
    return Undriven("ec2", field(first, "region", f"{where}.instances[0]"),
                    field(first, "id", f"{where}.instances[0]"))


PARSERS: dict[str, Callable[[dict[str, Any], str], Stores]] = {
    "dynamodb": DynamoDbStores.parse, "s3": S3Stores.parse, "rds": RdsStores.parse,
    "efs": _efs, "ec2": _ec2}


def parse_stores(kind: str, raw: Any, where: str) -> Stores:
    """The typed view of one workload's `stores` block (`where` names it in errors)."""
    if kind not in PARSERS:
        raise InventoryError(where.rsplit(".", 1)[0] + ".kind",
                             f"unknown kind {kind!r}; use one of {', '.join(PARSERS)}")
    if not isinstance(raw, dict):
        raise InventoryError(where, "expected an object")
    return PARSERS[kind](raw, where)


__all__ = ["InventoryError", "PARSERS", "RecordStream", "StoreRef", "Stores", "Writer",
           "parse_stores"]
