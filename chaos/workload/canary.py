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
from typing import TYPE_CHECKING

from chaos.journal import WRITE_ACKED, WRITE_FAILED, Journal
from chaos.stores.base import RecordStream
from chaos.targets.base import Target
from chaos.workload.routing import AppRouting

if TYPE_CHECKING:
    from chaos.targets.inventory import Workload

DEFAULT_RATE = 50.0  # writes/s per workload; bench/gameday.py measures what one canary sustains


def describe_error(err: BaseException) -> str:
    """A short, one-line description of a failure for the journal: the AWS error code when
    there is one (botocore's full message repeats the operation and retry count)."""
    response = getattr(err, "response", None)
    code = response.get("Error", {}).get("Code") if isinstance(response, dict) else None
    text = f"{type(err).__name__}: {code or err}"
    return (text.splitlines() or [type(err).__name__])[0][:200]


class Canary:
    """Writes one workload's canary stream in a background thread until `stop()`."""

    def __init__(self, *, workload_name: str, workload: "Workload", target: Target,
                 routing: AppRouting, stream: RecordStream, journal: Journal, rate: float) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.workload_name = workload_name
        self._writer = workload.stores.writer(target, fail_fast=True)
        self._routing = routing
        self._stream = stream
        self._journal = journal
        self._interval = 1.0 / rate
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._consecutive_failures = 0
        self._acked = 0
        self._first_acked_seq: int | None = None
        self._first_acked_at: float | None = None  # time.monotonic() of the first acknowledgement
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

    @property
    def first_acked_at(self) -> float | None:
        """`time.monotonic()` when the first write was acknowledged (None: none yet)."""
        with self._lock:
            return self._first_acked_at

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
                self._first_acked_at = time.monotonic()
        self._journal.record(WRITE_ACKED, self._stream.scenario, self.workload_name, t=acked,
                             seq=seq, latency=acked - sent, store=str(store))
