"""The application's switch between stores.

`AppRouting` is the application's current write target for one workload: the canary writes
through it and runbooks switch it (to the DR replica, to a restored table), exactly as an operator
would repoint the app. Which stores exist is the workload's typed `stores` view (chaos/stores/).
"""
from __future__ import annotations

import threading

from chaos.stores.base import StoreRef


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
