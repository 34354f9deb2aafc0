"""The price table: every figure the cost estimate uses, with its source page and the date read.

Prices are on-demand list prices for US East (N. Virginia), us-east-1. The shipped stacks use
us-east-1 and us-west-2 (US West, Oregon). Each line says which regions its figure holds for
(`regions`):
- lines added with a region-specific source name the regions that source covers; a line whose source
  gave only us-east-1 is NOT used for us-west-2 (that quantity is reported unpriced there);
- the older lines (default `regions`) take AWS's us-west-2 price to equal its us-east-1 price: no
  source read here gave a us-west-2 figure that differs, but not every line's us-west-2 figure has
  been read either.
A region listed in REGIONAL_OVERRIDES takes its own figure.

AWS's own pricing pages render their tables with JavaScript, so the stored copies read here often
lack the numbers; where they did, a page that quotes AWS's page (and says so) is the source, named
as such. No figure here is invented: each one can be checked at its `source`. Where two sources
disagree, `note` says so and which one is used.
"""
from __future__ import annotations

from dataclasses import dataclass

READ_ON = "2026-11-30"
PRICED_REGIONS = ("us-east-1", "us-west-2")
US_EAST_1_ONLY = ("us-east-1",)


@dataclass(frozen=True)
class Price:
    usd: float
    unit: str  # what one `usd` buys: "GB-month", "GB", "hour", "1000 requests", "million units", "month"
    source: str
    note: str = ""
    read_on: str = READ_ON
    # The regions this figure holds for. The default is the premise stated in the module docstring
    # (us-west-2 = us-east-1); a line whose source names its region(s) says so here.
    regions: tuple[str, ...] = PRICED_REGIONS


_BACKUP = "https://aws.amazon.com/backup/pricing/"
_BACKUP_QUOTED = "https://cloudburn.io/blog/aws-backup-pricing (quotes " + _BACKUP + ")"
_BACKUP_FM = "https://www.factualminds.com/blog/aws-backup-pricing-vaults-cross-region-restores/"
_S3_TABLE = "https://awsnegotiations.com/s3-storage.html (table of us-east-1 rates from https://aws.amazon.com/s3/pricing/)"
_ROUTE53 = ("https://github.com/api-evangelist/amazon-route53-resolver/blob/main/plans/"
            "amazon-route53-resolver-plans-pricing.yml (verbatim from https://aws.amazon.com/route53/pricing/, "
            "captured 2026-09-20)")
_RDS_USAGE = "https://www.usage.ai/blogs/aws/reserved-instances/rds/pricing-calculator/ (quotes https://aws.amazon.com/rds/pricing/)"
# S3 pricing page, "Management & Replication" section, read in a verbatim plain-text copy of that
# section held in the public code index (file id 35877029703; the index does not name its
# repository). The page's own wording: "S3 Replication Time Control data transfer | $0.015 per GB"
# and "Amazon S3 Replication Time Control Data Transfer pricing is the same in all AWS Regions".
_S3_RTC = ("https://aws.amazon.com/s3/pricing/ (Replication: 'S3 Replication Time Control data transfer "
           "$0.015 per GB', 'the same in all AWS Regions'; read in a verbatim copy of that section)")
# Lifecycle transition requests, per 1,000, US East (N. Virginia). No stored copy of the S3 pricing
# page's request table has its numbers (they render with JavaScript), so these are pages quoting it.
_S3_IA_TRANSITION = ("https://github.com/SaimShaikh/Cloud_Computing/blob/00d8ff44d670754d3e4904ba50defc21d018381a/"
                     "AWS/AWS_S3/AWS_S3_Pricing.md (us-east-1, 'Lifecycle transition requests: $0.01' per "
                     "1,000, '(to the target class; some classes differ)'; 'Last verified: August 29, 2025'; "
                     "quotes https://aws.amazon.com/s3/pricing/)")
_S3_GLACIER_REQUESTS = ("https://gist.github.com/regispires/d3604636ec0e8d0d3ecab41f009f3d1c (US East (N. "
                        "Virginia) request prices per 1,000: 'S3 Glacier | 0.03', 'S3 Deep Glacier | 0.05')")
_TRANSITION_NOTE = ("; the gist's Glacier figures are its PUT-request column; a transcription of the S3 "
                    "pricing page's own 'Lifecycle Transition requests into' row (public code index file id "
                    "2488587026, repository not named by the index) gives the same $0.01 Standard-IA / $0.03 "
                    "Glacier Flexible Retrieval / $0.05 Deep Archive per 1,000 in US East. us-east-1 only: no "
                    "us-west-2 figure was found, so us-west-2 transitions stay unpriced")

PRICES: dict[str, Price] = {
    # --- AWS Backup storage (warm) per resource type, and cold storage -----------------------
    "backup.warm.efs": Price(0.05, "GB-month", _BACKUP_FM, "EFS backup warm storage"),
    "backup.warm.s3": Price(0.05, "GB-month", _BACKUP_QUOTED,
                            "warm backup storage ($0.05/GB-month in us-east-1)"),
    "backup.warm.ebs": Price(0.05, "GB-month", _BACKUP_QUOTED,
                             "warm backup storage ($0.05/GB-month in us-east-1)"),
    "backup.warm.dynamodb": Price(0.10, "GB-month", _BACKUP_FM, "DynamoDB on-demand backup, warm"),
    "backup.warm.rds": Price(0.095, "GB-month", _RDS_USAGE,
                             "RDS snapshot (backup) storage beyond the free allowance"),
    "backup.cold": Price(0.01, "GB-month", _BACKUP_QUOTED,
                         "cold storage; factualminds.com quotes $0.0125: the official-page quote "
                         "is used"),
    "backup.continuous.dynamodb": Price(0.20, "GB-month", _BACKUP_FM,
                                        "DynamoDB continuous backup (PITR)"),
    # --- S3 storage classes -----------------------------------------------------------------
    "s3.STANDARD": Price(0.023, "GB-month", _S3_TABLE),
    "s3.STANDARD_IA": Price(0.0125, "GB-month", _S3_TABLE),
    "s3.GLACIER_IR": Price(0.004, "GB-month", _S3_TABLE),
    "s3.GLACIER": Price(0.0036, "GB-month", _S3_TABLE, "Glacier Flexible Retrieval"),
    "s3.DEEP_ARCHIVE": Price(0.00099, "GB-month", _S3_TABLE),
    "s3.retrieval.GLACIER.standard": Price(
        0.01, "GB", "https://repost.aws/knowledge-center/s3-manage-data-retrieval",
        "standard retrieval, per GB (worked example on the page)"),
    "s3.retrieval_requests.GLACIER.standard": Price(
        0.05, "1000 requests", "https://repost.aws/knowledge-center/s3-manage-data-retrieval"),
    # --- S3 lifecycle transition requests (one request per object moved) ---------------------
    "s3.transition.STANDARD_IA": Price(
        0.01, "1000 requests", _S3_IA_TRANSITION, "lifecycle transition into Standard-IA" + _TRANSITION_NOTE,
        regions=US_EAST_1_ONLY),
    "s3.transition.GLACIER": Price(
        0.03, "1000 requests", _S3_GLACIER_REQUESTS,
        "lifecycle transition into Glacier Flexible Retrieval" + _TRANSITION_NOTE, regions=US_EAST_1_ONLY),
    "s3.transition.DEEP_ARCHIVE": Price(
        0.05, "1000 requests", _S3_GLACIER_REQUESTS,
        "lifecycle transition into Glacier Deep Archive" + _TRANSITION_NOTE, regions=US_EAST_1_ONLY),
    # --- S3 Replication Time Control ------------------------------------------------------------
    "s3.rtc": Price(
        0.015, "GB", _S3_RTC,
        "RTC data transfer per GB replicated with RTC, on top of the inter-region transfer; AWS states "
        "the same price in all AWS Regions, so it holds for both", regions=PRICED_REGIONS),
    # --- Transfer between regions (copies, replication) -------------------------------------
    "transfer.inter_region": Price(0.02, "GB", _BACKUP_FM,
                                   "cross-region copy transfer; the same $0.02/GB is quoted for S3 "
                                   "CRR by https://awsnegotiations.com/s3-replication-cost-strategy"),
    # --- RDS ---------------------------------------------------------------------------------
    "rds.instance.db.t4g.medium": Price(
        0.065, "hour", "https://infratally.com/articles/aws-rds-pricing-explained-2026.html",
        "PostgreSQL Single-AZ on-demand; Multi-AZ is exactly double"),
    "rds.instance.db.t4g.micro": Price(
        0.016, "hour", "https://infratally.com/articles/aws-rds-pricing-explained-2026.html",
        "PostgreSQL Single-AZ on-demand, us-east-1 table on the page; a Multi-AZ standby is a second "
        "instance at the same rate"),
    "rds.storage.gp3": Price(0.115, "GB-month", _RDS_USAGE, "gp3, Single-AZ; Multi-AZ bills the "
                             "standby's storage too"),
    "rds.backup_storage": Price(0.095, "GB-month", _RDS_USAGE,
                                "beyond 100 % of provisioned storage, which is free"),
    # --- DynamoDB ----------------------------------------------------------------------------
    "dynamodb.pitr": Price(0.20, "GB-month", _BACKUP_FM, "continuous backup (PITR)"),
    "dynamodb.storage": Price(
        0.25, "GB-month", "https://aws.amazon.com/dynamodb/pricing/ (stored copy of AWS's page)",
        "table storage, Standard table class: 'The first 25 GB consumed per month is free, and prices "
        "start from $0.25 per GB-month thereafter'; the free 25 GB is not deducted here"),
    "dynamodb.replicated_write": Price(
        0.625, "million units",
        "https://airbyte.com/data-engineering-resources/dynamodb-pricing (on-demand write request units, "
        "US East, after the November 2024 reduction) and "
        "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/global-tables-billing.html "
        "(replicated write units are priced the same as write units)",
        "on-demand replicated write request unit: one per KB written, per replica region"),
    # --- EBS and EC2 ---------------------------------------------------------------------
    "ebs.gp3": Price(
        0.08, "GB-month", "https://cloud-bench.com/blog/aws-free-tier-ec2",
        "gp3 volume storage, '~$0.08/GB/month' (us-east-1 list price quoted on the page); the baseline "
        "3,000 IOPS and 125 MB/s are included"),
    "ebs.snapshot": Price(
        0.05, "GB-month", "https://cloud-bench.com/blog/aws-free-tier-ec2",
        "EBS snapshot storage, '~$0.05/GB/month' (the default, standard tier; the page names no tier)"),
    "ec2.instance.t3.micro": Price(
        0.0104, "hour",
        "https://jefferson-rios.medium.com/aws-pricing-model-and-free-tier-41d0e8c91e08 (quotes the AWS "
        "EC2 On-Demand pricing list)",
        "Linux on-demand, US East; the page is from 2020, and the AWS Price List API's description "
        "'$0.0104 per On Demand Linux t3.micro Instance Hour' is quoted unchanged in 2026 code read here"),
    "ec2.instance.m6i.large": Price(
        0.096, "hour",
        "https://github.com/aws/karpenter-provider-aws/blob/6fc13b5236fd04fd16ff3f9dc7490d0813994099/pkg/providers/"
        "pricing/zz_generated.pricing_aws.go (Karpenter's on-demand price table, generated from the AWS Price "
        "List API 'at 2026-07-20T13:44:30Z for us-east-1': Linux, shared tenancy)",
        "Linux on-demand, us-east-1 only: that file holds no us-west-2 prices (none of its 37 versions "
        "does), and no other source read gave one, so the DR fleet's us-west-2 hours stay unpriced",
        regions=US_EAST_1_ONLY),  # effective 2026-07-20 (in the source)
    # --- Route 53 ----------------------------------------------------------------------------
    "route53.health_check.aws_endpoint": Price(0.50, "month", _ROUTE53, "basic health check, AWS endpoint"),
    "route53.health_check.other_endpoint": Price(0.75, "month", _ROUTE53, "basic health check, non-AWS endpoint"),
    "route53.health_check.aws_endpoint.optional_feature": Price(
        1.00, "month", _ROUTE53, "each optional feature (HTTPS, string matching, fast interval, latency "
        "measurement) of a check on an AWS endpoint"),
    "route53.health_check.other_endpoint.optional_feature": Price(
        2.00, "month", _ROUTE53, "each optional feature of a check on a non-AWS endpoint"),
    # --- EFS ---------------------------------------------------------------------------------
    "efs.STANDARD": Price(0.30, "GB-month", "https://aws.amazon.com/efs/pricing/"),
    "efs.IA": Price(0.025, "GB-month",
                    "https://www.factualminds.com/blog/amazon-efs-pricing-throughput-modes-storage-classes/",
                    "EFS Infrequent Access (us-east-1, June 2026)"),
}

# Minimum storage durations (days) and their early-deletion rule: deleting or moving an object or
# recovery point earlier is billed as if it stayed the minimum.
MINIMUM_DAYS = {
    "backup.cold": (90, _BACKUP),
    "s3.STANDARD_IA": (30, "https://aws.amazon.com/s3/pricing/"),
    "s3.GLACIER_IR": (90, "https://aws.amazon.com/s3/pricing/"),
    "s3.GLACIER": (90, "https://docs.aws.amazon.com/whitepapers/latest/aws-storage-services-overview/cost-model-1.html"),
    "s3.DEEP_ARCHIVE": (180, "https://www.demo.wlid.nl/s3-storage-classes.html (quotes the S3 pricing page)"),
}

REGIONAL_OVERRIDES: dict[str, dict[str, Price]] = {}

# Looked for on 2026-11-30 and not found in any citable source (docs/cost.md says where): the shipped
# stacks (and their what-if variants) need these, and the estimate reports them unpriced rather than
# guess. tests/infra/test_cost_prices.py keeps this list equal to what the stacks leave unpriced.
UNSOURCED: dict[tuple[str, str], str] = {
    ("rds.instance.db.r6g.large", "us-east-1"): "RDS for PostgreSQL db.r6g.large on-demand hour (Multi-AZ standby)",
    ("rds.snapshot_export", "us-east-1"): "RDS snapshot export to S3, per GB of snapshot size",
    ("ec2.instance.m6i.large", "us-west-2"): "EC2 m6i.large Linux on-demand hour (DR compute in the what-if)",
    ("s3.transition.STANDARD_IA", "us-west-2"): "S3 lifecycle transition into Standard-IA",
    ("s3.transition.GLACIER", "us-west-2"): "S3 lifecycle transition into Glacier Flexible Retrieval",
    ("s3.transition.DEEP_ARCHIVE", "us-west-2"): "S3 lifecycle transition into Glacier Deep Archive",
}


class MissingPrice(KeyError):
    """The estimate needs a figure the table does not hold; the message names it."""


def price(key: str, region: str) -> Price:
    """The price of `key` in `region`; MissingPrice when the table has no sourced figure."""
    if region not in PRICED_REGIONS and key not in REGIONAL_OVERRIDES.get(region, {}):
        raise MissingPrice(f"no price for region {region}: the table covers {', '.join(PRICED_REGIONS)}; "
                           f"add sourced figures to infra/cost/prices.py REGIONAL_OVERRIDES")
    found = REGIONAL_OVERRIDES.get(region, {}).get(key)
    if found is None:
        found = PRICES.get(key)
        if found is not None and region not in found.regions:
            raise MissingPrice(f"no sourced price for {key!r} in {region}: its source covers "
                               f"{', '.join(found.regions)} only; add a {region} figure to "
                               "infra/cost/prices.py REGIONAL_OVERRIDES with its source")
    if found is None:
        raise MissingPrice(f"no sourced price for {key!r}; add it to infra/cost/prices.py with its "
                           "source page and the date read")
    return found
