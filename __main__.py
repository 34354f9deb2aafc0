"""SecureCart DR topology: the wiring diagram.

config -> one provider per region -> one component per workload store -> DNS failover (the
application's record, the data stores' private records) ->
AWS Backup, monitoring, cost, game days -> the Region switch plan and Resilience Hub policies ->
the `inventory` output (docs/inventory.md).
All validation happened in `load_stack_config`, before the first resource below; how config
values reach each component's Args is in `infra/wiring.py`.
"""

import pulumi

from infra import wiring
from infra.components.backup import Backup
from infra.components.cost import Cost
from infra.components.failover import DnsFailover
from infra.components.gameday import GameDay
from infra.components.monitoring import Monitoring
from infra.components.recovery_plan import RegionSwitchPlan
from infra.components.resilience import Resilience
from infra.config import StackConfig, load_stack_config
from infra.inventory import DeclaredWorkload, build_inventory
from infra.providers import ProviderSettings, RegionalProviders

config: StackConfig = load_stack_config(pulumi.Config("securecart-dr"))
providers = RegionalProviders(config, ProviderSettings.from_config(pulumi.Config("aws")))
env = config.environment

workloads = [DeclaredWorkload(w, wiring.declare_store(config, providers, w)) for w in config.workloads.values()]

dns = DnsFailover(f"{env}-dns", wiring.dns_failover_args(config, providers, workloads))
backup = Backup(f"{env}-backup", wiring.backup_args(config, providers))
monitoring = Monitoring(f"{env}-monitoring", wiring.monitoring_args(config, providers, workloads))
Cost(f"{env}-cost", wiring.cost_args(config, providers, alert_topic_arn=monitoring.alarm_topic.arn))

game_day = None
if config.chaos.fis_templates:
    game_day = GameDay(f"{env}-gameday", wiring.game_day_args(
        config, providers, workloads,
        # Without the replication-latency alarms: a replication pause trips them on purpose.
        stop_condition_alarm_arn=monitoring.experiment_guardrail_alarms[config.primary_region].arn,
        hosted_zone_id=dns.zone.zone_id,
        private_zone_id=dns.private_zone.zone_id if dns.private_zone is not None else None))

# Recovery AWS itself runs: the Region switch plan, and the policies Resilience Hub assesses against.
recovery_plan = resilience = None
if config.recovery_plan.enabled:
    plan_args = wiring.recovery_plan_args(config, providers, workloads, dns=dns, monitoring=monitoring, backup=backup)
    if plan_args.has_steps:  # a stack of backup-restore workloads has nothing for a plan to switch
        recovery_plan = RegionSwitchPlan(f"{env}-region-switch", plan_args)
    resilience = Resilience(f"{env}-resilience", wiring.resilience_args(config, providers))

pulumi.export("inventory", build_inventory(config=config, workloads=workloads, dns=dns, backup=backup,
                                           game_day=game_day, monitoring=monitoring, recovery_plan=recovery_plan,
                                           resilience=resilience))
pulumi.export("hostedZoneNameServers", dns.zone.name_servers)
pulumi.export("alertTopicArn", monitoring.alarm_topic.arn)
pulumi.export("backupVaultArns", {region: vault.arn for region, vault in backup.vaults.items()})
# For a chat integration (AWS Chatbot / Q Developer) that subscribes to the vault events itself.
pulumi.export("backupEventTopicArns", {region: topic.arn for region, topic in backup.notification_topics.items()})
