"""Lab-side events (`GET /_lab/events`): health-check transitions, fault scope changes,
replication held back by an outage. Reports put them next to the harness's own journal."""
from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class LabEvent:
    t: float
    kind: str
    detail: dict[str, Any]


class EventLog:
    """Append-only, bounded (oldest dropped) so a lab left running for days stays small."""

    def __init__(self, capacity: int = 10_000):
        self._events: list[LabEvent] = []
        self._capacity = capacity
        self._lock = threading.Lock()

    def record(self, kind: str, **detail: Any) -> LabEvent:
        event = LabEvent(t=time.time(), kind=kind, detail=detail)
        with self._lock:
            self._events.append(event)
            del self._events[:-self._capacity]
        return event

    def since(self, t: float = 0.0) -> list[dict[str, Any]]:
        with self._lock:
            return [asdict(event) for event in self._events if event.t >= t]

    def clear(self) -> None:
        with self._lock:
            self._events.clear()
