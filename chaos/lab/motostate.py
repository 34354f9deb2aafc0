"""The one place that reaches into moto's in-process backends.

The lab runs moto in its own process, so its emulations (replication, point-in-time logs, health
answers, endpoint rewriting) read and write moto's state directly instead of going through HTTP.
Keeping every such access here means a moto upgrade breaks one module, not six.
"""
from __future__ import annotations

from typing import Any

from moto.core import DEFAULT_ACCOUNT_ID

ACCOUNT_ID = DEFAULT_ACCOUNT_ID


def dynamodb_table(region: str, name: str) -> Any | None:
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends[ACCOUNT_ID][region].tables.get(name)


def s3_backend() -> Any:
    from moto.s3.models import s3_backends

    return s3_backends[ACCOUNT_ID]["aws"]


def s3_bucket(name: str) -> Any | None:
    return s3_backend().buckets.get(name)


def route53_backend() -> Any:
    from moto.route53.models import route53_backends

    return route53_backends[ACCOUNT_ID]["aws"]


def rds_instance(region: str, identifier: str) -> Any | None:
    from moto.rds.models import rds_backends

    return rds_backends[ACCOUNT_ID][region].databases.get(identifier)


def reset_all() -> None:
    """Drop every resource in every backend (moto's own `/moto-api/reset`)."""
    from moto.moto_api._internal.models import moto_api_backend

    moto_api_backend.reset()


def backup_backend(region: str) -> Any:
    from moto.backup.models import backup_backends

    return backup_backends[ACCOUNT_ID][region]


def cloudwatch_backend(region: str) -> Any:
    from moto.cloudwatch.models import cloudwatch_backends

    return cloudwatch_backends[ACCOUNT_ID][region]


def rds_backend(region: str) -> Any:
    from moto.rds.models import rds_backends

    return rds_backends[ACCOUNT_ID][region]
