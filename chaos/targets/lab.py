"""The embedded lab target (default): a `python -m chaos lab` child process on 127.0.0.1.

`prepare` starts the lab and deploys the inventory into it (`POST /_lab/deploy`); the lab answers
with the inventory carrying its real ids (hosted zone, health checks), which is what the harness
drives, exactly as it would drive a real `pulumi up`'s output. `reset` redeploys fresh state before
each scenario. `close` clears every fault rule and stops the lab (PostgreSQL included): the CLI
calls it in a `finally`, Ctrl-C included.
"""
from __future__ import annotations

from typing import Any

import boto3

from chaos.targets.base import (ACCIDENTAL_DELETION, AZ_OUTAGE, BACKUP_JOB_FAILURE, INSTANCE_FAILURE,
                                REGION_OUTAGE, REPLICATION_PAUSE, Deployment, Target)
from chaos.targets.chaos_api import ChaosApiFaults

class LabTarget(ChaosApiFaults, Target):
    name = "lab"
    scales_time = True  # the lab compresses AWS's durations by a time factor (chaos.lab.timing)
    has_file_service = True

    def __init__(self, *, replication_lag_seconds: float | None, time_factor: float,
                 profile: str = "mechanics") -> None:
        super().__init__(endpoint_url=None)
        self.replication_lag_seconds = replication_lag_seconds
        self.time_factor = time_factor
        self.profile = profile
        self._process: Any = None
        self.lab_client: Any = None
        self._reported = False  # run.json has been told of the lab process

    @property
    def capabilities(self) -> frozenset[str]:
        return frozenset({REGION_OUTAGE, AZ_OUTAGE, INSTANCE_FAILURE, REPLICATION_PAUSE,
                          ACCIDENTAL_DELETION, BACKUP_JOB_FAILURE})

    def _new_session(self, region: str) -> boto3.Session:
        # The lab's own keys, from its ready file: it refuses AWS requests signed with any other.
        if self._process is None or self._process.credentials is None:
            raise RuntimeError("the lab is not started; call start() first")
        return boto3.Session(region_name=region, **self._process.credentials.boto3)

    def file_service_url(self) -> str | None:
        return None if self.endpoint_url is None else f"{self.endpoint_url}/_lab/files/"

    def file_service_headers(self) -> dict[str, str]:
        from chaos.lab.auth import TOKEN_HEADER

        credentials = self._process.credentials if self._process is not None else None
        return {TOKEN_HEADER: credentials.token} if credentials is not None else {}

    def run_dlm(self, workload: str) -> list[dict[str, Any]]:
        """Fire the workload's DLM schedules now (the lab's DLM emulation, chaos/lab/ebs.py)."""
        return self.lab_client._call("POST", "/_lab/dlm/run", {"workload": workload})

    def spawn(self) -> None:
        """Start the lab process without waiting: it imports moto (~1 s) while the caller
        evaluates the stack and loads the report renderers. `start` waits for it."""
        from chaos.lab.process import LabProcess
        if self._process is None:
            report = self._on_host_change
            self._process = LabProcess(time_factor=self.time_factor,
                                       on_spawn=(lambda lab: report({"lab": lab})) if report else None)
            self._process.spawn()
            self._reported = report is not None

    def start(self) -> None:
        self.spawn()
        if self.lab_client is None:
            # Spawned early (before the engine attached its hooks)? run.json learns of it now.
            if not self._reported and self._on_host_change is not None:
                self._on_host_change({"lab": self._process.describe()})
                self._reported = True
            self._process.wait_ready()
            if self._on_lost is not None:
                self._process.watch(self._on_lost)
            self.endpoint_url = self._process.endpoint
            self.lab_client = self._process.client()

    def prepare(self, inventory: dict[str, Any]) -> Deployment:
        self.start()
        summary = self.lab_client.deploy(inventory,
                                         replication_lag_seconds=self.replication_lag_seconds,
                                         time_factor=self.time_factor, profile=self.profile)
        return _deployment(summary, inventory)

    def reset(self, time_factor: float | None = None) -> Deployment:
        """Fresh state; `time_factor` redeploys at another scale (a scenario wave's own)."""
        if time_factor is not None:
            self.time_factor = time_factor
        summary = self.lab_client.reset(time_factor=time_factor)
        return _deployment(summary, None)

    def close(self) -> None:
        process, self._process = self._process, None
        client, self.lab_client = self.lab_client, None
        if process is None:
            return
        try:
            if client is not None:
                client.clear_faults()
        except Exception:  # a dead lab has no faults left to clear; stopping it is what matters
            pass
        finally:
            process.stop()


def _deployment(summary: dict[str, Any], fallback_inventory: dict[str, Any] | None) -> Deployment:
    inventory = summary.get("inventory") or fallback_inventory
    if inventory is None:
        raise RuntimeError("the lab's deploy summary carries no inventory")
    return Deployment(inventory=inventory,
                      summary={k: v for k, v in summary.items() if k != "inventory"})
