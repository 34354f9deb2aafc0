"""Which workloads run together, at which time factor: pure planning, no lab."""
from __future__ import annotations

import pytest

from chaos.journal import FAULT_INJECTED, Journal, WorkloadTarget
from chaos.engine.gameday import WaveJournal
from chaos.engine.waves import plan_waves, required_time_factor, step_up


def target(rto: float, rpo: float) -> WorkloadTarget:
    return WorkloadTarget(kind="dynamodb", strategy="warm-standby", rto_seconds=rto, rpo_seconds=rpo)


def test_required_factor_keeps_both_resolutions_under_one_percent_of_their_targets():
    # 50 writes/s (20 ms) against RPO 5 s: 20 ms / 1 % of 5 s = 0.4; the probe (50 ms) vs RTO 60 s
    # needs only 0.083.
    assert required_time_factor(target(60, 5), write_interval=0.02, probe_interval=0.05) == pytest.approx(0.4)
    # RPO 0 sets no factor (lost writes judge it); both zero: real time
    assert required_time_factor(target(60, 0), write_interval=0.02, probe_interval=0.05) == pytest.approx(0.05 / 0.6)
    assert required_time_factor(target(0, 0), write_interval=0.02, probe_interval=0.05) == 1.0


@pytest.mark.parametrize("raw, stepped", [(0.4, 0.5), (0.5, 0.5), (0.034, 0.05), (0.0002, 0.001),
                                          (0.11, 0.2), (3.0, 1.0), (0.002, 0.002)])
def test_factors_step_up_the_1_2_5_series_within_bounds(raw, stepped):
    assert step_up(raw) == pytest.approx(stepped)


def test_waves_group_by_factor_and_split_by_what_the_lab_sustains():
    targets = {"tight": target(60, 5), "loose-a": target(14400, 3600), "loose-b": target(14400, 3600),
               "loose-c": target(14400, 3600)}
    waves = plan_waves(list(targets), targets, profile="aws", fixed_factor=None, rate=50.0,
                       probe_interval=0.05, capacity_writes_per_second=100.0)
    # capacity 100/s at 50 writes/s: two canaries per wave. "tight" needs
    # 1.5 x 20 ms / 1 % of 5 s = 0.6 -> 1 (real time).
    assert [(w.time_factor, w.workloads) for w in waves] == [
        (0.001, ("loose-a", "loose-b")), (0.001, ("loose-c",)), (1.0, ("tight",))]
    fixed = plan_waves(list(targets), targets, profile="mechanics", fixed_factor=0.1, rate=50.0,
                       probe_interval=0.05)
    assert [(w.time_factor, len(w.workloads)) for w in fixed] == [(0.1, 4)]


def test_postgres_canaries_join_a_wave_without_counting_against_the_lab_capacity():
    targets = {n: target(180, 90) for n in ("orders", "a", "b", "c")}
    waves = plan_waves(list(targets), targets, profile="mechanics", fixed_factor=0.1, rate=50.0,
                       probe_interval=0.05, capacity_writes_per_second=100.0,
                       bypass_lab=frozenset({"orders"}))
    assert [w.workloads for w in waves] == [("orders", "a", "b"), ("c",)]


def test_per_scenario_targets_come_from_the_envelope_and_overrides_replace_them():
    envelopes = {"accidental-deletion": {"rto_seconds": 3700.0, "rpo_seconds": 1.0,
                                         "target": {"rto_seconds": 7200.0, "rpo_seconds": 300.0}}}
    base = WorkloadTarget(kind="rds", strategy="pilot-light", rto_seconds=1200, rpo_seconds=300,
                          envelopes=envelopes)
    assert base.for_scenario("accidental-deletion").rto_seconds == 7200.0
    assert base.for_scenario("region-outage") is base
    tightened = base.overridden(rto_seconds=60.0)
    assert tightened.for_scenario("accidental-deletion").rto_seconds == 60.0
    assert tightened.for_scenario("region-outage").rto_seconds == 60.0


def test_a_wave_journal_gives_each_workload_its_own_copy_of_scenario_wide_events():
    journal = Journal()
    WaveJournal(journal, ("a", "b")).record(FAULT_INJECTED, "region-outage", None, fault="region-outage")
    WaveJournal(journal, ("c",)).record(FAULT_INJECTED, "region-outage", "c", fault="x")
    assert [(e.workload, e.data["fault"]) for e in journal.events()] == [
        ("a", "region-outage"), ("b", "region-outage"), ("c", "x")]
    assert len({e.t for e in journal.events()[:2]}) == 1


def test_a_caching_resolver_moves_traffic_only_a_ttl_after_route53_changed_its_answer():
    from chaos.probes.dns import CachingResolver

    now = [0.0]
    resolver = CachingResolver(6.0, clock=lambda: now[0])  # TTL 60 s at factor 0.1
    assert resolver.answer("us-east-1") == "us-east-1"
    now[0] = 10.0
    assert resolver.answer("us-west-2") == "us-east-1"   # the flip is seen first here
    now[0] = 15.9
    assert resolver.answer("us-west-2") == "us-east-1"
    now[0] = 16.0
    assert resolver.answer("us-west-2") == "us-west-2"
    assert CachingResolver(0.0).answer("a") == "a" and CachingResolver(0.0).answer("b") == "b"


def test_a_wave_without_application_failover_deploys_no_dns_and_no_region_switch_plan():
    """A trimmed inventory keeps only what the selected workloads use: the application's record,
    its zone and the Region switch plan (whose traffic step acts on that record) go together."""
    from chaos.engine.gameday import inventory_for
    from chaos.targets.stack_inventory import stack_inventory

    inventory = stack_inventory("prod")
    assert inventory["recovery_plan"] and inventory["application"]
    logs_only = inventory_for(inventory, ["logs"])  # backup-restore: no failover block
    assert logs_only["application"] is None and logs_only["recovery_plan"] is None
    with_catalog = inventory_for(inventory, ["logs", "catalog"])  # catalog fails over by DNS
    assert with_catalog["application"] and with_catalog["recovery_plan"]
