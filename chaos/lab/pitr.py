"""DynamoDB point-in-time recovery that respects the time (moto's copies the table as it is now).

Each PITR-enabled table gets a log of its committed changes from the change tap, starting with a
baseline of the items it held when recovery was enabled. A restore lets moto create the target
table (same key schema, indexes, a proper response), then replaces its items with the log replayed
up to `RestoreDateTime`, or entirely for `UseLatestRestorableTime`. An item written after the
restore time therefore does not come back.

Not emulated: AWS's five-minute lag of `LatestRestorableDateTime` (the lab can restore to a second
ago) and the restore's duration (the target is ACTIVE at once).
"""
from __future__ import annotations

import threading
import time
from datetime import datetime, timezone
from dataclasses import dataclass, field
from typing import Any

from chaos.lab import changetap, motostate
from chaos.lab.changetap import TableChange


class RestoreRefused(Exception):
    """DynamoDB would refuse this restore; carries the error code the client should see."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class ChangeLog:
    started_at: float
    changes: list[TableChange] = field(default_factory=list)

    def state_at(self, t: float | None) -> dict[tuple[Any, Any], TableChange]:
        """Latest change per key at time t (None: now); deletes included, the caller skips them."""
        state: dict[tuple[Any, Any], TableChange] = {}
        for change in self.changes:
            if t is not None and change.t > t:
                break
            state[change.key] = change
        return state


class PointInTimeLogs:
    def __init__(self) -> None:
        self._logs: dict[tuple[str, str], ChangeLog] = {}
        self._lock = threading.Lock()

    def enable(self, region: str, table_name: str) -> None:
        """Start logging (idempotent); the table's current items are the baseline."""
        with self._lock:
            if (region, table_name) in self._logs:
                return
            table = motostate.dynamodb_table(region, table_name)
            if table is None:
                raise KeyError(f"DynamoDB table {table_name} does not exist in {region}")
            now = time.time()
            log = ChangeLog(started_at=now)
            for item in list(table.all_items()):
                log.changes.append(TableChange(now, region, table_name,
                                               (item.hash_key, item.range_key), item, False))
            self._logs[(region, table_name)] = log
        changetap.tap(region, table_name).sinks.append(self._record)

    def disable(self, region: str, table_name: str) -> None:
        """AWS drops the recovery window when PITR is turned off; so does the lab."""
        with self._lock:
            self._logs.pop((region, table_name), None)

    def is_enabled(self, region: str, table_name: str) -> bool:
        return (region, table_name) in self._logs

    def clear(self) -> None:
        with self._lock:
            self._logs.clear()

    def _record(self, change: TableChange) -> None:
        log = self._logs.get((change.region, change.table))
        if log is not None:
            log.changes.append(change)

    def check_restorable(self, region: str, source: str, restore_time: float | None) -> None:
        log = self._logs.get((region, source))
        if log is None:
            raise RestoreRefused("PointInTimeRecoveryUnavailableException",
                                 f"Point in time recovery is not enabled for table '{source}'")
        if restore_time is not None and not log.started_at <= restore_time <= time.time():
            raise RestoreRefused("InvalidRestoreTimeException",
                                 f"RestoreDateTime must be between {log.started_at} and now")

    def replay_into(self, region: str, source: str, target: str, restore_time: float | None) -> int:
        """Make `target` hold `source` as of restore_time; returns the number of items restored."""
        log = self._logs[(region, source)]
        table = motostate.dynamodb_table(region, target)
        if table is None:
            raise KeyError(f"restore target {target} does not exist in {region}")
        with self._lock:
            state = log.state_at(restore_time)
        table.items.clear()
        restored = 0
        for change in state.values():
            attributes = change.attributes()
            if attributes is not None:
                table.put_item(attributes, overwrite=True)
                restored += 1
        if hasattr(table, "restore_date_time"):  # moto keeps naive UTC datetimes
            restored_at = restore_time if restore_time is not None else time.time()
            table.restore_date_time = datetime.fromtimestamp(restored_at, timezone.utc).replace(tzinfo=None)
        return restored
