"""Lambda handler: repoint a data store's private record at this Region's writer.

The Region switch plan's `CustomActionLambda` step after `RdsPromoteReadReplica` (ARC runs the
function of the Region it activates: one function per Region, each configured with its own
Region's DB address). It UPSERTs the record and returns once Route 53 reports the change
`INSYNC`, so the plan's traffic step starts only when writers resolve the promoted instance.

This file is the whole deployment package (standard library and boto3, which the Lambda Python
runtime provides). The lab runs the same `repoint` function against its own Route 53
(chaos/lab/region_switch.py), so the step the game day measures is this code.
"""
from __future__ import annotations

import os
import time
from typing import Any

SOURCE_ID = "infra/functions/repoint_record.py"
"""How the inventory names this code on a `lambda-function` step resource (the lab runs it by this name)."""
# Environment variables the program sets on each Region's function (infra/components/recovery_plan.py).
ENV_KEYS = ("ZONE_ID", "RECORD_NAME", "RECORD_TYPE", "RECORD_TTL", "RECORD_VALUE")
POLL_SECONDS = 2.0
# Leave the function this much of its own timeout to return an error instead of being killed.
MARGIN_SECONDS = 5.0


def repoint(route53: Any, env: dict[str, str], *, deadline: float, poll_seconds: float = POLL_SECONDS,
            sleep: Any = time.sleep, clock: Any = time.time) -> dict[str, str]:
    """UPSERT the record to `RECORD_VALUE`, then wait for INSYNC until `deadline` (epoch seconds)."""
    missing = [key for key in ENV_KEYS if not env.get(key)]
    if missing:
        raise ValueError(f"repoint_record: environment variable(s) {', '.join(missing)} not set; "
                         "the program sets them on the function")
    change = route53.change_resource_record_sets(
        HostedZoneId=env["ZONE_ID"],
        ChangeBatch={"Comment": "ARC Region switch: writer moved to the activated Region",
                     "Changes": [{"Action": "UPSERT", "ResourceRecordSet": {
                         "Name": env["RECORD_NAME"], "Type": env["RECORD_TYPE"], "TTL": int(env["RECORD_TTL"]),
                         "ResourceRecords": [{"Value": env["RECORD_VALUE"]}]}}]})
    change_id = change["ChangeInfo"]["Id"]
    status = change["ChangeInfo"]["Status"]
    while status != "INSYNC":
        if clock() + poll_seconds > deadline:
            raise TimeoutError(f"repoint_record: change {change_id} of {env['RECORD_NAME']} still {status}")
        sleep(poll_seconds)
        status = route53.get_change(Id=change_id)["ChangeInfo"]["Status"]
    return {"record": env["RECORD_NAME"], "value": env["RECORD_VALUE"], "change_id": change_id}


def handler(event: dict[str, Any], context: Any) -> dict[str, str]:
    """Lambda entry point; Region switch adds its execution metadata to `event` (unused here)."""
    import boto3  # provided by the Lambda runtime; imported here so the lab needs no Lambda environment

    deadline = time.time() + context.get_remaining_time_in_millis() / 1000.0 - MARGIN_SECONDS
    return repoint(boto3.client("route53"), dict(os.environ), deadline=deadline)
