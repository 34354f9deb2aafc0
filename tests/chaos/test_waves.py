"""Which workloads run together, at which time factor, and how a wave warms up: no lab."""
from __future__ import annotations

import pytest

from chaos.journal import FAULT_INJECTED, Journal, WorkloadTarget
from chaos.engine.gameday import WaveJournal
from chaos.engine.gameday import _wave_settings, recovery_bound_seconds
from chaos.engine.setup import EngineSettings
from chaos.engine.waves import Wave, merge_groups, plan_waves, required_time_factor, step_up


def target(rto: float, rpo: float) -> WorkloadTarget:
    return WorkloadTarget(kind="dynamodb", strategy="warm-standby", rto_seconds=rto, rpo_seconds=rpo)


def orders_target(envelopes: dict) -> WorkloadTarget:
    """The prod `orders` workload: RDS, pilot-light, RTO 1200 s / RPO 300 s."""
    return WorkloadTarget(kind="rds", strategy="pilot-light", rto_seconds=1200, rpo_seconds=300, envelopes=envelopes)


def test_required_factor_keeps_both_resolutions_under_one_percent_of_their_targets():
    # 50 writes/s (20 ms) against RPO 5 s: 20 ms / 1 % of 5 s = 0.4; the probe (50 ms) vs RTO 60 s
    # needs only 0.083.
    assert required_time_factor(target(60, 5), write_interval=0.02, probe_interval=0.05) == pytest.approx(0.4)
    # RPO 0 sets no factor (lost writes judge it); both zero: real time
    assert required_time_factor(target(60, 0), write_interval=0.02, probe_interval=0.05) == pytest.approx(0.05 / 0.6)
    assert required_time_factor(target(0, 0), write_interval=0.02, probe_interval=0.05) == 1.0


@pytest.mark.parametrize("raw, stepped", [(0.4, 0.4), (0.412, 0.42), (0.034, 0.034), (0.0002, 0.001),
                                          (0.11, 0.11), (3.0, 1.0), (0.002, 0.002), (0.99, 0.99),
                                          (0.00203, 0.0021), (0.0104, 0.011), (0.0125, 0.013)])
def test_factors_step_up_to_two_significant_digits_within_bounds(raw, stepped):
    assert step_up(raw) == pytest.approx(stepped)


def test_waves_group_by_factor_and_split_by_what_the_lab_sustains():
    targets = {"tight": target(60, 5), "loose-a": target(14400, 3600), "loose-b": target(14400, 3600),
               "loose-c": target(14400, 3600)}
    waves = plan_waves(list(targets), targets, profile="aws", fixed_factor=None, rate=50.0,
                       probe_interval=0.05, capacity_writes_per_second=100.0)
    # capacity 100/s at 50 writes/s: two canaries per wave. "tight" needs
    # 1.5 x 20 ms / 1 % of 5 s = 0.6; no envelope, so the loose ones (0.001, spans of
    # 14400 AWS s as far as the planner knows) are not worth merging into its wave.
    assert [(w.time_factor, w.workloads) for w in waves] == [
        (0.001, ("loose-a", "loose-b")), (0.001, ("loose-c",)), (0.6, ("tight",))]
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
    base = orders_target(envelopes)
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


def term(seconds: float, figure: str) -> dict:
    return {"name": figure, "seconds": seconds, "figure": figure}


ORDERS_DELETION = {"rto_seconds": 3960.0, "rpo_seconds": 1.0,
                   "rto_terms": [term(300, "rds.pitr_latest_restorable"), term(3600, "restore.rds"),
                                 term(60, "route53.dns_ttl")],
                   "target": {"rto_seconds": 5400.0, "rpo_seconds": 60.0}}


def test_with_an_envelope_the_factor_resolves_the_room_to_the_target_not_one_percent_of_it():
    """orders x accidental deletion: target RTO 5400 / RPO 60, envelope 3960 / 1 s; asked
    intervals 30 ms (writes) and 125 ms (probe).
    RPO: a quarter of 59 s = 14.75 s -> 0.03 / 14.75 = 0.00203.
    RTO: a quarter of 1440 s = 360 s -> 0.00035; the 2 lab seconds of overhead in the other
    3/4 (1080 s) -> 0.00185 (under the 1 % rule's 0.125 / 54 = 0.00231). Largest: 0.00203.
    The 1 % rule alone asked 0.03 / 0.6 = 0.05: 20x slower for an hour-long padded restore."""
    orders = orders_target({"accidental-deletion": ORDERS_DELETION}).for_scenario("accidental-deletion")
    factor = required_time_factor(orders, write_interval=0.03, probe_interval=0.125,
                                  scenario="accidental-deletion")
    assert factor == pytest.approx(0.03 / 14.75)
    assert step_up(factor) == pytest.approx(0.0021)
    assert required_time_factor(orders, write_interval=0.03, probe_interval=0.125) == pytest.approx(0.05)


def test_lab_overhead_may_ask_for_a_finer_factor_but_never_beyond_the_one_percent_rule():
    """orders x region outage: RTO 1200 vs envelope 1008 (room 192 s): 2 lab seconds of overhead
    in 3/4 of it need 2 / 144 = 0.0139, more than the 1 % rule (0.125 / 12 = 0.0104): capped there.
    RPO: envelope = target (300 s): no room, 1 % -> 0.03 / 3 = 0.01."""
    orders = orders_target({"region-outage": {"rto_seconds": 1008.0, "rpo_seconds": 300.0}})
    assert required_time_factor(orders, write_interval=0.03, probe_interval=0.125,
                                scenario="region-outage") == pytest.approx(0.125 / 12)
    # a roomier target: the overhead term decides (2 / (0.75 x 4992) = 0.000534 vs 1 %: 0.000208)
    roomy = orders.overridden(rto_seconds=6000.0, rpo_seconds=3000.0)
    assert required_time_factor(roomy, write_interval=0.03, probe_interval=0.125,
                                scenario="region-outage") == pytest.approx(2 / (0.75 * 4992))


def test_neighbouring_factor_groups_merge_where_one_wave_costs_less_than_two():
    """Overhead 3 s a wave. a (0.001, span 100 AWS s), b (0.01, 1000 s), c (0.05, 10 s):
    separate 3.1 + 13 + 3.5 = 19.6; a with b at 0.01: 13 + 3.5 = 16.5 (best); b with c at 0.05:
    3 + 50 (worse); all at 0.05: 53."""
    groups = [(0.001, ["a"]), (0.01, ["b"]), (0.05, ["c"])]
    merged = merge_groups(groups, {"a": 100.0, "b": 1000.0, "c": 10.0}, wave_overhead=3.0)
    assert merged == [(0.01, ["a", "b"]), (0.05, ["c"])]
    assert merge_groups([], {}) == []


def test_a_deletion_wave_plan_keeps_the_padded_restore_apart_and_merges_the_instant_ones():
    """rds: padded PITR restore (3600 + 60 s scaled) at 0.0021; s3 delete markers (envelope 0,
    target 60 s: 2 / 45 = 0.0444) at 0.045; an EC2 relaunch (unpadded in the lab: nothing scaled)
    needs 0.0069 but costs nothing at 0.045, so it joins the s3 wave rather than paying its own."""
    rds = orders_target({"accidental-deletion": ORDERS_DELETION})
    s3 = WorkloadTarget(kind="s3", strategy="warm-standby", rto_seconds=180, rpo_seconds=900,
                        envelopes={"accidental-deletion": {"rto_seconds": 0.0, "rpo_seconds": 0.0,
                                                           "target": {"rto_seconds": 60, "rpo_seconds": 0}}})
    ebs = WorkloadTarget(kind="ec2", strategy="pilot-light", rto_seconds=900, rpo_seconds=129600,
                         envelopes={"accidental-deletion": {
                             "rto_seconds": 1500.0, "rpo_seconds": 50400.0,
                             "rto_terms": [term(1500, "ec2.launch_and_boot")],
                             "target": {"rto_seconds": 1800, "rpo_seconds": 129600}}})
    judged = {n: t.for_scenario("accidental-deletion") for n, t in (("orders", rds), ("logs", s3), ("compute", ebs))}
    waves = plan_waves(list(judged), judged, profile="aws", fixed_factor=None, rate=50.0,
                       probe_interval=0.05, scenario="accidental-deletion")
    assert [(w.time_factor, w.workloads) for w in waves] == [
        (pytest.approx(0.0021), ("orders",)), (pytest.approx(0.045), ("compute", "logs"))]


def test_the_recovery_budget_covers_the_padded_restore_even_without_a_scenario_envelope():
    """ransomware of orders restores by PITR (3960 s padded) while its target is 1200 s: with no
    ransomware envelope the slowest envelope of the workload bounds the wait, x3, in lab time."""
    orders = orders_target({"accidental-deletion": ORDERS_DELETION,
                            "region-outage": {"rto_seconds": 1008.0}})
    assert recovery_bound_seconds(orders, "ransomware") == 3960.0
    assert recovery_bound_seconds(orders, "region-outage") == 1200.0
    settings = _wave_settings(EngineSettings(), Wave(0.05, ("orders",)), {"orders": orders},
                              "ransomware", "aws", True)
    assert settings.budget_seconds == pytest.approx(3 * 3960 * 0.05)


class _ClockCanary:
    """A canary whose writes are acknowledged every `interval` from `start()` on (the real clock)."""

    def __init__(self, interval: float):
        self.interval, self.started = interval, None

    def start(self):
        import time
        self.started = time.monotonic()

    @property
    def acked(self) -> int:
        import time
        return 0 if self.started is None else int((time.monotonic() - self.started) / self.interval)

    @property
    def first_acked_at(self):
        return None if self.acked == 0 else self.started + self.interval

    @property
    def first_acked_seq(self):
        return None if self.acked == 0 else 0


def test_warm_up_ends_once_every_canary_has_its_acks_and_the_lag_has_passed_since_its_first(monkeypatch):
    """Not a fixed 1 s + lag: the warm-up waits for WARMUP_ACKS acknowledgements and `lag +
    min_warmup_seconds` after the first one, for each canary, whichever comes last."""
    # Not this worker's heap: chaos.heap is tested in fresh interpreters (test_heap.py).
    monkeypatch.setattr("chaos.engine.run.heap.settle", lambda: False)
    import threading
    import time
    from types import SimpleNamespace

    from chaos.engine.run import WARMUP_ACKS, _warm_up

    fast, slow = _ClockCanary(0.005), _ClockCanary(0.02)
    runs = [SimpleNamespace(name=n, canary=c, probe=SimpleNamespace(), detector=SimpleNamespace())
            for n, c in (("fast", fast), ("slow", slow))]
    settings = EngineSettings(min_warmup_seconds=0.05)
    _warm_up(runs, settings, 0.2, threading.Event())
    now = time.monotonic()
    for canary in (fast, slow):
        assert canary.acked >= WARMUP_ACKS
        assert now - canary.first_acked_at >= 0.2 + 0.05
    assert runs[0].probe.witness_seq == 0 and runs[1].detector.witness_seq == 0


def test_only_the_lab_whose_lags_are_known_settles_a_short_warm_up():
    """The lab's deploy reports every replication lag: 0.25 s past it is enough. LocalStack and
    AWS do not: the 1 s default stays (the witness must be replicated before the fault)."""
    target = WorkloadTarget(kind="dynamodb", strategy="warm-standby", rto_seconds=180, rpo_seconds=120)
    lab = _wave_settings(EngineSettings(), Wave(0.04, ("catalog",)), {"catalog": target},
                         "region-outage", "aws", True)
    real = _wave_settings(EngineSettings(), Wave(1.0, ("catalog",)), {"catalog": target},
                          "region-outage", "aws", False)
    assert lab.min_warmup_seconds == 0.25 and real.min_warmup_seconds == 1.0
