"""The simulation's fast paths agree exactly (same floats, same ledger order) with the plain
day-by-day definition of what AWS keeps.

`engine.chain` and `engine.cohorts` avoid walking every held point or every object cohort on
every day. The definitions below do walk them, one day at a time: for varied rules (gaps between
held points, cold storage, backwards and same-day transitions, expiry on day 0, entries already in
the ledger) both must give identical ledgers, to the last bit, so the report does not move.
"""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from infra.cost import engine
from infra.cost.engine import DAYS_PER_MONTH, Ledger, Lifecycle, Point, Transition
from infra.cost.workloads import S3_MINIMUM_DAYS

GROWTH = engine.compound(250.0, 0.013, 0.021)  # non-round sizes: additions in another order would show


# --- the definitions -----------------------------------------------------------------------------

def held_gb(held: list[Point], full_copies: bool) -> float:
    """The oldest held point in full, then what each later one adds over the one before it."""
    size = GROWTH.size_gb
    if not held:
        return 0.0
    if full_copies:
        return sum(size[p.created] for p in held)
    total = size[held[0].created]
    for before, point in zip(held, held[1:]):
        total += min(size[point.created], GROWTH.changed_between(before.created, point.created))
    return total


def chain_by_day(points: list[Point], full_copies: bool) -> Ledger:
    ledger = Ledger()
    points = sorted(points, key=lambda p: p.created)
    warm, warm_count = ledger.level("b", "warm", "r"), ledger.held("b", "warm", "r")
    warm_end = [min(p.delete, p.cold) if p.cold is not None else p.delete for p in points]
    for day in range(ledger.days):
        held = [p for p, end in zip(points, warm_end) if p.created <= day < end]
        warm[day] += held_gb(held, full_copies)
        warm_count[day] += len(held)
    cold_points = sorted([p for p in points if p.cold is not None and p.cold < p.delete], key=lambda p: p.cold)
    if cold_points:  # held oldest-cold first
        cold, cold_count = ledger.level("b", "cold", "r"), ledger.held("b", "cold", "r")
        for day in range(ledger.days):
            held = [p for p in cold_points if p.cold <= day < p.delete]
            cold[day] += held_gb(held, full_copies)
            cold_count[day] += len(held)
    return ledger


@dataclass
class Cohort:
    born: int
    gb: float
    storage_class: str
    since: int
    noncurrent_since: int | None = None


def cohorts_by_day(ledger: Ledger, lifecycle: Lifecycle, initial_gb: float, new_gb: list[float],
                   overwritten_gb: list[float], start_class: str) -> list[float]:
    """Every cohort, every day: expiry, noncurrent expiration, the class its age calls for."""

    def leave(cohort: Cohort, day: int) -> None:  # early deletion of the class it leaves
        minimum, stayed = S3_MINIMUM_DAYS.get(cohort.storage_class, 0), day - cohort.since
        if stayed < minimum:
            ledger.flow("o", f"s3.{cohort.storage_class}.early_deletion", "r")[day] += \
                cohort.gb * (minimum - stayed) / DAYS_PER_MONTH

    live = [Cohort(0, initial_gb, start_class, 0)] if initial_gb > 0 else []
    current = []
    for day in range(ledger.days):
        if (day > 0 or not live) and new_gb[day] > 0:
            live.append(Cohort(day, new_gb[day], start_class, day))
        if overwritten_gb[day] > 0:
            live.append(Cohort(day, overwritten_gb[day], "STANDARD", day, noncurrent_since=day))
        kept = []
        for cohort in live:
            if cohort.noncurrent_since is None and lifecycle.expire_after_days is not None \
                    and day - cohort.born >= lifecycle.expire_after_days:
                cohort.noncurrent_since = day
            noncurrent = cohort.noncurrent_since is not None
            if noncurrent and lifecycle.noncurrent_expire_after_days is not None \
                    and day - cohort.noncurrent_since >= lifecycle.noncurrent_expire_after_days:
                leave(cohort, day)
                continue
            age = day - (cohort.noncurrent_since if noncurrent else cohort.born)
            wanted = lifecycle.class_at(age, noncurrent, cohort.storage_class)
            if wanted != cohort.storage_class:
                leave(cohort, day)
                ledger.flow("o", f"s3.transition.{wanted}", "r")[day] += cohort.gb * 1024 / 4.0
                cohort.storage_class, cohort.since = wanted, day
            ledger.level("o", f"s3.{cohort.storage_class}", "r")[day] += cohort.gb
            kept.append(cohort)
        live = kept
        # Added one by one in the order written, as the engine does: `sum()` of floats compensates
        # its rounding since Python 3.12 (Neumaier), so it differs in the last bit there.
        total = 0.0
        for cohort in live:
            if cohort.noncurrent_since is None:
                total += cohort.gb
        current.append(total)
    return current


# --- the comparisons ------------------------------------------------------------------------------

def assert_same(fast: Ledger, definition: Ledger, entries_compared=("levels", "flows", "points")) -> None:
    for entries in entries_compared:
        got, want = getattr(fast, entries), getattr(definition, entries)
        assert list(got) == list(want), f"{entries}: entries created in another order"
        for key in want:
            assert got[key] == want[key], f"{entries} {key}: first differing day " \
                f"{next(d for d, (a, b) in enumerate(zip(got[key], want[key])) if a != b)}"


DAILY = [Point(d, d + 35) for d in range(365)]
WEEKLY_COLD = [Point(d, d + 120, cold=d + 30) for d in range(0, 365, 7)]
MONTHLY_COLD = [Point(d, d + 365, cold=d + 60) for d in range(0, 365, 30)]
SHORT_COLD = [Point(d, d + 40, cold=d + 10) for d in range(3, 365, 11)]  # cold ends before warm order
ODD = [Point(5, 5), Point(9, 4), Point(20, 50, cold=20), Point(30, 60, cold=70), Point(364, 400, cold=364)]


@pytest.mark.parametrize("points", [DAILY, DAILY + WEEKLY_COLD + MONTHLY_COLD, WEEKLY_COLD + SHORT_COLD,
                                    DAILY + SHORT_COLD + ODD, ODD, []],
                         ids=["daily", "daily-weekly-monthly", "cold-order-differs", "mixed", "odd", "none"])
@pytest.mark.parametrize("full_copies", [False, True], ids=["incremental", "full"])
def test_chain_equals_the_day_by_day_sum(points, full_copies):
    fast = Ledger()
    engine.chain(fast, "b", "r", points, GROWTH, warm_key="warm", cold_key="cold", full_copies=full_copies,
                 cold_minimum_days=90)
    # (the early-deletion charges are priced per point, not swept: tests/infra/test_cost_simulation.py)
    assert_same(fast, chain_by_day(points, full_copies), ("levels", "points"))


WRITES = [gb * 0.6 for gb in GROWTH.change_gb]
OVERWRITES = [gb * 0.4 if day % 3 else 0.0 for day, gb in enumerate(GROWTH.change_gb)]
LIFECYCLES = {
    "tiers-expiry": Lifecycle((Transition("STANDARD_IA", 30), Transition("GLACIER", 90),
                               Transition("DEEP_ARCHIVE", 180)), expire_after_days=200,
                              noncurrent_transitions=(Transition("GLACIER", 10),), noncurrent_expire_after_days=60),
    "same-day-steps": Lifecycle((Transition("GLACIER", 45), Transition("STANDARD_IA", 45)),
                                noncurrent_expire_after_days=5),
    "expire-day-0": Lifecycle((Transition("STANDARD_IA", 0),), expire_after_days=0,
                              noncurrent_transitions=(Transition("DEEP_ARCHIVE", 0),), noncurrent_expire_after_days=0),
    "noncurrent-moves-back": Lifecycle((Transition("DEEP_ARCHIVE", 20),), expire_after_days=40,
                                       noncurrent_transitions=(Transition("STANDARD_IA", 15),)),
    "none": Lifecycle(),
}


@pytest.mark.parametrize("lifecycle", LIFECYCLES.values(), ids=LIFECYCLES.keys())
@pytest.mark.parametrize("start_class,initial_gb", [("STANDARD", 250.0), ("GLACIER", 0.0)])
def test_cohorts_equal_the_day_by_day_walk(lifecycle, start_class, initial_gb):
    fast, definition = Ledger(), Ledger()
    for ledger in (fast, definition):  # entries already there: the fast path adds onto them in order
        ledger.level("o", "s3.STANDARD", "r")[7] = 1.1
        ledger.flow("o", "s3.transition.GLACIER", "r")[90] = 3.3
    current = engine.cohorts(fast, "o", "r", lifecycle, initial_gb=initial_gb, new_gb=WRITES,
                             overwritten_gb=OVERWRITES, start_class=start_class, average_object_mb=4.0,
                             minimum_days=S3_MINIMUM_DAYS)
    expected = cohorts_by_day(definition, lifecycle, initial_gb, WRITES, OVERWRITES, start_class)
    assert current == expected
    assert_same(fast, definition)
