"""Which resources an AWS Backup selection picks: its resource ARN patterns and tag conditions.

Shared by the policy pack (is every data store covered?) and the cost simulation (which plans
back up a workload?), so both read a selection exactly as AWS Backup does: a resource is selected
when its ARN matches one of `resources` (wildcards `*`) and every condition holds
(StringEquals / StringNotEquals on `aws:ResourceTag/<key>`).
Reference: https://docs.aws.amazon.com/aws-backup/latest/devguide/assigning-resources.html
(read 2026-11-30). Standard library only: the policy pack's own environment imports it.
"""
from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from typing import Any

TAG_PREFIX = "aws:ResourceTag/"


def _tag_key(condition: Mapping[str, Any]) -> str:
    key = str(condition.get("key", ""))
    return key[len(TAG_PREFIX):] if key.startswith(TAG_PREFIX) else key


def condition_holds(condition: Mapping[str, Any], tags: Mapping[str, str]) -> bool:
    """One `conditions` block: every StringEquals matches and no StringNotEquals does."""
    for match in condition.get("stringEquals") or []:
        if tags.get(_tag_key(match)) != match.get("value"):
            return False
    for match in condition.get("stringNotEquals") or []:
        if tags.get(_tag_key(match)) == match.get("value"):
            return False
    return True


def selects(selection: Mapping[str, Any], arn: str | None, tags: Mapping[str, str]) -> bool:
    """True when a selection (its inputs: `resources`, `conditions`) picks the resource."""
    if not arn:
        return False
    patterns: Iterable[str] = selection.get("resources") or []
    if not any(fnmatch.fnmatchcase(arn, pattern) for pattern in patterns):
        return False
    return all(condition_holds(c, tags) for c in selection.get("conditions") or [])
