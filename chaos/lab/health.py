"""Health checks that mean something: a real endpoint per region, and an evaluator per check.

moto reports every Route 53 health check healthy. The lab instead runs, per region, a loopback
HTTP service standing for that region's application endpoint (`GET /health` -> 200), which a
region outage turns into 503s. Each declared health check is polled at `interval_seconds *
time_factor` and turns unhealthy after `failure_threshold` consecutive failures (healthy again after
as many successes), like Route 53's checkers. Transitions go to the lab's event log, so detection
time is part of the measured RTO.

One checker (the lab) stands in for Route 53's fleet of checkers in several regions.
"""
from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any, Callable

from werkzeug.serving import BaseWSGIServer, make_server


class RegionEndpoint:
    """The region's application endpoint: a tiny threaded HTTP server on 127.0.0.1."""

    def __init__(self, region: str):
        self.region = region
        self.down = False
        self._server: BaseWSGIServer = make_server("127.0.0.1", 0, self._app, threaded=True)
        # A short shutdown poll: a lab stop waits for every region endpoint (default 0.5 s each).
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        name=f"lab-endpoint-{region}", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def _app(self, environ: dict[str, Any], start_response: Callable) -> list[bytes]:
        if self.down:
            body = f"region {self.region} is under a region outage\n".encode()
            start_response("503 Service Unavailable", [("Content-Type", "text/plain"),
                                                       ("Content-Length", str(len(body)))])
            return [body]
        body = f"ok {self.region}\n".encode()
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
        return [body]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@dataclass
class CheckState:
    check_id: str
    region: str
    url: str
    period_seconds: float
    failure_threshold: int
    healthy: bool = True
    consecutive: int = 0          # consecutive results contradicting the current state
    last_result: str = "Success: not checked yet"
    last_checked: float = 0.0
    next_due: float = 0.0
    transitions: list[tuple[float, bool]] = field(default_factory=list)

    def observe(self, ok: bool, result: str, now: float) -> bool:
        """Fold one poll in; returns True when the state flipped."""
        self.last_result, self.last_checked = result, now
        if ok == self.healthy:
            self.consecutive = 0
            return False
        self.consecutive += 1
        if self.consecutive < self.failure_threshold:
            return False
        self.healthy, self.consecutive = ok, 0
        self.transitions.append((now, ok))
        return True


class HealthMonitor:
    """Region endpoints plus one polling thread that evaluates every check on its own period."""

    def __init__(self, on_event: Callable[..., Any] = lambda kind, **detail: None):
        self._endpoints: dict[str, RegionEndpoint] = {}
        self._checks: dict[str, CheckState] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._on_event = on_event
        self._thread = threading.Thread(target=self._poll_forever, name="lab-health", daemon=True)
        self._thread.start()

    def endpoint(self, region: str) -> RegionEndpoint:
        with self._lock:
            if region not in self._endpoints:
                self._endpoints[region] = RegionEndpoint(region)
            return self._endpoints[region]

    def add_check(self, check_id: str, region: str, path: str, interval_seconds: float,
                  failure_threshold: int, time_factor: float) -> CheckState:
        url = self.endpoint(region).url + (path or "/health")
        state = CheckState(check_id, region, url, max(0.05, interval_seconds * time_factor),
                           max(1, int(failure_threshold)), next_due=time.time())
        with self._lock:
            self._checks[check_id] = state
        return state

    def check(self, check_id: str) -> CheckState | None:
        return self._checks.get(check_id)

    def checks(self) -> list[CheckState]:
        with self._lock:
            return list(self._checks.values())

    def set_region_down(self, region: str, down: bool) -> None:
        self.endpoint(region).down = down

    def clear(self) -> None:
        """Forget every check and bring every endpoint back up (the endpoints keep their ports)."""
        with self._lock:
            self._checks.clear()
            for endpoint in self._endpoints.values():
                endpoint.down = False

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for endpoint in self._endpoints.values():
            endpoint.close()

    def _poll_forever(self) -> None:
        while not self._stop.is_set():
            now = time.time()
            for state in self.checks():
                if state.next_due <= now:
                    state.next_due = now + state.period_seconds
                    self._poll(state)
            due = [s.next_due for s in self.checks()]
            wait = min(due) - time.time() if due else 0.1
            self._stop.wait(min(0.1, max(0.005, wait)))

    def _poll(self, state: CheckState) -> None:
        try:
            with urllib.request.urlopen(state.url, timeout=min(2.0, state.period_seconds * 2)) as reply:
                ok, result = True, f"Success: HTTP Status Code {reply.status}, OK"
        except urllib.error.HTTPError as error:
            ok, result = False, f"Failure: HTTP Status Code {error.code}, {error.reason}"
        except OSError as error:
            ok, result = False, f"Failure: connection failed ({error})"
        if state.observe(ok, result, time.time()):
            self._on_event("health_check_" + ("healthy" if ok else "unhealthy"),
                           health_check_id=state.check_id, region=state.region, result=result)
