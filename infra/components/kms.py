"""The customer-managed KMS key every encrypted store in this program uses, one per region.

Not a component: a key belongs to the component whose data it encrypts (its parent in `opts`).
"""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_aws as aws


def regional_key(name: str, purpose: str, tags: Mapping[str, str], opts: pulumi.ResourceOptions) -> aws.kms.Key:
    """A symmetric key with yearly rotation; `opts` carries the parent and the region's provider.

    The default key policy (account root) lets IAM policies grant use, which is how the
    replication and export roles get exactly the key actions they need.
    """
    return aws.kms.Key(
        name,
        description=f"securecart-dr: {purpose}",
        enable_key_rotation=True,
        deletion_window_in_days=30,  # the longest window: a mistaken deletion can be cancelled
        tags=dict(tags),
        opts=opts,
    )
