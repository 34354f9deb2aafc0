"""The `Target` interface: where a game day runs (the embedded lab, a LocalStack endpoint, AWS).

A target hands out boto3 clients per region, each from an explicit `boto3.Session` pointed at the
target's endpoint (never the process-wide default session), and says which faults it can inject.
Faults, canaries, probes and runbooks only ever talk to AWS through a target, so the same code
drives the lab, LocalStack and a staging account.
"""
from __future__ import annotations

import abc
import threading
from dataclasses import dataclass, field
from typing import Any, Callable

import boto3
from botocore.config import Config

# Fault names a target may support; scenarios check them before they run.
REGION_OUTAGE = "region-outage"
AZ_OUTAGE = "az-outage"
INSTANCE_FAILURE = "instance-failure"
REPLICATION_PAUSE = "replication-pause"
ACCIDENTAL_DELETION = "accidental-deletion"
BACKUP_JOB_FAILURE = "backup-job-failure"

# The canary must see an outage as a fast failure, not as a 60 s botocore retry loop: one attempt,
# short timeouts. Runbooks and probes may wait a little longer per call but still never retry
# silently (tenacity does the bounded retrying where we want it).
CANARY_CONFIG = Config(connect_timeout=1, read_timeout=2, retries={"max_attempts": 1},
                       max_pool_connections=4)
CONTROL_CONFIG = Config(connect_timeout=2, read_timeout=10, retries={"max_attempts": 2},
                        max_pool_connections=8)


@dataclass(frozen=True)
class FaultSpec:
    """A fault as the target needs it: Chaos API rules (lab, LocalStack) or the FIS action that
    plays the same failure on AWS (`fis_action` matched against the stack's FIS templates)."""

    fault: str
    rules: tuple[dict[str, Any], ...]
    fis_action: str | None = None
    workload: str | None = None


@dataclass(frozen=True)
class Deployment:
    """What `prepare`/`reset` returns: the inventory to drive (with the target's real ids) and,
    on the lab, its deploy summary (replication links, "declared, not emulated", ...)."""

    inventory: dict[str, Any]
    summary: dict[str, Any] = field(default_factory=dict)


class Target(abc.ABC):
    """Sessions and clients per region, fault capabilities, and the lifecycle of one game day."""

    name: str = "target"
    # True when the target compresses AWS's durations (the lab): the engine then picks a time
    # factor per scenario wave and `reset(time_factor=...)` applies it. Others run in AWS's time.
    scales_time: bool = False
    # The target serves EFS file systems and EBS volumes to the canary (`file_service_url`).
    has_file_service: bool = False

    def __init__(self, endpoint_url: str | None) -> None:
        self.endpoint_url = endpoint_url
        self._sessions: dict[str, boto3.Session] = {}
        self._clients: dict[tuple[str, str, bool], Any] = {}
        self._lock = threading.Lock()
        self._on_lost: Callable[[str], None] | None = None
        self._on_host_change: Callable[[dict[str, Any]], None] | None = None

    # -- clients -----------------------------------------------------------------------------
    @abc.abstractmethod
    def _new_session(self, region: str) -> boto3.Session:
        """An explicit session for `region` with this target's credentials."""

    def _service_endpoint(self, service: str) -> str | None:
        return self.endpoint_url

    def session(self, region: str) -> boto3.Session:
        with self._lock:
            if region not in self._sessions:
                self._sessions[region] = self._new_session(region)
            return self._sessions[region]

    def client(self, service: str, region: str, *, fail_fast: bool = False) -> Any:
        """A cached client; `fail_fast` gives the canary's one-attempt, short-timeout config.

        botocore clients are thread-safe; sessions are not, hence the lock around creation.
        """
        key = (service, region, fail_fast)
        session = self.session(region)
        with self._lock:
            if key not in self._clients:
                self._clients[key] = session.client(
                    service, region_name=region, endpoint_url=self._service_endpoint(service),
                    config=CANARY_CONFIG if fail_fast else CONTROL_CONFIG)
            return self._clients[key]

    def fresh_client(self, service: str, region: str, *, fail_fast: bool = True) -> Any:
        """An uncached client, for a thread that must not share a connection pool (canaries)."""
        session = self.session(region)
        with self._lock:
            return session.client(service, region_name=region,
                                  endpoint_url=self._service_endpoint(service),
                                  config=CANARY_CONFIG if fail_fast else CONTROL_CONFIG)

    # -- capabilities and lifecycle ----------------------------------------------------------
    @property
    @abc.abstractmethod
    def capabilities(self) -> frozenset[str]:
        """The fault names (constants above) this target can inject."""

    def workload_unavailable(self, workload: str) -> str | None:
        """Why `workload` cannot run here at all (its service is missing on the endpoint), or
        None. Known after `prepare`; scenarios skip such a workload with this reason."""
        return None

    @abc.abstractmethod
    def prepare(self, inventory: dict[str, Any]) -> Deployment:
        """Make the target ready for `inventory` (the lab deploys it); return what to drive."""

    @abc.abstractmethod
    def reset(self) -> Deployment:
        """Fresh state before a scenario (the lab redeploys; real targets keep their state)."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release everything the target started. Idempotent."""

    def supervise(self, *, on_lost: Callable[[str], None] | None = None,
                  on_host_change: Callable[[dict[str, Any]], None] | None = None) -> None:
        """Crash safety hooks, set before `prepare`: `on_lost(why)` (from any thread) when what
        the target runs on died under the run; `on_host_change(host)` with the processes and
        directories it started on this host (run.json `host`, for `chaos recover`). A target
        that starts nothing here (LocalStack, AWS) never calls them."""
        self._on_lost = on_lost
        self._on_host_change = on_host_change

    # -- fault plumbing (each target implements what its capabilities promise) ---------------
    @abc.abstractmethod
    def apply_fault(self, spec: FaultSpec) -> dict[str, Any]:
        """Start the failure `spec` describes; return a handle that `remove_fault` undoes."""

    @abc.abstractmethod
    def remove_fault(self, handle: dict[str, Any]) -> None:
        """Undo `apply_fault`; tolerate a fault already gone (expired rule, stopped experiment)."""

    def file_service_url(self) -> str | None:
        """Base URL of the file service serving EFS file systems and EBS volumes to the canary
        (`<url><id>/<path>`), or None where the harness cannot reach file data (AWS)."""
        return None

    def file_service_headers(self) -> dict[str, str]:
        """Headers every file-service request carries (the lab's token)."""
        return {}

    def set_replication_paused(self, workload: str | None, paused: bool) -> None:
        raise NotImplementedError(f"{self.name} target cannot pause replication directly")

    def __enter__(self) -> "Target":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
