"""The one place that reaches into moto's in-process backends.

The lab runs moto in its own process, so its emulations (replication, point-in-time logs, health
answers, endpoint rewriting) read and write moto's state directly instead of going through HTTP.
Keeping every such access here means a moto upgrade breaks one module, not six.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from moto.core import DEFAULT_ACCOUNT_ID

ACCOUNT_ID = DEFAULT_ACCOUNT_ID
# The one machine image the lab's EC2 parts launch (chaos.lab.deploy looks up `amzn-ami-hvm-*`),
# copied from moto's own default list.
LAB_IMAGES = Path(__file__).with_name("amis.json")


def use_lab_images() -> bool:
    """Have moto's EC2 backends load only the lab's image (MOTO_AMIS_PATH, read when moto's EC2
    models are first imported; False when that already happened in this process).

    Why: by default every EC2 region backend loads ~1,300 images, each with a snapshot and a
    volume, from moto's resource files. A reset rebuilds the backends, so every deploy decoded
    that JSON again and left ~8,000 more objects per region for the garbage collector to walk.
    The lab never lists images beyond the one it launches."""
    if "moto.ec2.models.amis" in sys.modules:
        return False
    os.environ.setdefault("MOTO_AMIS_PATH", str(LAB_IMAGES))
    return True


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
    """Drop every resource in every backend: moto's own `/moto-api/reset`, without two of its
    costs (moto 5.2.5, `BackendDict.reset`):

    - it re-initialises every region backend and then drops it (the next request builds a new
      one): only the backends with their own `reset` (S3 closes its keys' temporary files) need
      the call;
    - `AccountSpecificBackend._generate_regions` is an `lru_cache` on a method, which keeps up to
      128 dropped account backends alive, each with its region backends (moto issue 6592): a
      reset clears it, so a deployment's resources go when the next deploy replaces them.
    """
    from moto.core.base_backend import AccountSpecificBackend, BackendDict, BaseBackend, backend_lock
    from moto.core.model_instances import reset_model_data

    with backend_lock:
        for backend_dict in BackendDict._instances:
            for account_backend in backend_dict.values():
                for region_backend in account_backend.values():
                    if type(region_backend).reset is not BaseBackend.reset:
                        region_backend.reset()
            backend_dict.clear()
        BackendDict._instances.clear()
    AccountSpecificBackend._generate_regions.cache_clear()
    reset_model_data()


def backup_backend(region: str) -> Any:
    from moto.backup.models import backup_backends

    return backup_backends[ACCOUNT_ID][region]


def cloudwatch_backend(region: str) -> Any:
    from moto.cloudwatch.models import cloudwatch_backends

    return cloudwatch_backends[ACCOUNT_ID][region]


def rds_backend(region: str) -> Any:
    from moto.rds.models import rds_backends

    return rds_backends[ACCOUNT_ID][region]
