"""DynamoDB RestoreTableToPointInTime through the lab really returns the table as it was then."""
from __future__ import annotations

import time

import pytest
from botocore.exceptions import ClientError

from tests.lab._lab_fixtures import PRIMARY, client, deployed_lab


@pytest.fixture(scope="module")
def lab_server():
    with deployed_lab() as (server, lab, summary):
        yield server.endpoint, lab


@pytest.fixture()
def ddb(lab_server):
    lab_server[1].reset()
    return client(lab_server[0], "dynamodb", PRIMARY)


def put(ddb, pk: str, value: str) -> None:
    ddb.put_item(TableName="catalog", Item={"pk": {"S": pk}, "sk": {"S": "s"}, "value": {"S": value}})


def items(ddb, table: str) -> dict[str, str]:
    return {i["pk"]["S"]: i["value"]["S"] for i in ddb.scan(TableName=table)["Items"]}


def test_restore_to_a_time_excludes_later_writes_and_keeps_earlier_values(ddb):
    put(ddb, "kept", "original")
    put(ddb, "deleted-later", "x")
    time.sleep(0.05)
    restore_point = time.time()
    time.sleep(0.05)
    put(ddb, "written-after", "must not come back")
    put(ddb, "kept", "changed after")
    ddb.delete_item(TableName="catalog", Key={"pk": {"S": "deleted-later"}, "sk": {"S": "s"}})

    reply = ddb.restore_table_to_point_in_time(SourceTableName="catalog", TargetTableName="catalog-restored",
                                               RestoreDateTime=restore_point)

    assert reply["TableDescription"]["TableName"] == "catalog-restored"
    assert items(ddb, "catalog-restored") == {"kept": "original", "deleted-later": "x"}
    assert ddb.describe_table(TableName="catalog-restored")["Table"]["KeySchema"] == \
        ddb.describe_table(TableName="catalog")["Table"]["KeySchema"]


def test_restore_to_latest_returns_everything(ddb):
    put(ddb, "a", "1")
    put(ddb, "b", "2")
    ddb.restore_table_to_point_in_time(SourceTableName="catalog", TargetTableName="catalog-latest",
                                       UseLatestRestorableTime=True)
    assert items(ddb, "catalog-latest") == {"a": "1", "b": "2"}


def test_restore_before_recovery_was_enabled_is_refused(ddb):
    with pytest.raises(ClientError) as raised:
        ddb.restore_table_to_point_in_time(SourceTableName="catalog", TargetTableName="too-early",
                                           RestoreDateTime=time.time() - 3600)
    assert raised.value.response["Error"]["Code"] == "InvalidRestoreTimeException"


def test_restore_of_a_table_without_pitr_is_refused(ddb):
    ddb.create_table(TableName="no-pitr", BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
    with pytest.raises(ClientError) as raised:
        ddb.restore_table_to_point_in_time(SourceTableName="no-pitr", TargetTableName="no-pitr-restored",
                                           UseLatestRestorableTime=True)
    assert raised.value.response["Error"]["Code"] == "PointInTimeRecoveryUnavailableException"


def test_enabling_pitr_at_runtime_starts_the_log_from_the_current_items(ddb):
    ddb.create_table(TableName="late", BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
    ddb.put_item(TableName="late", Item={"pk": {"S": "before"}})
    ddb.update_continuous_backups(TableName="late",
                                  PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    time.sleep(0.05)
    restore_point = time.time()
    time.sleep(0.05)
    ddb.put_item(TableName="late", Item={"pk": {"S": "after"}})

    ddb.restore_table_to_point_in_time(SourceTableName="late", TargetTableName="late-restored",
                                       RestoreDateTime=restore_point)
    assert [i["pk"]["S"] for i in ddb.scan(TableName="late-restored")["Items"]] == ["before"]
