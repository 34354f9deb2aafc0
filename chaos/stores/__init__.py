"""Store kinds, one module each, behind the `Stores` protocol (chaos/stores/base.py).

`parse_stores(kind, raw, where)` is the only place that looks at a workload's `kind`: it turns
the inventory's `stores` block into the kind's typed view, whose methods the phases call.
"""
from __future__ import annotations

from typing import Any, Callable

from chaos.stores.base import InventoryError, RecordStream, StoreRef, Stores, Writer
from chaos.stores.dynamodb import DynamoDbStores
from chaos.stores.ec2 import Ec2Stores
from chaos.stores.efs import EfsStores
from chaos.stores.rds import RdsStores
from chaos.stores.s3 import S3Stores

PARSERS: dict[str, Callable[[dict[str, Any], str], Stores]] = {
    kind.kind: kind.parse
    for kind in (DynamoDbStores, S3Stores, RdsStores, EfsStores, Ec2Stores)}


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
