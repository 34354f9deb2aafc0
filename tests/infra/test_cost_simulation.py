"""The retention simulation's arithmetic on hand-worked cases, and the minimum-duration rules.

Each expected number is worked by hand in the comment above it; the simulation must agree.
"""
from __future__ import annotations

import datetime as dt

import pytest

from infra.cost import engine
from infra.cost.engine import DAYS_PER_MONTH, Growth, Ledger, Lifecycle, Point, Transition
from infra.cost.estimate import price_ledger
from infra.cost.schedule import ScheduleError, day_predicate
from infra.cost.workloads import S3_MINIMUM_DAYS


def flat(size: float, change: float, days: int = 365) -> Growth:
    return Growth(tuple([size] * days), tuple([change] * days))


def test_incremental_chain_holds_one_full_copy_plus_the_changes_between_points():
    ledger = Ledger()
    # Daily points kept 3 days; 100 GB, 1 GB changes a day. On day 5 points of days 3, 4, 5 are
    # held: the oldest as a full 100 GB, then +1 GB and +1 GB.
    engine.chain(ledger, "backups", "r", [Point(d, d + 3) for d in range(365)], flat(100, 1), warm_key="k")
    assert ledger.levels[("backups", "k", "r")][5] == pytest.approx(102)
    assert ledger.points[("backups", "warm", "r")][5] == 3


def test_rules_writing_to_one_vault_share_one_chain():
    ledger = Ledger()
    # A daily point kept 2 days plus a weekly one (day 0) kept 10 days. Day 6 holds days 0, 5, 6:
    # 100 (day 0, full) + min(100, 5 GB changed on days 1-5) + 1 = 106, not two full copies.
    points = [Point(d, d + 2) for d in range(365)] + [Point(0, 10)]
    engine.chain(ledger, "backups", "r", points, flat(100, 1), warm_key="k")
    assert ledger.levels[("backups", "k", "r")][6] == pytest.approx(106)


def test_full_copy_stores_keep_each_backup_whole():
    ledger = Ledger()
    # DynamoDB backups are full: three held 100 GB backups are 300 GB.
    engine.chain(ledger, "backups", "r", [Point(d, d + 3) for d in range(365)], flat(100, 1), warm_key="k",
                 full_copies=True)
    assert ledger.levels[("backups", "k", "r")][10] == pytest.approx(300)


def test_cold_storage_deleted_before_90_days_is_charged_the_rest():
    ledger = Ledger()
    # One point: warm days 0-9, cold days 10-39, deleted on day 40 after 30 cold days: AWS bills
    # the remaining 60 days, i.e. 100 GB x 60/30.4167 = 197.26 GB-months at the cold rate.
    engine.chain(ledger, "backups", "r", [Point(0, 40, cold=10)], flat(100, 0), warm_key="warm",
                 cold_key="backup.cold", cold_minimum_days=90)
    assert ledger.levels[("backups", "warm", "r")][9] == 100 and ledger.levels[("backups", "warm", "r")][10] == 0
    assert ledger.levels[("backups", "backup.cold", "r")][10] == 100
    early = ledger.flows[("backups", "backup.cold.early_deletion", "r")]
    assert early[40] == pytest.approx(100 * 60 / DAYS_PER_MONTH)
    assert sum(early) == pytest.approx(early[40])


def test_cold_storage_kept_90_days_costs_no_early_deletion():
    ledger = Ledger()
    engine.chain(ledger, "backups", "r", [Point(0, 120, cold=30)], flat(100, 0), warm_key="warm",
                 cold_key="backup.cold", cold_minimum_days=90)
    assert sum(ledger.flows[("backups", "backup.cold.early_deletion", "r")]) == 0


def s3(lifecycle: Lifecycle, *, initial: float = 100.0) -> Ledger:
    ledger = Ledger()
    engine.cohorts(ledger, "objects", "r", lifecycle, initial_gb=initial, new_gb=[0.0] * 365,
                   overwritten_gb=[0.0] * 365, average_object_mb=1, minimum_days=S3_MINIMUM_DAYS)
    return ledger


def test_deep_archive_deleted_after_30_days_is_charged_for_180():
    # DEEP_ARCHIVE on day 10, expired (noncurrent) on day 40, noncurrent versions deleted at once:
    # 30 days stored of the 180-day minimum, so 150 more days: 100 GB x 150/30.4167 GB-months.
    ledger = s3(Lifecycle((Transition("DEEP_ARCHIVE", 10),), expire_after_days=40,
                          noncurrent_expire_after_days=0))
    assert ledger.levels[("objects", "s3.STANDARD", "r")][9] == 100
    assert ledger.levels[("objects", "s3.DEEP_ARCHIVE", "r")][39] == 100
    assert ledger.levels[("objects", "s3.DEEP_ARCHIVE", "r")][40] == 0
    early = ledger.flows[("objects", "s3.DEEP_ARCHIVE.early_deletion", "r")]
    assert early[40] == pytest.approx(100 * 150 / DAYS_PER_MONTH)
    # one transition request per object: 100 GB of 1 MB objects
    assert sum(ledger.flows[("objects", "s3.transition.DEEP_ARCHIVE", "r")]) == pytest.approx(102_400)


def test_standard_ia_left_after_15_days_is_charged_30():
    # IA on day 30, Glacier on day 45: 15 days of IA's 30-day minimum, 15 more charged at IA's rate.
    ledger = s3(Lifecycle((Transition("STANDARD_IA", 30), Transition("GLACIER", 45))))
    assert ledger.flows[("objects", "s3.STANDARD_IA.early_deletion", "r")][45] == pytest.approx(100 * 15 / DAYS_PER_MONTH)
    assert ledger.levels[("objects", "s3.GLACIER", "r")][364] == 100


def test_glacier_minimum_is_90_days():
    ledger = s3(Lifecycle((Transition("GLACIER", 30),), expire_after_days=60, noncurrent_expire_after_days=1))
    # In Glacier from day 30, deleted on day 61 (noncurrent from 60, +1 day): 31 days, 59 charged.
    assert ledger.flows[("objects", "s3.GLACIER.early_deletion", "r")][61] == pytest.approx(100 * 59 / DAYS_PER_MONTH)


def test_overwrites_leave_noncurrent_versions_until_noncurrent_expiry():
    ledger = Ledger()
    overwritten = [0.0] * 365
    overwritten[0] = 10.0
    current = engine.cohorts(ledger, "objects", "r", Lifecycle(noncurrent_expire_after_days=30), initial_gb=100,
                             new_gb=[0.0] * 365, overwritten_gb=overwritten, average_object_mb=1,
                             minimum_days=S3_MINIMUM_DAYS)
    standard = ledger.levels[("objects", "s3.STANDARD", "r")]
    assert current[5] == 100 and standard[5] == 110 and standard[29] == 110 and standard[30] == 100


def test_continuous_window_keeps_the_data_and_its_changes():
    ledger = Ledger()
    # 100 GB + 7 days x 2 GB of changes, less a 100 GB free allowance = 14 GB billed (day >= 7).
    engine.window(ledger, "pitr", "k", "r", flat(100, 2), 7, free_gb=lambda day: 100)
    assert ledger.levels[("pitr", "k", "r")][20] == pytest.approx(14)


def test_pricing_a_ledger_averages_levels_and_sums_flows():
    ledger = Ledger()
    level = ledger.level("versions", "s3.STANDARD", "us-east-1")
    for day in range(365):
        level[day] = 100.0
    flow = ledger.flow("replica", "transfer.inter_region", "us-east-1")
    for day in range(365):
        flow[day] = 1.0
    priced, unpriced = price_ledger("w", ledger)
    assert unpriced == []
    lines = {line.key: line for line in priced}
    # 100 GB-month at $0.023; December has days 334..364 (31 days) x 1 GB x $0.02.
    assert lines["s3.STANDARD"].steady_usd == pytest.approx(2.30)
    assert lines["transfer.inter_region"].steady_usd == pytest.approx(31 * 0.02)
    assert lines["s3.STANDARD"].service == "Amazon Simple Storage Service"


@pytest.mark.parametrize("expression, fires_in_2027", [
    ("cron(0 5 * * ? *)", 365), ("cron(0 6 ? * SUN *)", 52), ("cron(0 7 1 * ? *)", 12),
    ("cron(0 3 L * ? *)", 12), ("cron(0 3 ? * MON-FRI *)", 261), ("rate(7 days)", 52),
])
def test_schedules_fire_on_the_right_days(expression, fires_in_2027):
    fires = day_predicate(expression)
    start = dt.date(2027, 1, 1)
    assert sum(fires(start + dt.timedelta(days=d)) for d in range(365)) == fires_in_2027


@pytest.mark.parametrize("expression", ["cron(0 5 * * *)", "cron(0 5 * * * *)", "cron(0 5 ? * 9 *)",
                                        "every day", "cron(0 5 ? * 2#1 *)"])
def test_unreadable_schedules_are_refused(expression):
    with pytest.raises(ScheduleError):
        day_predicate(expression)
