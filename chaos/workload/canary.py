"""The canary: one thread per workload writing sequence-numbered, timestamped order records at a
steady rate to the application's current store, journaling every acknowledgement and failure.

Pacing: write `seq` is due at `start + seq / rate`. A write that fails fast (an outage) is followed
by the next one at its due time, so failures are sampled at the same rate as successes. When the
store is slower than the rate, the canary writes back-to-back and the journal shows the achieved
rate (it never bursts to "catch up" on missed slots: those slots are simply skipped).
"""
from __future__ import annotations

import threading
import time
from typing import Any, Callable, Protocol

from chaos.journal import WRITE_ACKED, WRITE_FAILED, Journal
from chaos.targets.base import Target
from chaos.workload import dynamodb, postgres, s3
from chaos.workload.stores import AppRouting, RecordStream, StoreRef

DEFAULT_RATE = 50.0  # writes/s per workload; bench/gameday.py measures what one canary sustains


class StoreWriter(Protocol):
    def write(self, store: StoreRef, stream: RecordStream, seq: int, written_at: float) -> None: ...
    def read(self, store: StoreRef, stream: RecordStream, seq: int) -> bool: ...
    def close(self) -> None: ...


_WRITERS: dict[str, Callable[..., StoreWriter]] = {
    "dynamodb": dynamodb.DynamoDbWriter, "s3": s3.S3Writer, "rds": postgres.PostgresWriter}
_AUDITS: dict[str, Callable[[Target, dict[str, Any], StoreRef, RecordStream], set[int]]] = {
    "dynamodb": dynamodb.audit, "s3": s3.audit, "rds": postgres.audit}


def make_writer(target: Target, workload: dict[str, Any], *, fail_fast: bool = True) -> StoreWriter:
    """The writer for the workload's kind (dynamodb, s3 or rds)."""
    return _WRITERS[workload["kind"]](target, workload, fail_fast=fail_fast)


def audit_store(target: Target, workload: dict[str, Any], store: StoreRef,
                stream: RecordStream) -> set[int]:
    """Which sequence numbers of `stream` exist in `store`."""
    return _AUDITS[workload["kind"]](target, workload, store, stream)


def describe_error(err: BaseException) -> str:
    """A short, one-line description of a failure for the journal: the AWS error code when
    there is one (botocore's full message repeats the operation and retry count)."""
    response = getattr(err, "response", None)
    code = response.get("Error", {}).get("Code") if isinstance(response, dict) else None
    text = f"{type(err).__name__}: {code or err}"
    return (text.splitlines() or [type(err).__name__])[0][:200]


class Canary:
    """Writes one workload's canary stream in a background thread until `stop()`."""

    def __init__(self, *, workload_name: str, workload: dict[str, Any], target: Target,
                 routing: AppRouting, stream: RecordStream, journal: Journal, rate: float) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.workload_name = workload_name
        self._writer = make_writer(target, workload, fail_fast=True)
        self._routing = routing
        self._stream = stream
        self._journal = journal
        self._interval = 1.0 / rate
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._consecutive_failures = 0
        self._acked = 0
        self._first_acked_seq: int | None = None
        self._next_seq = 0
        self._thread = threading.Thread(target=self._loop, name=f"canary-{workload_name}",
                                        daemon=True)

    @property
    def consecutive_failures(self) -> int:
        with self._lock:
            return self._consecutive_failures

    @property
    def acked(self) -> int:
        with self._lock:
            return self._acked

    @property
    def first_acked_seq(self) -> int | None:
        with self._lock:
            return self._first_acked_seq

    def start(self) -> "Canary":
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop writing (the write in flight completes) and release the connection."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _loop(self) -> None:
        start = time.monotonic()
        try:
            while not self._stop.is_set():
                seq = self._next_seq
                self._next_seq += 1
                self._write_one(seq)
                due = start + self._next_seq * self._interval
                delay = due - time.monotonic()
                if delay > 0:
                    self._stop.wait(delay)
                else:  # behind schedule: skip the missed slots rather than burst
                    start += -delay
        finally:
            self._writer.close()

    def _write_one(self, seq: int) -> None:
        store = self._routing.current
        sent = time.time()
        try:
            self._writer.write(store, self._stream, seq, sent)
        except Exception as err:  # any failure is data: the store did not acknowledge `seq`
            with self._lock:
                self._consecutive_failures += 1
            self._journal.record(WRITE_FAILED, self._stream.scenario, self.workload_name,
                                 seq=seq, error=describe_error(err), store=str(store))
            return
        acked = time.time()
        with self._lock:
            self._consecutive_failures = 0
            self._acked += 1
            if self._first_acked_seq is None:
                self._first_acked_seq = seq
        self._journal.record(WRITE_ACKED, self._stream.scenario, self.workload_name, t=acked,
                             seq=seq, latency=acked - sent, store=str(store))
