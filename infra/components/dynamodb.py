"""DynamoDB workloads (catalog, sessions): one table, a global-table replica where the strategy wants one.

The table is on-demand with key `pk`/`sk`, point-in-time recovery with a configurable recovery
period, deletion protection, a NEW_AND_OLD_IMAGES stream and SSE with a customer-managed key.
Replicas use global tables version 2019.11.21 (the table's `replicas` argument): each replica is
encrypted with its own region's key and keeps PITR and deletion protection. A replica's PITR is a
boolean in pulumi-aws 7.51.1 (`TableReplicaArgs.point_in_time_recovery`): it gets AWS's default
recovery period (35 days), not `pitr_recovery_period_days`, which only the table's own
`point_in_time_recovery` block takes (docs/config.md says so; the inventory reports 35). With
``consistency="strong"`` the global table is multi-Region strongly consistent (MRSC: a write is
acknowledged once another region has it, RPO 0): AWS needs three replicas or two plus a witness
region in the same Region set, so the single DR replica is STRONG and ``witness_region`` is
declared as the table's witness (validated in `infra.config`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from infra.components.kms import regional_key

HASH_KEY = "pk"
RANGE_KEY = "sk"


@dataclass
class GlobalTableArgs:
    """Inputs of one DynamoDB workload."""

    workload: str
    """Workload name, used in names and tags."""
    table_name: str
    """Physical table name (the same in every replica region)."""
    primary_region: str
    """Region of the table the application writes to first."""
    replica_regions: Sequence[str]
    """Global-table replica regions; empty when the strategy keeps no replica."""
    providers: Mapping[str, aws.Provider]
    """One provider per region name; must contain the primary and every replica region."""
    pitr_recovery_period_days: int
    """Point-in-time recovery window, 1..35 days."""
    consistency: str = "eventual"
    """``eventual`` (MREC, asynchronous) or ``strong`` (MRSC, needs ``witness_region``)."""
    witness_region: str | None = None
    """MRSC witness region (a third region of the replicas' Region set)."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags for every taggable child; include ``backup-tier`` so AWS Backup selects the table."""


class GlobalTable(pulumi.ComponentResource):
    """A DynamoDB table and its global-table replicas."""

    keys: dict[str, aws.kms.Key]  # region -> table key
    table: aws.dynamodb.Table
    replica_regions: list[str]
    consistency: str  # eventual | strong
    witness_region: str | None

    def __init__(self, name: str, args: GlobalTableArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("securecart:dynamodb:GlobalTable", name, None, opts)
        if args.consistency == "strong" and (len(args.replica_regions) != 1 or not args.witness_region):
            raise ValueError(f"{args.workload}: MRSC is declared here as one STRONG replica plus a witness region")
        self.replica_regions = list(args.replica_regions)
        self.consistency = args.consistency
        self.witness_region = args.witness_region if args.consistency == "strong" else None
        self.keys = {
            region: regional_key(
                f"{name}-kms-{region}",
                f"{args.workload} table in {region}",
                args.tags,
                pulumi.ResourceOptions(parent=self, provider=args.providers[region]),
            )
            for region in [args.primary_region, *self.replica_regions]
        }
        self.table = aws.dynamodb.Table(
            f"{name}-table",
            name=args.table_name,
            billing_mode="PAY_PER_REQUEST",
            hash_key=HASH_KEY,
            range_key=RANGE_KEY,
            attributes=[
                aws.dynamodb.TableAttributeArgs(name=HASH_KEY, type="S"),
                aws.dynamodb.TableAttributeArgs(name=RANGE_KEY, type="S"),
            ],
            point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(
                enabled=True, recovery_period_in_days=args.pitr_recovery_period_days
            ),
            deletion_protection_enabled=True,
            # Global tables need the stream; NEW_AND_OLD_IMAGES also lets consumers audit changes.
            stream_enabled=True,
            stream_view_type="NEW_AND_OLD_IMAGES",
            server_side_encryption=aws.dynamodb.TableServerSideEncryptionArgs(
                enabled=True, kms_key_arn=self.keys[args.primary_region].arn
            ),
            replicas=[
                aws.dynamodb.TableReplicaArgs(
                    region_name=region,
                    kms_key_arn=self.keys[region].arn,
                    point_in_time_recovery=True,
                    deletion_protection_enabled=True,
                    propagate_tags=True,
                    consistency_mode="STRONG" if args.consistency == "strong" else None,
                )
                for region in self.replica_regions
            ],
            global_table_witness=(aws.dynamodb.TableGlobalTableWitnessArgs(region_name=args.witness_region)
                                  if args.consistency == "strong" else None),
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self, provider=args.providers[args.primary_region]),
        )
        self.register_outputs({"table_name": self.table.name, "table_arn": self.table.arn})
