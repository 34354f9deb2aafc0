"""What a runbook works with: the target's AWS APIs, one workload, the application's routing,
the canary (for failure-count detection), the fault it answers, and the journal it writes to."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Optional

from tenacity import (RetryError, Retrying, retry_if_exception_type, retry_if_result,
                      stop_after_delay, wait_fixed)

from chaos.journal import FAILOVER_DONE, NOTE, RUNBOOK_STARTED, Journal
from chaos.targets.base import Target
from chaos.targets.inventory import Inventory, Workload
from chaos.workload.canary import Canary, describe_error
from chaos.workload.routing import AppRouting


class RunbookError(RuntimeError):
    """A recovery step did not take effect within its bound."""


@dataclass
class Shared:
    """What the workload runbooks of one scenario share, e.g. the one Region switch plan execution
    that recovers them all: `get` builds an item once, whichever runbook thread asks first."""

    _items: dict[str, Any] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, key: str, make: Any) -> Any:
        with self._lock:
            if key not in self._items:
                self._items[key] = make()
            return self._items[key]


@dataclass
class RunbookContext:
    target: Target
    inventory: Inventory
    workload_name: str
    workload: Workload
    routing: AppRouting
    canary: Optional[Canary]
    journal: Journal
    scenario: str
    run_id: str
    fault_time: float               # when the interrupting fault was injected (epoch seconds)
    budget_seconds: float            # every wait of the runbook ends within this bound
    poll_seconds: float = 0.1
    stop: threading.Event = field(default_factory=threading.Event)  # Ctrl-C / scenario abort
    last_observed_at: float | None = None  # start of the check that ended the last wait_until
    shared: Shared = field(default_factory=Shared)  # one per scenario run, across its workloads

    @property
    def short_run(self) -> str:
        return self.run_id.rsplit("-", 1)[-1].lower()

    def started(self, runbook: str) -> None:
        self.journal.record(RUNBOOK_STARTED, self.scenario, self.workload_name, runbook=runbook)

    def done(self, action: str, *, at: float | None = None) -> None:
        """Journal a completed recovery action; `at` is when it was observed done (see
        `wait_until`), so a probe running concurrently cannot appear to succeed before it."""
        self.journal.record(FAILOVER_DONE, self.scenario, self.workload_name, t=at, action=action)

    def note(self, text: str) -> None:
        self.journal.record(NOTE, self.scenario, self.workload_name, text=text)

    def wait_until(self, what: str, check: Any, *, budget: float | None = None) -> Any:
        """Poll `check()` until it returns a truthy value (exceptions count as "not yet"), within
        `budget` (default: the runbook's); RunbookError naming `what` otherwise."""
        bound = self.budget_seconds if budget is None else budget
        attempt_started = [0.0]

        def observed() -> Any:
            attempt_started[0] = time.time()
            return check()

        def give_up(state: Any) -> bool:
            return stop_after_delay(bound)(state) or self.stop.is_set()

        retrying = Retrying(stop=give_up, wait=wait_fixed(self.poll_seconds), reraise=False,
                            retry=retry_if_exception_type(Exception) | retry_if_result(lambda v: not v))
        try:
            result = retrying(observed)
            # The state held when the successful check began; journal that moment, not the later
            # one at which this thread got round to writing it.
            self.last_observed_at = attempt_started[0]
            return result
        except RetryError as err:
            last = err.last_attempt
            why = describe_error(last.exception()) if last.failed else f"last answer {last.result()!r}"
            raise RunbookError(f"{what}: not done within {bound:.0f} s ({why})") from None
