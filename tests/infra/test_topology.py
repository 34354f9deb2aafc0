"""The declared topology of every stack file: policies each resource must meet, and per-strategy pieces.

Each stack is evaluated by running the real `__main__.py` under Pulumi's mock runtime
(`infra.offline.evaluate_stack`); failures name the offending resource by URN.
"""

from __future__ import annotations

import copy
import json

import pytest

from infra.config import COLD_STORAGE_MINIMUM_DAYS, load_stack_config
from infra.offline import DeclaredResource, OfflineResult, apply_override, evaluate_stack, load_stack_file
from infra.strategies import STRATEGIES, Kind, dr_instance_count
from tests.infra.conftest import STACKS, check

GLOBAL_SERVICES = ("aws:route53/", "aws:iam/", "aws:budgets/", "aws:costexplorer/")


def stack_config(stack: str):
    return load_stack_config(load_stack_file(stack))


def component(result: OfflineResult, type_token: str, name: str) -> DeclaredResource:
    matches = [r for r in result.of_type(type_token) if r.name == name]
    assert len(matches) == 1, f"expected one {type_token} named {name}, found {len(matches)}"
    return matches[0]


def descendants(result: OfflineResult, root: DeclaredResource) -> list[DeclaredResource]:
    found, frontier = [], [root.urn]
    while frontier:
        children = [r for r in result.resources if r.parent in frontier]
        found += children
        frontier = [c.urn for c in children]
    return found


@pytest.mark.parametrize("stack", STACKS)
def test_every_dynamodb_table_has_pitr_deletion_protection_stream_and_kms(evaluated, stack):
    tables = evaluated[stack].of_type("aws:dynamodb/table:Table")
    assert tables, "the stack declares no DynamoDB table"
    for table in tables:
        pitr = table.inputs.get("pointInTimeRecovery") or {}
        check(pitr.get("enabled") is True, table, "point-in-time recovery is off")
        check(1 <= pitr.get("recoveryPeriodInDays", 0) <= 35, table, "PITR recovery period not set within 1..35 days")
        check(table.inputs.get("deletionProtectionEnabled") is True, table, "deletion protection is off")
        check(table.inputs.get("streamViewType") == "NEW_AND_OLD_IMAGES", table, "stream is not NEW_AND_OLD_IMAGES")
        sse = table.inputs.get("serverSideEncryption") or {}
        check(sse.get("enabled") is True and sse.get("kmsKeyArn", "").startswith("arn:aws:kms:"), table,
              "not encrypted with a customer-managed KMS key")
        check(table.inputs.get("billingMode") == "PAY_PER_REQUEST", table, "not on-demand")
        for replica in table.inputs.get("replicas", []):
            check(replica.get("kmsKeyArn", "").startswith(f"arn:aws:kms:{replica['regionName']}:"), table,
                  f"replica in {replica['regionName']} is not encrypted with a key of its own region")
            check(replica.get("pointInTimeRecovery") is True, table, f"replica in {replica['regionName']} has no PITR")


@pytest.mark.parametrize("stack", STACKS)
def test_every_bucket_is_private_versioned_encrypted_and_tiers_to_glacier_and_deep_archive(evaluated, stack):
    result = evaluated[stack]
    buckets = result.of_type("aws:s3/bucket:Bucket")
    assert buckets, "the stack declares no bucket"

    def configs(type_token: str) -> dict[str, DeclaredResource]:
        return {r.inputs["bucket"]: r for r in result.of_type(type_token)}

    versioning = configs("aws:s3/bucketVersioning:BucketVersioning")
    encryption = configs("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
    public_block = configs("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
    lifecycle = configs("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
    for bucket in buckets:
        name = bucket.id
        status = (versioning.get(name).inputs["versioningConfiguration"]["status"] if name in versioning else None)
        check(status == "Enabled", bucket, "not versioned")
        rules = encryption[name].inputs["rules"] if name in encryption else []
        algorithms = {r["applyServerSideEncryptionByDefault"]["sseAlgorithm"] for r in rules}
        # Workload data is SSE-KMS; the Backup report bucket may be SSE-S3 (the reports service holds no KMS grant).
        wanted = {"aws:kms"} if bucket.parent and "securecart:backup:" not in bucket.parent else {"aws:kms", "AES256"}
        check(bool(algorithms) and algorithms <= wanted, bucket, f"default encryption {sorted(algorithms)}, want {sorted(wanted)}")
        block = public_block[name].inputs if name in public_block else {}
        check(all(block.get(k) is True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
                                                  "restrictPublicBuckets")), bucket, "public access not fully blocked")
        lifecycle_rules = lifecycle[name].inputs["rules"] if name in lifecycle else []
        classes = {t["storageClass"] for rule in lifecycle_rules for t in rule.get("transitions", [])}
        check({"GLACIER", "DEEP_ARCHIVE"} <= classes, bucket, f"lifecycle transitions {sorted(classes)} lack Glacier/Deep Archive")
        check(any("noncurrentVersionExpiration" in rule for rule in lifecycle_rules), bucket, "noncurrent versions never expire")
        check(any("abortIncompleteMultipartUpload" in rule for rule in lifecycle_rules), bucket,
              "incomplete multipart uploads are never aborted")


@pytest.mark.parametrize("stack", STACKS)
def test_every_backup_rule_with_cold_storage_keeps_recovery_points_90_days_after_the_transition(evaluated, stack):
    plans = evaluated[stack].of_type("aws:backup/plan:Plan")
    assert plans, "the stack declares no backup plan"
    lifecycles = []
    for plan in plans:
        for rule in plan.inputs["rules"]:
            lifecycles.append((plan, rule["ruleName"], rule.get("lifecycle") or {}))
            for copy in rule.get("copyActions", []):
                lifecycles.append((plan, f"{rule['ruleName']} copy", copy.get("lifecycle") or {}))
    for plan, where, lifecycle in lifecycles:
        cold = lifecycle.get("coldStorageAfter")
        if cold is not None:
            check(lifecycle["deleteAfter"] >= cold + COLD_STORAGE_MINIMUM_DAYS, plan,
                  f"{where}: deleted on day {lifecycle['deleteAfter']}, less than 90 days after cold storage on day {cold}")


@pytest.mark.parametrize("stack", STACKS)
def test_every_resource_uses_an_explicit_provider_of_its_intended_region(evaluated, stack):
    result = evaluated[stack]
    config = stack_config(stack)
    regions = set(config.regions)
    for resource in result.resources:
        if not resource.custom or resource.type == "pulumi:providers:aws":
            continue
        check(resource.provider is not None, resource, "uses Pulumi's default provider, not a regional one")
        check(resource.region in regions, resource, f"declared in {resource.region}, outside the stack's regions")
        if resource.type.startswith(GLOBAL_SERVICES):
            check(resource.region == config.primary_region, resource, "global service not declared via the primary provider")
            continue
        # Children keyed by a region ("...-us-west-2") live in that region; an alarm about
        # replication *to* a region ("...-to-us-west-2") lives at the source.
        keyed = [r for r in regions if resource.name.endswith(f"-{r}") and not resource.name.endswith(f"-to-{r}")]
        if keyed:
            check(resource.region == keyed[0], resource, f"keyed by {keyed[0]} but declared in {resource.region}")
    # Bucket configuration must sit in the bucket's own region.
    bucket_region = {b.id: b.region for b in result.of_type("aws:s3/bucket:Bucket")}
    for resource in result.resources:
        if resource.type.startswith("aws:s3/bucket") and resource.type != "aws:s3/bucket:Bucket":
            bucket = resource.inputs.get("bucket")
            if bucket in bucket_region:
                check(resource.region == bucket_region[bucket], resource, f"configures a bucket in {bucket_region[bucket]}")


@pytest.mark.parametrize("stack", STACKS)
def test_providers_carry_the_stack_tags_as_default_tags(evaluated, stack):
    import json

    config = stack_config(stack)
    for provider in evaluated[stack].of_type("pulumi:providers:aws"):
        tags = json.loads(provider.inputs["defaultTags"])["tags"]
        check(tags == config.tags, provider, f"default tags {tags} differ from the stack tags {config.tags}")
        check(provider.region in config.regions, provider, "provider for a region the stack does not use")


@pytest.mark.parametrize("stack", STACKS)
def test_each_strategy_provisions_exactly_its_pieces(evaluated, stack):
    assert_strategy_pieces(evaluated[stack], stack_config(stack))


@pytest.mark.parametrize("strategy", sorted(STRATEGIES))
def test_every_kind_under_every_strategy_it_supports(strategy):
    """Prod with each workload switched to `strategy` where its kind allows it."""
    spec = STRATEGIES[strategy]
    workloads = load_stack_file("prod")["securecart-dr:workloads"]
    result, config = prod_with_strategy(strategy, [n for n, w in workloads.items() if Kind(w["kind"]) in spec.kinds])
    assert_strategy_pieces(result, config)


def prod_with_strategy(strategy: str, workloads: list[str]):
    """Prod evaluated with `workloads` switched to `strategy` (targets and failover left to its defaults)."""
    raw = copy.deepcopy(load_stack_file("prod"))
    overrides = {}
    for name in workloads:
        overrides[f"securecart-dr:workloads.{name}.strategy"] = strategy
        for key in ("rtoSeconds", "rpoSeconds", "failover"):
            overrides[f"securecart-dr:workloads.{name}.{key}"] = None
    for key, value in overrides.items():
        apply_override(raw, key, value)
    return evaluate_stack("prod", overrides=overrides), load_stack_config(raw)


def assert_strategy_pieces(result: OfflineResult, config) -> None:
    dr = config.dr_region
    records = result.of_type("aws:route53/record:Record")
    for workload in config.workloads.values():
        spec = workload.strategy
        if workload.kind is Kind.RDS:
            store = component(result, "securecart:rds:RelationalStore", workload.name)
            instances = [r for r in descendants(result, store) if r.type == "aws:rds/instance:Instance"]
            replicas = [r for r in instances if r.inputs.get("replicateSourceDb")]
            check(len(replicas) == int(spec.rds_cross_region_replica), store,
                  f"{spec.name} wants {int(spec.rds_cross_region_replica)} cross-region replica(s), found {len(replicas)}")
            for replica in replicas:
                check(replica.region == dr, replica, "replica not in the DR region")
                check(replica.inputs["instanceClass"] == workload.settings.replica_instance_class, replica,
                      "replica not the configured (small) instance class")
        if workload.kind is Kind.DYNAMODB:
            store = component(result, "securecart:dynamodb:GlobalTable", workload.name)
            table = next(r for r in descendants(result, store) if r.type == "aws:dynamodb/table:Table")
            replica_regions = [r["regionName"] for r in table.inputs.get("replicas", [])]
            check(replica_regions == ([dr] if spec.dynamodb_global_replica else []), table,
                  f"{spec.name} replicas {replica_regions}")
        if workload.kind is Kind.S3:
            store = component(result, "securecart:s3:ReplicatedBucket", workload.name)
            replication = [r for r in descendants(result, store)
                           if r.type == "aws:s3/bucketReplicationConfig:BucketReplicationConfig"]
            check(len(replication) == int(spec.s3_replication), store, f"{spec.name}: {len(replication)} replication configs")
        if workload.kind is Kind.EFS:
            store = component(result, "securecart:efs:FileStore", workload.name)
            assert_efs_pieces(result, workload, dr)
        if workload.kind is Kind.EC2:
            store = component(result, "securecart:ebs:ComputeTier", workload.name)
            group = next(r for r in descendants(result, store) if r.type == "aws:autoscaling/group:Group")
            expected = dr_instance_count(spec, workload.settings.instance_count)
            check(group.region == dr and group.inputs["desiredCapacity"] == expected, group,
                  f"{spec.name} wants DR capacity {expected} in {dr}, found {group.inputs['desiredCapacity']} in {group.region}")
        failover = result.inventory["workloads"][workload.name]["failover"]
        if spec.routing is None or workload.kind is Kind.EC2:
            check(failover is None, store, f"{spec.name}: a data-store failover without a DR copy: {failover}")
            continue
        # A data store fails over through the application's configuration, one value per region.
        check(sorted(failover["endpoints"]) == sorted(config.regions), store, f"endpoints {failover['endpoints']}")
        if workload.kind is Kind.RDS:
            private = failover["private_record"]
            check(private is not None and private["value"] == failover["endpoints"][config.primary_region], store,
                  f"the private record must answer the primary's address before a failover: {private}")
    assert_application_records(result, config)


def assert_application_records(result: OfflineResult, config) -> None:
    """One application record per region, health-checked on its existing endpoint; no public
    record points at a data store (DynamoDB/S3 endpoints fail TLS/SigV4 behind a custom name)."""
    records = result.of_type("aws:route53/record:Record")
    public = [r for r in records if "private" not in r.name]
    routed = any(w.strategy.routing is not None for w in config.workloads.values())
    if not routed:
        assert not public, f"records without a DR copy to fail over to: {[r.urn for r in public]}"
        return
    assert len(public) == 2, f"expected the application record per region, found {[r.urn for r in public]}"
    hosts = {e.host_name for e in config.failover.endpoints.values()}
    for record in public:
        check(record.inputs["name"] == config.failover.record_name, record, "not the application's name")
        check(bool(record.inputs.get("healthCheckId")), record, "record without a health check")
        targets = [a["name"] for a in record.inputs.get("aliases") or []] + list(record.inputs.get("records") or [])
        check(set(targets) <= hosts and targets, record, f"answers {targets}, not a configured endpoint")
    if config.failover.routing.value == "failover":
        roles = {r.inputs["failoverRoutingPolicies"][0]["type"]: r for r in public}
        check(sorted(roles) == ["PRIMARY", "SECONDARY"], public[0], f"failover roles {sorted(roles)}")
        check(roles["PRIMARY"].name.endswith(config.primary_region), roles["PRIMARY"],
              "PRIMARY does not answer for the primary region")
    for record in records:
        for value in list(record.inputs.get("records") or []):
            check(not any(marker in value for marker in ("dynamodb.", ".s3.", "s3.amazonaws.com", ".efs.")),
                  record, f"a DNS name for a data-store endpoint: {value}")


def result_config_subnets(region: str) -> dict:
    return load_stack_config(load_stack_file("prod")).network.regions[region].subnets


def assert_efs_pieces(result: OfflineResult, workload, dr: str) -> None:
    """Replicating strategies: a replication to `dr` with a DR key; backup-restore: nothing in `dr`."""
    spec = workload.strategy
    store = component(result, "securecart:efs:FileStore", workload.name)
    children = descendants(result, store)
    replications = [r for r in children if r.type == "aws:efs/replicationConfiguration:ReplicationConfiguration"]
    check(len(replications) == int(spec.efs_replication), store,
          f"{spec.name} wants {int(spec.efs_replication)} EFS replication(s), found {len(replications)}")
    in_dr = sorted(r.type for r in children if r.region == dr)
    dr_mounts = len(result_config_subnets(dr)) if spec.efs_replication else 0
    expected_in_dr = sorted((["aws:kms/key:Key"] if spec.efs_replication else [])
                            + ["aws:efs/mountTarget:MountTarget"] * dr_mounts)
    check(in_dr == expected_in_dr, store, f"{spec.name}: declared in {dr}: {in_dr}, want {expected_in_dr}")
    inventory_replicas = result.inventory["workloads"][workload.name]["stores"]["replicas"]
    if not spec.efs_replication:
        check(inventory_replicas == [], store, f"{spec.name}: inventory lists replicas {inventory_replicas}")
        return
    [replication] = replications
    [dr_key] = [r for r in children if r.type == "aws:kms/key:Key" and r.region == dr]
    destination = replication.inputs["destination"]
    check(destination["region"] == dr and destination["kmsKeyId"] == dr_key.outputs["arn"], replication,
          f"replicates to {destination['region']} with key {destination['kmsKeyId']}")
    replica_id = replication.outputs["destination"]["fileSystemId"]
    check(inventory_replicas == [{"region": dr, "file_system_id": replica_id}], store,
          f"inventory replicas {inventory_replicas}")


@pytest.mark.parametrize("strategy", sorted(name for name, spec in STRATEGIES.items() if Kind.EFS in spec.kinds))
def test_each_strategy_provisions_exactly_its_efs_pieces(strategy):
    """Prod's EFS workload under each strategy: replicated for pilot-light/warm-standby, not for backup-restore."""
    [name] = [n for n, w in load_stack_file("prod")["securecart-dr:workloads"].items() if w["kind"] == Kind.EFS.value]
    result, config = prod_with_strategy(strategy, [name])
    assert_efs_pieces(result, config.workloads[name], config.dr_region)
    failover = result.inventory["workloads"][name]["failover"]
    if STRATEGIES[strategy].routing is None:
        assert failover is None, f"{name}: {strategy} declares DNS records"
    else:
        # The application mounts the replica in the DR region: it only exists when replicated.
        [replica] = result.inventory["workloads"][name]["stores"]["replicas"]
        assert failover["endpoints"][config.dr_region] == replica["file_system_id"], failover


@pytest.mark.parametrize("stack", STACKS)
def test_health_checks_use_the_configured_interval_and_threshold(evaluated, stack):
    config = stack_config(stack)
    checks = evaluated[stack].of_type("aws:route53/healthCheck:HealthCheck")
    assert checks
    for health_check in checks:
        check(health_check.inputs["requestInterval"] == config.failover.health_check.interval_seconds, health_check,
              "request interval differs from failover.healthCheck.intervalSeconds")
        check(health_check.inputs["failureThreshold"] == config.failover.health_check.failure_threshold, health_check,
              "failure threshold differs from failover.healthCheck.failureThreshold")
        check(health_check.inputs["fqdn"] in {e.host_name for e in config.failover.endpoints.values()}, health_check,
              "probes an endpoint the config does not name (a made-up host)")


def test_orders_database_is_multi_az_protected_and_replicates_its_backups(prod):
    primary = prod.by_name("orders-primary")
    for key, expected in (("engine", "postgres"), ("engineVersion", "15"), ("multiAz", True),
                          ("deletionProtection", True), ("skipFinalSnapshot", False),
                          ("manageMasterUserPassword", True), ("storageEncrypted", True),
                          ("backupRetentionPeriod", 35)):
        check(primary.inputs.get(key) == expected, primary, f"{key} is {primary.inputs.get(key)!r}, want {expected!r}")
    check(primary.inputs["kmsKeyId"].startswith("arn:aws:kms:us-east-1:"), primary, "not encrypted with a primary-region key")
    replication = prod.of_type(
        "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication")
    assert len(replication) == 1
    check(replication[0].region == "us-west-2" and replication[0].inputs["sourceDbInstanceArn"] == primary.outputs["arn"],
          replication[0], "automated backups not replicated from the primary to the DR region")
    replica = prod.by_name("orders-replica-us-west-2")
    check(replica.inputs["replicateSourceDb"] == primary.outputs["arn"], replica, "replica does not name the primary by ARN")
    check(replica.inputs["kmsKeyId"].startswith("arn:aws:kms:us-west-2:"), replica, "replica not encrypted with a DR-region key")


def test_snapshot_export_archive_has_a_role_only_rds_export_can_assume(prod):
    import json

    role = prod.by_name("orders-export-role")
    trust = json.loads(role.inputs["assumeRolePolicy"])
    check(trust["Statement"][0]["Principal"] == {"Service": "export.rds.amazonaws.com"}, role, "wrong trusted service")
    policy = json.loads(prod.by_name("orders-export-policy").inputs["policy"])
    archive = prod.by_name("orders-export-archive")
    resources = {r for s in policy["Statement"] for r in ([s["Resource"]] if isinstance(s["Resource"], str) else s["Resource"])}
    check(all(r.startswith((archive.outputs["arn"], "arn:aws:kms:")) for r in resources), role,
          f"export role reaches beyond the archive bucket and its key: {sorted(resources)}")


def test_s3_replication_uses_rtc_metrics_delete_markers_and_a_least_privilege_role(prod):
    import json

    config = prod.by_name("product-images-replication")
    rule = config.inputs["rules"][0]
    destination = rule["destination"]
    check(destination["replicationTime"] == {"status": "Enabled", "time": {"minutes": 15}}, config, "no 15-minute RTC")
    check(destination["metrics"]["status"] == "Enabled", config, "replication metrics off")
    check(rule["deleteMarkerReplication"]["status"] == "Enabled", config, "delete markers not replicated")
    replica = prod.by_name("product-images-us-west-2")
    check(destination["bucket"] == replica.outputs["arn"] and replica.region == "us-west-2", config,
          "destination is not the DR replica bucket")
    policy = json.loads(prod.by_name("product-images-replication-policy").inputs["policy"])
    actions = {a for s in policy["Statement"] for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    check(not any(a.endswith("*") for a in actions), config, f"wildcard actions in the replication role: {sorted(actions)}")
    check("s3:ReplicateObject" in actions and "s3:GetObjectVersionForReplication" in actions, config, "missing replication actions")


def test_chaos_opt_in_tag_only_on_stacks_that_opted_in(evaluated):
    for stack, result in evaluated.items():
        enabled = stack_config(stack).chaos.enabled
        for table in result.of_type("aws:dynamodb/table:Table"):
            check((table.inputs["tags"].get("chaos-opt-in") == "true") == enabled, table,
                  f"chaos opt-in tag does not match chaos.enabled={enabled}")


def test_fis_templates_only_where_the_stack_asks_for_them(evaluated):
    assert evaluated["staging"].of_type("aws:fis/experimentTemplate:ExperimentTemplate")
    assert not evaluated["prod"].of_type("aws:fis/experimentTemplate:ExperimentTemplate")


def test_localstack_providers_pass_the_endpoint_settings_through(evaluated):
    import json

    for provider in evaluated["localstack"].of_type("pulumi:providers:aws"):
        endpoints = json.loads(provider.inputs["endpoints"])[0]
        check(endpoints["dynamodb"] == "http://localhost:4566" and endpoints["s3"] == "http://localhost:4566", provider,
              f"endpoints not passed through: {endpoints}")
        for flag in ("skipCredentialsValidation", "skipRequestingAccountId", "s3UsePathStyle"):
            check(provider.inputs.get(flag) == "true", provider, f"{flag} not passed through")
    for provider in evaluated["prod"].of_type("pulumi:providers:aws"):
        check("endpoints" not in provider.inputs, provider, "prod must talk to real AWS endpoints")


def test_strategy_override_changes_what_is_provisioned():
    """The wiring follows the strategy table: backup-restore orders has no replica, warm-standby sessions loses it."""
    result = evaluate_stack("prod", overrides={
        "securecart-dr:workloads.orders.strategy": "backup-restore",
        "securecart-dr:workloads.sessions.strategy": "backup-restore",
        "securecart-dr:workloads.sessions.rpoSeconds": None,
    })
    assert [r.name for r in result.of_type("aws:rds/instance:Instance")] == ["orders-primary"]
    sessions = next(t for t in result.of_type("aws:dynamodb/table:Table") if t.name == "sessions-table")
    check(sessions.inputs.get("replicas", []) == [], sessions, "backup-restore table still has a replica")
    assert result.inventory["workloads"]["orders"]["failover"] is None
    assert STRATEGIES["backup-restore"].routing is None


def test_rds_snapshots_are_exported_on_a_schedule_without_lambda(prod):
    [machine] = prod.of_type("aws:sfn/stateMachine:StateMachine")
    definition = json.loads(machine.inputs["definition"])
    resources = [state.get("Resource") for state in definition["States"].values()]
    assert "arn:aws:states:::aws-sdk:rds:describeDBSnapshots" in resources
    assert "arn:aws:states:::aws-sdk:rds:startExportTask" in resources
    assert not any("lambda" in str(r) for r in resources), "no Lambda code to keep"
    export = definition["States"]["StartExport"]["Arguments"]
    archive = prod.by_name("orders-export-archive")
    assert export["S3BucketName"] == archive.outputs["bucket"], machine.urn
    assert export["IamRoleArn"] == prod.by_name("orders-export-role").outputs["arn"], machine.urn
    [schedule] = prod.of_type("aws:scheduler/schedule:Schedule")
    assert schedule.inputs["target"]["arn"] == machine.outputs["arn"], schedule.urn
    [grant] = prod.of_type("aws:kms/grant:Grant")
    assert grant.inputs["granteePrincipal"] == prod.by_name("orders-export-role").outputs["arn"], grant.urn
    assert {"GenerateDataKey", "CreateGrant", "DescribeKey"} <= set(grant.inputs["operations"]), grant.urn


def test_the_export_archive_is_not_itself_backed_up(prod):
    archive = prod.by_name("orders-export-archive")
    check("backup-tier" not in archive.inputs.get("tags", {}), archive, "AWS Backup would select the archive")


def test_prod_keeps_databases_and_instances_off_the_default_vpc(prod):
    config = stack_config("prod")
    for instance in prod.of_type("aws:rds/instance:Instance"):
        network = config.network.regions[instance.region]
        check(bool(instance.inputs.get("dbSubnetGroupName")), instance, "no subnet group: the default VPC")
        check(instance.inputs.get("vpcSecurityGroupIds") == list(network.security_groups["database"]), instance,
              "not the configured security groups")
    for instance in prod.of_type("aws:ec2/instance:Instance"):
        check(instance.inputs.get("associatePublicIpAddress") is False, instance, "public IPv4")
        check(instance.inputs.get("subnetId") in config.network.regions["us-east-1"].subnets.values(), instance,
              "not in a configured subnet")


def test_dr_compute_boots_the_same_image_and_user_data_as_the_primary(prod):
    templates = {t.region: t for t in prod.of_type("aws:ec2/launchTemplate:LaunchTemplate")}
    assert set(templates) == {"us-east-1", "us-west-2"}
    primary, dr = templates["us-east-1"], templates["us-west-2"]
    check(bool(dr.inputs.get("userData")) and dr.inputs["userData"] == primary.inputs["userData"], dr,
          "the DR group would boot without the application's user data")
    check(dr.inputs["imageId"].startswith("ami-") and dr.inputs["imageId"] != primary.inputs["imageId"], dr,
          "the DR image must be the configured image read in the DR region")
    volume_tags = next(t["tags"] for t in dr.inputs["tagSpecifications"] if t["resourceType"] == "volume")
    check("backup-tier" not in volume_tags, dr, "volumes backed up again besides their instance")


def test_the_provider_secret_key_stays_secret():
    import pulumi
    from infra.offline import run_program
    from infra.providers import ProviderSettings

    seen = {}

    def program() -> None:
        seen["settings"] = ProviderSettings.from_config(pulumi.Config("aws"))

    run_program(program, stack="localstack", config={"aws:secretKey": "not-in-plain-text", "aws:accessKey": "test"})
    assert isinstance(seen["settings"].text["secret_key"], pulumi.Output), "aws:secretKey read as plain text"


def test_prod_application_logs_on_efs_replicate_to_the_dr_region(prod):
    """The seed: SecureCart keeps application logs on EFS replicated across regions."""
    [replication] = [r for r in prod.of_type("aws:efs/replicationConfiguration:ReplicationConfiguration")
                     if "app-logs" in r.name]
    check(replication.inputs["destination"]["region"] == "us-west-2", replication, "not replicated to the DR region")
    mounts = [m for m in prod.of_type("aws:efs/mountTarget:MountTarget") if m.region == "us-west-2"]
    check(len(mounts) == 2, replication, "the DR compute could not mount the replica")


@pytest.mark.parametrize("stack", STACKS)
def test_no_aws_backup_continuous_rule_duplicates_native_pitr_or_versioning(evaluated, stack):
    """docs/protection.md: RDS PITR comes from its automated backups, S3 from versioning."""
    for plan in evaluated[stack].of_type("aws:backup/plan:Plan"):
        for rule in plan.inputs["rules"]:
            check(not rule.get("enableContinuousBackup"), plan, f"continuous rule {rule['ruleName']}")
