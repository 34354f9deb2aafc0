"""DynamoDB: a recovery point is a full table export (every item, typed JSON), as AWS Backup's
DynamoDB backups are full copies; a restore creates a new table (`targetTableName`) and loads it."""
from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from chaos.lab.backup.providers import (
    ACCOUNT_ID, ProviderBase, RecoveryPointData, Snapshot, arn_name, arn_region, register_provider,
)

EXPORT_FILE = "items.jsonl"
SCHEMA_FILE = "table.json"


class DynamoDbBackup(ProviderBase):
    resource_type = "DynamoDB"

    def resources(self, workload: str, spec: dict[str, Any]) -> list[str]:
        table = (spec.get("stores") or {}).get("table") or {}
        if not table.get("name") or not table.get("region"):
            return []
        return [table_arn(table["region"], table["name"])]

    def snapshot(self, resource_arn: str, dest: Path) -> Snapshot:
        region, name = arn_region(resource_arn), arn_name(resource_arn)
        client = self.services.client("dynamodb", region)
        table = client.describe_table(TableName=name)["Table"]
        schema = {"KeySchema": table["KeySchema"], "AttributeDefinitions": table["AttributeDefinitions"]}
        (dest / SCHEMA_FILE).write_text(json.dumps(schema))
        count = 0
        with (dest / EXPORT_FILE).open("w") as out:
            for page in client.get_paginator("scan").paginate(TableName=name, ConsistentRead=True):
                for item in page.get("Items", []):
                    out.write(json.dumps(item) + "\n")
                    count += 1
        size = sum(f.stat().st_size for f in dest.iterdir())
        return Snapshot(size, {"tableName": name, "itemCount": str(count)})

    def restore(self, point: RecoveryPointData, region: str, metadata: dict[str, str]) -> str:
        target = metadata.get("targetTableName") or f"{arn_name(point.resource_arn)}-restored-{uuid.uuid4().hex[:6]}"
        schema = json.loads((point.path / SCHEMA_FILE).read_text())
        client = self.services.client("dynamodb", region)
        client.create_table(TableName=target, BillingMode="PAY_PER_REQUEST", **schema)
        batch: list[dict[str, Any]] = []
        with (point.path / EXPORT_FILE).open() as items:
            for line in items:
                batch.append({"PutRequest": {"Item": json.loads(line)}})
                if len(batch) == 25:  # BatchWriteItem's limit
                    client.batch_write_item(RequestItems={target: batch})
                    batch = []
        if batch:
            client.batch_write_item(RequestItems={target: batch})
        return table_arn(region, target)

    def delete(self, resource_arn: str) -> None:
        self.services.client("dynamodb", arn_region(resource_arn)).delete_table(TableName=arn_name(resource_arn))


def table_arn(region: str, name: str) -> str:
    return f"arn:aws:dynamodb:{region}:{ACCOUNT_ID}:table/{name}"


register_provider("DynamoDB", DynamoDbBackup)
