"""The retention simulation's mechanics: pure functions over whole days, no AWS, no prices.

Everything is a `Ledger` of daily quantities per (mechanism, price key, region):
- levels (GB stored, health checks held): billed on the month's average;
- flows (GB transferred, requests, instance hours): billed on the month's sum.

Two building blocks model what AWS keeps:
- `chain`: recovery points (AWS Backup, RDS and EBS snapshots). The first point of a resource in
  a vault is a full copy, each later one only the data changed since the point before, as AWS
  bills them; when the oldest point expires its blocks roll into the next, so a chain holds
  size(oldest retained) + the changes between retained points. `full_copies=True` is for stores
  whose backups are full every time (DynamoDB).
- `cohorts`: S3 objects by the day they were written, moving through storage classes by age
  under a lifecycle, becoming noncurrent when overwritten or expired (versioned buckets), and
  deleted by noncurrent expiration.

Approximations (said here and in the report): changed data is counted once per day however often
it is rewritten that day; an overwrite keeps the object's class; objects existing on day 0 are
counted as written on day 0; a day has one backup per rule however many times its cron fires.
"""
from __future__ import annotations

import functools
import itertools
import math
import operator
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

DAYS = 365
DAYS_PER_MONTH = 365 / 12


@dataclass
class Ledger:
    days: int = DAYS
    levels: dict[tuple[str, str, str], list[float]] = field(default_factory=dict)
    flows: dict[tuple[str, str, str], list[float]] = field(default_factory=dict)
    points: dict[tuple[str, str, str], list[int]] = field(default_factory=dict)  # recovery points held
    notes: list[str] = field(default_factory=list)

    def level(self, mechanism: str, key: str, region: str) -> list[float]:
        return self.levels.setdefault((mechanism, key, region), [0.0] * self.days)

    def flow(self, mechanism: str, key: str, region: str) -> list[float]:
        return self.flows.setdefault((mechanism, key, region), [0.0] * self.days)

    def held(self, mechanism: str, tier: str, region: str) -> list[int]:
        return self.points.setdefault((mechanism, tier, region), [0] * self.days)

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)


@dataclass(frozen=True)
class Growth:
    """A store's size and daily change, day by day."""

    size_gb: tuple[float, ...]
    change_gb: tuple[float, ...]  # data written or changed that day

    def __post_init__(self) -> None:
        running, total = [0.0], 0.0
        for gb in self.change_gb:
            total += gb
            running.append(total)
        object.__setattr__(self, "_prefix", tuple(running))

    def changed_between(self, after: int, upto: int) -> float:
        """Data changed on days after+1 .. upto (prefix sums: O(1))."""
        prefix = self._prefix  # type: ignore[attr-defined]
        upto = min(upto, len(self.change_gb) - 1)
        return prefix[upto + 1] - prefix[max(after, -1) + 1] if upto > after else 0.0


def compound(data_gb: float, daily_change: float, monthly_growth: float, days: int = DAYS) -> Growth:
    """Size growing `monthly_growth` a month (compounded daily); `daily_change` of it changes a day."""
    sizes = tuple(data_gb * (1 + monthly_growth) ** (day / DAYS_PER_MONTH) for day in range(days))
    return Growth(sizes, tuple(size * daily_change for size in sizes))


@dataclass(frozen=True)
class Point:
    """One recovery point: created on day `created`, cold from `cold` (None: stays warm), gone on
    day `delete` (it is held on days created .. delete-1)."""

    created: int
    delete: int
    cold: int | None = None


def points_from_schedule(fires: Callable[[int], bool], delete_after: int,
                         cold_after: int | None = None, days: int = DAYS) -> list[Point]:
    return [Point(day, day + delete_after, None if cold_after is None else day + cold_after)
            for day in range(days) if fires(day)]


def increments(points: Sequence[Point], growth: Growth, full_copies: bool) -> list[float]:
    """What each new point adds when it is made (a copy job transfers this much)."""
    ordered = sorted(points, key=lambda p: p.created)
    added = []
    for index, point in enumerate(ordered):
        if full_copies or index == 0:
            added.append(growth.size_gb[point.created])
        else:
            added.append(_adds_gb(growth, ordered[index - 1].created, point.created))
    return added


def _adds_gb(growth: Growth, before: int, created: int) -> float:
    """What a point made on day `created` adds over the one made on day `before`: the data changed
    between them, at most a full copy."""
    return min(growth.size_gb[created], growth.changed_between(before, created))


def _held_per_day(points: Sequence[Point], days: int, start: Callable[[Point], int],
                  end: Callable[[Point], int], growth: Growth,
                  full_copies: bool) -> tuple[list[float], list[int]]:
    """GB and points held each day (held on days start .. end-1), by a sweep over the days.

    A day's GB is the oldest held point in full plus, for each later one, what it adds over the
    one held before it (the data changed between them, at most a full copy), summed oldest first.
    What a point adds only changes when the point before it goes, so it is kept beside the point
    and worked out again only then.
    """
    ordered = sorted(points, key=start)
    size = growth.size_gb
    starts = [start(p) for p in ordered]
    full_size = [size[p.created] for p in ordered]
    leaving: dict[int, list[int]] = {}  # day -> the points (indices into `ordered`) that go that day
    for index, point in enumerate(ordered):
        leaving.setdefault(max(end(point), starts[index]), []).append(index)

    def adds(before: int, after: int) -> float:
        return _adds_gb(growth, ordered[before].created, ordered[after].created)

    gb_held, count_held = [0.0] * days, [0] * days
    held: list[int] = []  # indices into `ordered`, oldest first
    added: list[float] = []  # beside each held point: what it adds (unused for the oldest)
    index = 0
    for day in range(days):
        while index < len(ordered) and starts[index] <= day:
            added.append(adds(held[-1], index) if held else 0.0)
            held.append(index)
            index += 1
        for gone in leaving.get(day, ()):
            position = held.index(gone)
            del held[position], added[position]
            if 0 < position < len(held):
                added[position] = adds(held[position - 1], held[position])
        if not held:
            continue
        count_held[day] = len(held)
        if full_copies:
            gb_held[day] = sum([full_size[i] for i in held])
        else:
            # Left to right, one by one, as the definition adds them: not `sum()`, which compensates
            # rounding since Python 3.12 (tests/infra/test_cost_engine_exact.py compares bit for bit).
            gb_held[day] = functools.reduce(operator.add, itertools.islice(added, 1, None), full_size[held[0]])
    return gb_held, count_held


def _add_held(gb: list[float], count: list[int], gb_held: list[float], count_held: list[int]) -> None:
    """Add one sweep's GB and points held per day to the ledger's entries."""
    for day, (held_gb, held_count) in enumerate(zip(gb_held, count_held)):
        gb[day] += held_gb
        count[day] += held_count


def chain(ledger: Ledger, mechanism: str, region: str, points: Iterable[Point], growth: Growth, *,
          warm_key: str, cold_key: str | None = None, full_copies: bool = False,
          cold_minimum_days: int = 0) -> None:
    """Add the recovery points of ONE resource in ONE vault (all its rules together: AWS chains
    increments across rules) to the ledger: warm and cold GB held per day, points held, and the
    early-deletion charge of cold points deleted before `cold_minimum_days`."""
    points = sorted(points, key=lambda p: p.created)
    warm, held_warm = ledger.level(mechanism, warm_key, region), ledger.held(mechanism, "warm", region)
    warm_end = lambda p: min(p.delete, p.cold) if p.cold is not None else p.delete  # noqa: E731
    _add_held(warm, held_warm, *_held_per_day(points, ledger.days, lambda p: p.created, warm_end, growth,
                                              full_copies))
    cold_points = [p for p in points if p.cold is not None and p.cold < p.delete]
    if not cold_points:
        return
    if cold_key is None:
        raise ValueError(f"{mechanism}: points go cold but no cold price key was given")
    cold, held_cold = ledger.level(mechanism, cold_key, region), ledger.held(mechanism, "cold", region)
    _add_held(cold, held_cold, *_held_per_day(cold_points, ledger.days, lambda p: p.cold, lambda p: p.delete,
                                              growth, full_copies))
    early = ledger.flow(mechanism, f"{cold_key}.early_deletion", region)
    sizes = dict(zip([p.created for p in points], increments(points, growth, full_copies)))
    for point in cold_points:
        stayed = point.delete - point.cold
        if stayed < cold_minimum_days and point.delete < ledger.days:
            # Charged on deletion: the remaining days at the cold rate, in GB-months.
            early[point.delete] += sizes[point.created] * (cold_minimum_days - stayed) / DAYS_PER_MONTH


def copy_transfer(ledger: Ledger, mechanism: str, region: str, points: Iterable[Point], growth: Growth,
                  full_copies: bool = False) -> None:
    """GB moved between regions by copy jobs: each copy sends what its point adds."""
    points = sorted(points, key=lambda p: p.created)
    flow = ledger.flow(mechanism, "transfer.inter_region", region)
    for point, added in zip(points, increments(points, growth, full_copies)):
        if point.created < ledger.days:
            flow[point.created] += added


def window(ledger: Ledger, mechanism: str, key: str, region: str, growth: Growth,
           retention_days: int, *, free_gb: Callable[[int], float] | None = None) -> None:
    """Continuous backup / automated backups: the data plus `retention_days` of changes, less a
    free allowance (RDS gives backup storage up to the provisioned size at no charge)."""
    level = ledger.level(mechanism, key, region)
    for day in range(ledger.days):
        kept = growth.size_gb[day] + growth.changed_between(max(-1, day - retention_days), day)
        if free_gb is not None:
            kept = max(0.0, kept - free_gb(day))
        level[day] += kept


# --- S3 objects under a lifecycle -----------------------------------------------------------

@dataclass(frozen=True)
class Transition:
    storage_class: str
    after_days: int


@dataclass(frozen=True)
class Lifecycle:
    """One bucket's lifecycle, read from its rules (current and noncurrent versions)."""

    transitions: tuple[Transition, ...] = ()
    expire_after_days: int | None = None
    noncurrent_transitions: tuple[Transition, ...] = ()
    noncurrent_expire_after_days: int | None = None

    def __post_init__(self) -> None:  # sorted once: class_at walks them in order
        object.__setattr__(self, "transitions", tuple(sorted(self.transitions, key=lambda t: t.after_days)))
        object.__setattr__(self, "noncurrent_transitions",
                           tuple(sorted(self.noncurrent_transitions, key=lambda t: t.after_days)))

    def class_at(self, age: int, noncurrent: bool, start: str) -> str:
        current = start
        for step in self.noncurrent_transitions if noncurrent else self.transitions:
            if age < step.after_days:
                break
            current = step.storage_class
        return current


@dataclass
class _Life:
    """What one cohort (one day's writes, or one day's overwritten versions) does over the year:
    the days it spends in each storage class, its charges, and the days it is a current version."""

    spans: list[tuple[int, int, str]] = field(default_factory=list)  # [first day, end day) in a class
    # (day, order within the day, flow price key, amount): early deletions (0), transition requests (1)
    charges: list[tuple[int, int, str, float]] = field(default_factory=list)
    current_until: int = 0  # a current version on days born .. current_until - 1


def _cohort_life(born: int, gb: float, start_class: str, noncurrent: bool, lifecycle: Lifecycle, days: int,
                 average_object_mb: float, minimum_days: dict[str, int]) -> _Life:
    """One cohort's year under the lifecycle, worked out from the days its state changes on.

    Current versions move by age (days since written) and become noncurrent on expiry;
    noncurrent ones move by days since noncurrent and are deleted on noncurrent expiration. A
    class is only re-evaluated on a day some transition's age is reached: between those days the
    wanted class cannot change."""
    life = _Life()
    storage_class, since, segment = start_class, born, born

    def charge_early(day: int) -> None:  # leaving `storage_class` on `day` (moved or deleted)
        minimum = minimum_days.get(storage_class, 0)
        stayed = day - since
        if stayed < minimum:
            life.charges.append((day, 0, f"s3.{storage_class}.early_deletion",
                                 gb * (minimum - stayed) / DAYS_PER_MONTH))

    def move_at(phase_start: int, phase_end: int, steps: tuple[Transition, ...], is_noncurrent: bool) -> None:
        nonlocal storage_class, since, segment
        for day in sorted({phase_start + max(step.after_days, 0) for step in steps}):
            if day >= phase_end:
                break
            wanted = lifecycle.class_at(day - phase_start, is_noncurrent, storage_class)
            if wanted != storage_class:
                charge_early(day)
                life.charges.append((day, 1, f"s3.transition.{wanted}", gb * 1024 / average_object_mb))
                if day > segment:
                    life.spans.append((segment, day, storage_class))
                storage_class, since, segment = wanted, day, day

    noncurrent_since = born if noncurrent else None
    if noncurrent_since is None:
        expire = lifecycle.expire_after_days
        expires = days if expire is None else min(days, born + max(expire, 0))
        move_at(born, expires, lifecycle.transitions, False)
        life.current_until = expires
        if expires < days:
            noncurrent_since = expires  # versioned bucket: expiry adds a delete marker
    else:
        life.current_until = born
    end = days
    if noncurrent_since is not None:
        delete = lifecycle.noncurrent_expire_after_days
        deleted = days if delete is None else min(days, noncurrent_since + max(delete, 0))
        move_at(noncurrent_since, deleted, lifecycle.noncurrent_transitions, True)
        if deleted < days:
            charge_early(deleted)
            end = deleted
    if end > segment:
        life.spans.append((segment, end, storage_class))
    return life


def cohorts(ledger: Ledger, mechanism: str, region: str, lifecycle: Lifecycle, *, initial_gb: float,
            new_gb: Sequence[float], overwritten_gb: Sequence[float], start_class: str = "STANDARD",
            average_object_mb: float, minimum_days: dict[str, int]) -> list[float]:
    """Simulate a versioned bucket's objects; returns current (live) GB per day.

    Each day's writes are one cohort. Overwrites leave a noncurrent version of the bytes they
    replace (taken as STANDARD-class, recent data). Lifecycle: current versions move by age and
    become noncurrent on expiry; noncurrent versions move by time since noncurrent and are deleted
    by noncurrent expiration. Moving or deleting an object before its class's minimum duration is
    charged as the remaining days (GB-months at that class, `s3.<CLASS>.early_deletion`).
    Transition requests are counted per object (`s3.transition.<CLASS>`, in requests).

    Cohorts do not interact, so each one's year is worked out on its own (`_cohort_life`), then
    added to the ledger cohort by cohort, oldest first: every day's sums add the same amounts in
    the same order as a day-by-day walk over all cohorts would.
    """
    days = ledger.days
    born: list[tuple[int, float, str, bool]] = []  # (day, GB, class, noncurrent), in the order written
    if initial_gb > 0:
        born.append((0, initial_gb, start_class, False))
    for day in range(days):
        if (day > 0 or not born) and new_gb[day] > 0:
            born.append((day, new_gb[day], start_class, False))
        if overwritten_gb[day] > 0:
            born.append((day, overwritten_gb[day], "STANDARD", True))
    lives = [_cohort_life(day, gb, storage_class, noncurrent, lifecycle, days, average_object_mb, minimum_days)
             for day, gb, storage_class, noncurrent in born]
    # Ledger entries are created in the order a day-by-day walk first touches them (the report
    # lists mechanisms in that order): by day, then cohort, then charge before level.
    first_touch: dict[tuple[bool, str], tuple[int, int, int]] = {}
    for index, life in enumerate(lives):
        for day, order, key, _ in life.charges:
            touch = (day, index, order)
            if first_touch.get((False, key), touch) >= touch:
                first_touch[(False, key)] = touch
        for first, _, storage_class in life.spans:
            touch = (first, index, 2)
            if first_touch.get((True, f"s3.{storage_class}"), touch) >= touch:
                first_touch[(True, f"s3.{storage_class}")] = touch
    entries = {}
    for (is_level, key), _ in sorted(first_touch.items(), key=lambda item: item[1]):
        entries[key] = (ledger.level if is_level else ledger.flow)(mechanism, key, region)
    current_gb = [0.0] * days
    for (_, gb, _, _), life in zip(born, lives):
        for day, _, key, amount in life.charges:
            entries[key][day] += amount
        for first, end, storage_class in life.spans:
            level = entries[f"s3.{storage_class}"]
            level[first:end] = [held + gb for held in level[first:end]]
    for (day, gb, _, _), life in zip(born, lives):
        current_gb[day:life.current_until] = [held + gb for held in current_gb[day:life.current_until]]
    return current_gb


def month_slices(days: int = DAYS) -> list[slice]:
    """Twelve slices of the simulated days, one per calendar-sized month (365/12 days)."""
    edges = [math.floor(index * days / 12) for index in range(13)]
    return [slice(edges[i], edges[i + 1]) for i in range(12)]
