"""The AWS-equivalent clock of the backup lab.

Lab time is compressed: `time_factor` is lab seconds per AWS second (0.01 means 100x faster), the
convention of the rest of the lab and of the reports. Schedules (`cron(...)`), lifecycles ("cold
after N days, deleted after M"), vault-lock grace periods and Glacier retrieval delays are AWS
durations; the engine compares them with `aws_now()`, which runs 1/time_factor times faster than
the wall clock. Timestamps the API reports are wall-clock (lab) times, like every other lab answer
and the harness journal; `wall_at` converts an AWS-clock deadline into the lab time it happens.

The factor may change between scenarios (`set_factor`): the clock is re-based so AWS time never
jumps or runs backwards.
"""
from __future__ import annotations

import threading
import time
from typing import Callable

DAY_SECONDS = 86400.0


class LabClock:
    def __init__(self, time_factor: float = 1.0, wall: Callable[[], float] = time.time):
        if time_factor <= 0:
            raise ValueError("time_factor: must be > 0; e.g. 1.0 (real time) or 0.001 (1000x faster)")
        self._wall = wall
        self._lock = threading.Lock()
        now = wall()
        self._factor = float(time_factor)
        self._wall0 = now
        self._aws0 = now

    @property
    def time_factor(self) -> float:
        return self._factor

    def set_factor(self, time_factor: float) -> None:
        if time_factor <= 0:
            raise ValueError("time_factor: must be > 0; e.g. 1.0 (real time) or 0.001 (1000x faster)")
        with self._lock:
            now = self._wall()
            self._aws0 = self._aws0 + (now - self._wall0) / self._factor
            self._wall0 = now
            self._factor = float(time_factor)

    def aws_now(self) -> float:
        """AWS-equivalent epoch seconds: starts at the wall time of creation, runs 1/factor faster."""
        with self._lock:
            return self._aws0 + (self._wall() - self._wall0) / self._factor

    def wall_now(self) -> float:
        return self._wall()

    def wall_at(self, aws_time: float) -> float:
        """The lab (wall-clock) time at which the AWS clock reaches `aws_time`, at the current factor."""
        with self._lock:
            return self._wall0 + (aws_time - self._aws0) * self._factor

    def aws_at(self, wall_time: float) -> float:
        """The AWS-clock time of a lab (wall-clock) instant, at the current factor."""
        with self._lock:
            return self._aws0 + (wall_time - self._wall0) / self._factor

    def lab_seconds(self, aws_seconds: float) -> float:
        """How long an AWS duration lasts in the lab."""
        return aws_seconds * self._factor
