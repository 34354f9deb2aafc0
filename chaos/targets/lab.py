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

from chaos.targets.base import (ACCIDENTAL_DELETION, AZ_OUTAGE, INSTANCE_FAILURE, REGION_OUTAGE,
                                REPLICATION_PAUSE, Deployment, Target)
from chaos.targets.chaos_api import ChaosApiFaults

class LabTarget(ChaosApiFaults, Target):
    name = "lab"

    def __init__(self, *, replication_lag_seconds: float | None, time_factor: float) -> None:
        super().__init__(endpoint_url=None)
        self.replication_lag_seconds = replication_lag_seconds
        self.time_factor = time_factor
        self._process: Any = None
        self.lab_client: Any = None

    @property
    def capabilities(self) -> frozenset[str]:
        return frozenset({REGION_OUTAGE, AZ_OUTAGE, INSTANCE_FAILURE, REPLICATION_PAUSE,
                          ACCIDENTAL_DELETION})

    def _new_session(self, region: str) -> boto3.Session:
        # The lab's own keys, from its ready file: it refuses AWS requests signed with any other.
        if self._process is None or self._process.credentials is None:
            raise RuntimeError("the lab is not started; call start() first")
        return boto3.Session(region_name=region, **self._process.credentials.boto3)

    def start(self) -> None:
        from chaos.lab.process import LabProcess  # the lab is heavy: import on use
        if self._process is None:
            self._process = LabProcess(time_factor=self.time_factor)
            self._process.start()
            self.endpoint_url = self._process.endpoint
            self.lab_client = self._process.client()

    def prepare(self, inventory: dict[str, Any]) -> Deployment:
        self.start()
        summary = self.lab_client.deploy(inventory,
                                         replication_lag_seconds=self.replication_lag_seconds,
                                         time_factor=self.time_factor)
        return _deployment(summary, inventory)

    def reset(self) -> Deployment:
        summary = self.lab_client.reset()
        return _deployment(summary, None)

    def close(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        try:
            if self.lab_client is not None:
                self.lab_client.clear_faults()
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
