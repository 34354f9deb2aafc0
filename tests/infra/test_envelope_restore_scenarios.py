"""The envelopes and default targets of the backup scenarios (issue 7): ransomware, restore drill and
backup job failure are judged as the restore (or retried backup) each one is, never against the
workload's region-outage targets.

Hand-worked cases: a `Provision` with one daily rule (60 min start, 180 min completion window, copied
to the DR vault) and the stack's 60 s TTL, so every term below can be checked with pencil and paper:
daily gap 86400 + start 3600 + completion 10800 (+ copy 14400, estimate).
"""

from __future__ import annotations

import pytest

from infra.config import load_stack_config
from infra.envelope.figures import worst
from infra.envelope.provision import envelope_document, stack_envelopes
from infra.envelope.worst_case import (ACCIDENTAL_DELETION, BACKUP_JOB_FAILURE, RANSOMWARE, REGION_OUTAGE,
                                       RESTORE_DRILL, RESTORE_SCENARIOS, SCENARIOS, BackupSchedule, envelope)
from infra.offline import load_stack_file
from infra.strategies import STRATEGIES, Kind, default_scenario_targets, default_targets, reference_envelope
from tests.infra.test_config import error_for, prod_with
from tests.infra.test_envelope import provision

IN_REGION = 86400 + 3600 + 10800  # daily gap + start window + completion window
TO_DR = IN_REGION + 14400  # + cross-region copy (estimate)


def seconds(bound) -> list[float]:
    return [term.seconds for term in bound.terms]


# ----- the scenario names are the harness's ---------------------------------------------------------


def test_scenario_names_are_the_harness_names():
    from chaos.faults.backup import RANSOMWARE as HARNESS_RANSOMWARE
    from chaos.faults.backup import RESTORE_DRILL as HARNESS_DRILL
    from chaos.scenarios.catalog import SCENARIOS as HARNESS_SCENARIOS
    from chaos.targets.base import BACKUP_JOB_FAILURE as HARNESS_FAILURE

    assert (RANSOMWARE, RESTORE_DRILL, BACKUP_JOB_FAILURE) == (HARNESS_RANSOMWARE, HARNESS_DRILL, HARNESS_FAILURE)
    assert set(SCENARIOS) == set(HARNESS_SCENARIOS)  # every scenario the game day runs has an envelope


# ----- ransomware -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "rto"), [
    ("rds", [300, 3600, 60]),  # latest restorable time + point-in-time restore (estimate) + repoint
    ("dynamodb", [300, 3600]),  # latest restorable time + restore into a new table (estimate)
    ("s3", [0]),  # the versions from before the attack are still in the bucket
])
def test_ransomware_restores_to_a_point_in_time_where_the_kind_can(kind, rto):
    env = envelope(provision(kind, "warm-standby" if kind != "rds" else "pilot-light"))
    ransom, deletion = env.scenarios[RANSOMWARE], env.scenarios[ACCIDENTAL_DELETION]
    assert seconds(ransom.rto) == rto
    assert ransom.rpo.seconds == (0 if kind == "s3" else 1)  # versions keep everything; PITR to the second
    assert ransom.rto == deletion.rto and ransom.rpo == deletion.rpo  # the same recovery as a deletion
    assert ransom.scenario == RANSOMWARE and "attack" in ransom.mechanism


@pytest.mark.parametrize(("kind", "figure", "restore"), [("efs", "restore.efs", 7200), ("ec2", "restore.ebs", 900)])
def test_ransomware_without_point_in_time_restores_the_newest_primary_vault_point(kind, figure, restore):
    ransom = envelope(provision(kind, "pilot-light")).scenarios[RANSOMWARE]
    assert seconds(ransom.rto) == [restore, 60] and ransom.rto.terms[0].figure_key == figure
    assert ransom.rto.terms[0].estimate  # AWS publishes no restore duration
    assert seconds(ransom.rpo) == [86400, 3600, 10800]  # the primary vault's gap: no copy term
    assert "in the primary vault" in ransom.rpo_limit


@pytest.mark.parametrize("kind", ["efs", "ec2"])
def test_an_accidental_deletion_of_files_is_the_same_restore_as_ransomware(kind):
    """The harness restores EFS and EC2 deletions from AWS Backup and repoints the application
    (chaos/stores/files.py): the restore and the repoint both count, as in ransomware."""
    env = envelope(provision(kind, "pilot-light"))
    deletion, ransom = env.scenarios[ACCIDENTAL_DELETION], env.scenarios[RANSOMWARE]
    assert deletion.rto == ransom.rto and deletion.rpo == ransom.rpo
    assert seconds(deletion.rto)[-1] == 60  # the repoint (DNS TTL)


def test_an_ec2_deletion_without_a_backup_rule_falls_back_to_the_dlm_snapshots():
    deletion = envelope(provision("ec2", "pilot-light", backup_rules=())).scenarios[ACCIDENTAL_DELETION]
    assert seconds(deletion.rto) == [900, 600]  # volumes from snapshots + launch and boot (estimates)
    assert seconds(deletion.rpo) == [12 * 3600, 7200]  # the DLM interval + snapshot creation


def test_ransomware_without_a_backup_rule_is_not_covered():
    env = envelope(provision("efs", "pilot-light", backup_rules=()))
    assert "no backup rule" in env.not_covered[RANSOMWARE]


# ----- restore drill --------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "restore"), [("rds", 3600), ("dynamodb", 3600), ("s3", 7200), ("efs", 7200),
                                               ("ec2", 900)])
def test_restore_drill_is_a_restore_from_the_dr_copy_and_the_copy_age(kind, restore):
    drill = envelope(provision(kind, "backup-restore")).scenarios[RESTORE_DRILL]
    assert seconds(drill.rto) == [restore, 0, 60]  # restore + validation (AWS times none) + repoint
    assert "not timed by AWS" in drill.rto.terms[1].name
    assert seconds(drill.rpo) == [86400, 3600, 10800, 14400] and drill.rpo.seconds == TO_DR
    assert drill.rpo.terms[-1].figure_key == "backup.cross_region_copy"


def test_restore_drill_age_follows_the_rules_that_copy_to_dr_only():
    daily_local = BackupSchedule("daily", "cron(0 5 * * ? *)", 60, 180, False)
    weekly_copied = BackupSchedule("weekly", "cron(0 6 ? * SUN *)", 60, 180, True)
    env = envelope(provision("efs", "pilot-light", backup_rules=(daily_local, weekly_copied)))
    # The drill ends on the DR vault: only the weekly copy gets there.
    assert env.scenarios[RESTORE_DRILL].rpo.seconds == 7 * 86400 + 3600 + 10800 + 14400
    # Ransomware restores from the primary vault, where the daily point is.
    assert env.scenarios[RANSOMWARE].rpo.seconds == IN_REGION


@pytest.mark.parametrize(("rules", "why"), [
    ((), "no backup rule"),
    ((BackupSchedule("daily", "cron(0 5 * * ? *)", 60, 180, False),), "copies to the DR vault"),
])
def test_restore_drill_without_a_dr_copy_is_not_covered(rules, why):
    env = envelope(provision("rds", "pilot-light", backup_rules=rules))
    assert RESTORE_DRILL not in env.scenarios and why in env.not_covered[RESTORE_DRILL]


# ----- backup job failure ---------------------------------------------------------------------------


def test_backup_job_failure_rto_is_publication_alarm_period_and_the_retried_job():
    failure = envelope(provision("s3", "warm-standby")).scenarios[BACKUP_JOB_FAILURE]
    assert seconds(failure.rto) == [300, 3600, 3600]
    assert [t.figure_key for t in failure.rto.terms] == ["backup.metric_publication", "cloudwatch.alarm_evaluation",
                                                        "backup.job_duration"]
    assert all(t.estimate for t in failure.rto.terms)  # AWS states none of the three for this path
    assert failure.rpo.seconds == 0  # the store keeps serving: no acknowledged write is lost
    assert "exposure window" in failure.rpo_limit


def test_backup_job_failure_without_a_backup_rule_is_not_covered():
    env = envelope(provision("dynamodb", "warm-standby", backup_rules=()))
    assert "no backup job" in env.not_covered[BACKUP_JOB_FAILURE]


def test_the_lab_publishes_and_evaluates_on_the_figures_the_envelope_uses():
    from chaos.lab.backup import alarms
    from infra.components.monitoring import MonitoringArgs
    from infra.envelope.worst_case import BACKUP_ALARM_PERIOD_SECONDS

    assert alarms.PUBLISH_INTERVAL_AWS_SECONDS == worst("backup.event_publication") == 300
    assert alarms.ALARM_EVALUATION_AWS_SECONDS == 60
    # The lab pages within publication + one evaluation: inside the envelope's publication + period.
    assert alarms.ALARM_EVALUATION_AWS_SECONDS <= BACKUP_ALARM_PERIOD_SECONDS
    assert MonitoringArgs.__dataclass_fields__["backup_alarm_period_seconds"].default == BACKUP_ALARM_PERIOD_SECONDS


# ----- default targets ------------------------------------------------------------------------------


def test_default_targets_of_the_restore_scenarios_round_up_their_reference_envelope():
    assert default_scenario_targets("pilot-light", Kind.RDS, RANSOMWARE) == (5400, 60)  # 3960 s, 1 s
    assert default_scenario_targets("pilot-light", Kind.EFS, RANSOMWARE) == (10800, 259200)  # 7260 s, 176400 s
    assert default_scenario_targets("warm-standby", Kind.S3, RANSOMWARE) == (60, 0)
    assert default_scenario_targets("backup-restore", Kind.S3, RESTORE_DRILL) == (10800, 259200)  # 7260, 190800
    assert default_scenario_targets("pilot-light", Kind.EC2, RESTORE_DRILL) == (1200, 259200)  # 960, 190800
    assert default_scenario_targets("active-active", Kind.DYNAMODB, BACKUP_JOB_FAILURE) == (10800, 0)  # 7500, 0
    with pytest.raises(ValueError):
        default_scenario_targets("pilot-light", Kind.RDS, REGION_OUTAGE)


def test_the_region_level_default_leaves_every_restore_scenario_out():
    for strategy, spec in STRATEGIES.items():
        for kind in spec.kinds:
            env = reference_envelope(strategy, kind)
            assert set(RESTORE_SCENARIOS) <= set(env.scenarios), (strategy, kind)
            region_level = [s for name, s in env.scenarios.items() if name not in RESTORE_SCENARIOS]
            rto, rpo = default_targets(strategy, kind)
            assert rto >= max(s.rto.seconds for s in region_level)
            for name in RESTORE_SCENARIOS:
                restore = env.scenarios[name]
                assert default_scenario_targets(strategy, kind, name) >= (restore.rto.seconds, restore.rpo.seconds)
    assert default_targets("pilot-light", Kind.RDS) == (1200, 300)  # a 1 h restore does not move it


# ----- config: defaults, tightening, refusals -------------------------------------------------------


def test_prod_workloads_get_each_restore_scenarios_own_default():
    config = load_stack_config(load_stack_file("prod"))
    orders = config.workloads["orders"].scenario_targets
    assert (orders[RANSOMWARE].rto_seconds, orders[RANSOMWARE].rpo_seconds) == (5400, 60)
    assert (orders[RESTORE_DRILL].rto_seconds, orders[RESTORE_DRILL].rpo_seconds) == (5400, 259200)
    assert (orders[BACKUP_JOB_FAILURE].rto_seconds, orders[BACKUP_JOB_FAILURE].rpo_seconds) == (10800, 0)
    assert (orders[REGION_OUTAGE].rto_seconds, orders[REGION_OUTAGE].rpo_seconds) == (1200, 300)


def test_a_restore_scenario_target_may_be_tightened_down_to_its_envelope():
    config = load_stack_config(prod_with(**{"workloads.orders.scenarioTargets": {
        RANSOMWARE: {"rtoSeconds": 3960}, BACKUP_JOB_FAILURE: {"rtoSeconds": 7500}}}))
    orders = config.workloads["orders"].scenario_targets
    assert orders[RANSOMWARE].rto_seconds == 3960 and orders[RANSOMWARE].rpo_seconds == 60
    assert orders[BACKUP_JOB_FAILURE].rto_seconds == 7500


@pytest.mark.parametrize(("scenario", "field", "value", "words"), [
    (RANSOMWARE, "rtoSeconds", 7200, ["7200 s is looser than the ransomware default for rds under pilot-light (5400 s)",
                                      "use <= 5400"]),
    (RESTORE_DRILL, "rpoSeconds", 300000, ["looser than the restore-drill default", "(259200 s)"]),
    (BACKUP_JOB_FAILURE, "rpoSeconds", 60, ["looser than the backup-job-failure default", "(0 s)"]),
])
def test_a_restore_scenario_target_looser_than_its_default_is_refused(scenario, field, value, words):
    message = error_for(**{"workloads.orders.scenarioTargets": {scenario: {field: value}}})
    assert message.startswith(f"securecart-dr:workloads.orders.scenarioTargets.{scenario}.{field}: "), message
    for word in words:
        assert word in message, message


@pytest.mark.parametrize(("workload", "scenario", "field", "value", "words"), [
    ("orders", BACKUP_JOB_FAILURE, "rtoSeconds", 180,
     ["tighter than AWS Backup's metric publication", "use >= 7500", "alarm period"]),
    ("app-logs", RANSOMWARE, "rpoSeconds", 3600,
     ["AWS Backup daily/weekly/monthly rules in the primary vault", "use >= 100800"]),
    ("orders", RESTORE_DRILL, "rpoSeconds", 3600,
     ["rules copied to the DR vault", "use >= 115200", "copyToDr: true"]),
])
def test_a_restore_scenario_target_below_its_envelope_is_refused(workload, scenario, field, value, words):
    message = error_for(**{f"workloads.{workload}.scenarioTargets": {scenario: {field: value}}})
    assert message.startswith(f"securecart-dr:workloads.{workload}.scenarioTargets.{scenario}.{field}: "), message
    for word in words:
        assert word in message, message


# ----- the inventory's envelope carries each target; the harness judges with it ---------------------


def test_the_envelope_document_gives_the_harness_each_restore_scenarios_target():
    from chaos.journal import targets_from_inventory

    config = load_stack_config(load_stack_file("prod"))
    envelopes = stack_envelopes(config)
    workloads = {}
    for name, w in config.workloads.items():
        workloads[name] = {"kind": w.kind.value, "strategy": w.strategy.name,
                           "targets": {"rto_seconds": w.targets.rto_seconds, "rpo_seconds": w.targets.rpo_seconds},
                           "envelope": envelope_document(envelopes[name], w)}
    ransom = workloads["orders"]["envelope"]["scenarios"][RANSOMWARE]
    assert ransom["target"] == {"rto_seconds": 5400, "rpo_seconds": 60} and ransom["rto_seconds"] == 3960

    targets = targets_from_inventory({"workloads": workloads})
    judged = targets["orders"].for_scenario(RANSOMWARE)
    assert (judged.rto_seconds, judged.rpo_seconds) == (5400, 60)  # not the region-outage 1200 / 300
    images = targets["product-images"].for_scenario(BACKUP_JOB_FAILURE)
    assert (images.rto_seconds, images.rpo_seconds) == (10800, 0)
    drill = targets["app-logs"].for_scenario(RESTORE_DRILL)
    assert (drill.rto_seconds, drill.rpo_seconds) == (10800, 259200)


def test_the_inventory_schema_names_every_scenario_of_the_envelope():
    """The harness checks the inventory against the schema at its boundary: a scenario the schema
    does not name would make every game day refuse the inventory."""
    import json

    from infra.offline import REPO_ROOT

    schema = json.loads((REPO_ROOT / "infra" / "inventory.schema.json").read_text())
    envelope_schema = schema["$defs"]["envelope"]["properties"]
    for block in ("scenarios", "not_covered"):
        assert envelope_schema[block]["propertyNames"]["enum"] == list(SCENARIOS), block
