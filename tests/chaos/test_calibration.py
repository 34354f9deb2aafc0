"""Calibration of the whole harness on the lab: a known replication lag must give a known loss.

With replication lag L and a region outage, the newest write the DR replica holds is the one
acknowledged about L before the fault, so the measured RPO is L within one write interval plus
100 ms, and the lost writes are about (achieved rate) x L. Pausing replication first adds the
pause to the RPO; active-active with lag 0 loses nothing. Everything runs through the real engine
(`run_gameday`) against a real lab process over HTTP.
"""
from __future__ import annotations

import pytest

from chaos.engine.gameday import GameDayPlan, run_gameday
from chaos.engine.setup import EngineSettings
from chaos.targets.lab import LabTarget
from infra.offline import evaluate_stack

RATE = 100.0
TIME_FACTOR = 0.1   # health checks every 1 s x 3: detection in ~3 s
LOSS_TOLERANCE_WRITES = 2


@pytest.fixture(scope="module")
def prod_inventory():
    return evaluate_stack("prod").inventory


@pytest.fixture(scope="module")
def lab():
    target = LabTarget(replication_lag_seconds=None, time_factor=TIME_FACTOR)
    try:
        yield target
    finally:
        target.close()


def run(lab, inventory, tmp_path, *, scenario, workloads, lag, **settings):
    """One scenario through the engine on a fresh deploy with replication lag `lag`."""
    lab.replication_lag_seconds = lag
    # Deploy only the workloads under test: a DynamoDB test need not wait for PostgreSQL.
    inventory = {**inventory, "workloads": {n: inventory["workloads"][n] for n in workloads}}
    plan = GameDayPlan(stack="prod", scenarios=[scenario], workloads=workloads,
                       settings=EngineSettings(rate=RATE, **settings), time_factor=TIME_FACTOR,
                       replication_lag_seconds=lag)
    outcome = run_gameday(plan, lab, inventory, tmp_path)
    return {r.workload: r for r in outcome.results if not r.skipped}


def assert_calibrated(result, lag, *, extra=0.0):
    interval = 1.0 / result.resolution.write_rate_per_second
    expected = lag + extra
    assert result.recovered, result.reasons
    assert abs(result.rpo_seconds - expected) <= interval + 0.1, (
        f"{result.workload}: RPO {result.rpo_seconds:.3f} s vs lag {expected} s "
        f"(interval {interval * 1000:.1f} ms)")
    rate = result.resolution.write_rate_per_second
    expected_lost = rate * expected
    # The same 100 ms the RPO may be off by, in writes, plus the write in flight on each side.
    tolerance = rate * 0.1 + LOSS_TOLERANCE_WRITES
    assert abs(result.lost_writes - expected_lost) <= tolerance, (
        f"{result.workload}: lost {result.lost_writes} vs rate x lag = {expected_lost:.1f}")


@pytest.mark.parametrize("lag", [0.5, 2.0])
def test_dynamodb_region_outage_rpo_matches_the_replication_lag(lab, prod_inventory, tmp_path, lag):
    results = run(lab, prod_inventory, tmp_path, scenario="region-outage", workloads=["catalog"],
                  lag=lag)
    assert_calibrated(results["catalog"], lag)


@pytest.mark.parametrize("lag", [0.5, 2.0])
def test_postgres_cross_region_replica_rpo_matches_the_replication_lag(lab, prod_inventory,
                                                                        tmp_path, lag):
    results = run(lab, prod_inventory, tmp_path, scenario="region-outage", workloads=["orders"],
                  lag=lag)
    assert_calibrated(results["orders"], lag)


def test_pausing_replication_adds_the_pause_to_the_rpo(lab, prod_inventory, tmp_path):
    lag, pause = 0.5, 1.5
    results = run(lab, prod_inventory, tmp_path, scenario="replication-pause",
                  workloads=["sessions"], lag=lag, pause_seconds=pause)
    assert_calibrated(results["sessions"], lag, extra=pause)


def test_active_active_with_lag_zero_loses_nothing(lab, prod_inventory, tmp_path):
    results = run(lab, prod_inventory, tmp_path, scenario="region-outage", workloads=["catalog"],
                  lag=0.0)
    catalog = results["catalog"]
    assert catalog.recovered and catalog.acknowledged_writes > 0
    assert catalog.lost_writes == 0


@pytest.mark.parametrize("scenario", ["instance-failure", "az-outage"])
def test_multi_az_postgres_failover_loses_no_commit(lab, prod_inventory, tmp_path, scenario):
    results = run(lab, prod_inventory, tmp_path, scenario=scenario, workloads=["orders"], lag=None)
    orders = results["orders"]
    assert orders.recovered, orders.reasons
    assert orders.acknowledged_writes > 0 and orders.lost_writes == 0, orders.notes


def test_accidental_deletion_is_restored_on_every_kind(lab, prod_inventory, tmp_path):
    results = run(lab, prod_inventory, tmp_path, scenario="accidental-deletion",
                  workloads=["catalog", "product-images", "orders"], lag=None)
    assert set(results) == {"catalog", "product-images", "orders"}
    for name, result in results.items():
        assert result.recovered, (name, result.reasons)
        # The restore point is the deletion's start: at most the write in flight is lost.
        assert result.lost_writes <= 1, (name, result.lost_writes, result.notes)


def test_dropped_postgres_table_is_restored(lab, prod_inventory, tmp_path):
    results = run(lab, prod_inventory, tmp_path, scenario="accidental-deletion",
                  workloads=["orders"], lag=None, deletion_mode="table")
    orders = results["orders"]
    assert orders.recovered, orders.reasons
    assert orders.lost_writes <= 1 and orders.audit_store.startswith("rds:us-east-1/orders")
    assert "restored" in orders.audit_store
