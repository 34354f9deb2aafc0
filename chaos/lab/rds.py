"""RDS control-plane calls that must reach the PostgreSQL data plane, and endpoints that point at it.

moto keeps the RDS metadata (it handles the call first); then the data plane acts: a forced-failover
reboot promotes the synchronous standby, PromoteReadReplica promotes the cross-region replica,
RestoreDBInstanceToPointInTime replays the WAL archive into a new instance, Stop/Delete stop the
processes. Every answer that describes instances gets `Endpoint.Address` 127.0.0.1 and the live port,
so a client connects to the real PostgreSQL process behind the identifier.
"""
from __future__ import annotations

import re
from datetime import datetime
from typing import Protocol

from chaos.lab import motostate
from chaos.lab.awsrequest import AwsRequest

DATA_PLANE_OPERATIONS = frozenset({"RebootDBInstance", "PromoteReadReplica",
                                   "RestoreDBInstanceToPointInTime", "StopDBInstance",
                                   "StartDBInstance", "DeleteDBInstance"})
ENDPOINT_OPERATIONS = frozenset({"DescribeDBInstances", "CreateDBInstance",
                                 "CreateDBInstanceReadReplica", "ModifyDBInstance"}) | DATA_PLANE_OPERATIONS

_INSTANCE_BLOCK = re.compile(r"<DBInstance>.*?</DBInstance>", re.S)
_IDENTIFIER = re.compile(r"<DBInstanceIdentifier>([^<]+)</DBInstanceIdentifier>")
_ENDPOINT = re.compile(r"<Endpoint>.*?</Endpoint>", re.S)


class DataPlane(Protocol):
    """The part of H4's PostgresDataPlane the RDS hooks call (docs/ARCHITECTURE.md)."""

    def endpoint(self, identifier: str) -> tuple[str, int] | None: ...
    def on_reboot(self, identifier: str, force_failover: bool) -> None: ...
    def on_promote(self, identifier: str) -> None: ...
    def on_restore_to_point_in_time(self, source_identifier: str, target_identifier: str,
                                    restore_time: float | None, use_latest: bool) -> None: ...
    def on_stop(self, identifier: str) -> None: ...
    def on_start(self, identifier: str) -> None: ...
    def on_delete(self, identifier: str) -> None: ...


def forget_replica_source(request: AwsRequest) -> None:
    """A promoted instance is a standalone writer: AWS stops reporting ReadReplicaSourceDBInstanceIdentifier
    (moto keeps it), which is what a Region switch RdsPromoteReadReplica step waits for."""
    instance = motostate.rds_instance(request.region, request.param("DBInstanceIdentifier") or "")
    if instance is not None and not instance.is_replica:
        instance.source_db_instance_identifier = None


def act_on_data_plane(request: AwsRequest, data_plane: DataPlane) -> None:
    """Run the data-plane side of a control-plane call moto has just accepted."""
    op = request.operation
    identifier = request.param("DBInstanceIdentifier") or ""
    if op == "RebootDBInstance":
        data_plane.on_reboot(identifier, (request.param("ForceFailover") or "").lower() == "true")
    elif op == "PromoteReadReplica":
        data_plane.on_promote(identifier)
    elif op == "RestoreDBInstanceToPointInTime":
        raw_time = request.param("RestoreTime")
        data_plane.on_restore_to_point_in_time(
            request.param("SourceDBInstanceIdentifier") or _arn_name(request.param("SourceDBInstanceAutomatedBackupsArn")),
            request.param("TargetDBInstanceIdentifier") or "",
            _parse_time(raw_time) if raw_time else None,
            (request.param("UseLatestRestorableTime") or "").lower() == "true")
    elif op == "StopDBInstance":
        data_plane.on_stop(identifier)
    elif op == "StartDBInstance":
        data_plane.on_start(identifier)
    elif op == "DeleteDBInstance":
        data_plane.on_delete(identifier)


def rewrite_endpoints(body: bytes, data_plane: DataPlane) -> bytes:
    """Point every `<DBInstance>` of a query-protocol answer at its live PostgreSQL process."""
    text = body.decode("utf-8")

    def rewrite(block: re.Match[str]) -> str:
        found = _IDENTIFIER.search(block.group(0))
        live = data_plane.endpoint(found.group(1)) if found else None
        if live is None:
            return block.group(0)
        host, port = live
        endpoint = f"<Endpoint><Address>{host}</Address><Port>{port}</Port></Endpoint>"
        if _ENDPOINT.search(block.group(0)):
            return _ENDPOINT.sub(endpoint, block.group(0), count=1)
        return block.group(0).replace("</DBInstance>", endpoint + "</DBInstance>")

    return _INSTANCE_BLOCK.sub(rewrite, text).encode("utf-8")


def _parse_time(raw: str) -> float:
    return datetime.fromisoformat(raw.replace("Z", "+00:00")).timestamp()


def _arn_name(arn: str | None) -> str:
    return (arn or "").rsplit(":", 1)[-1]
