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

import math
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


def _held_size(held: Sequence[Point], growth: Growth, full_copies: bool) -> float:
    if not held:
        return 0.0
    if full_copies:
        return sum(growth.size_gb[p.created] for p in held)
    total = growth.size_gb[held[0].created]
    for before, point in zip(held, held[1:]):
        total += min(growth.size_gb[point.created], growth.changed_between(before.created, point.created))
    return total


def increments(points: Sequence[Point], growth: Growth, full_copies: bool) -> list[float]:
    """What each new point adds when it is made (a copy job transfers this much)."""
    ordered = sorted(points, key=lambda p: p.created)
    added = []
    for index, point in enumerate(ordered):
        if full_copies or index == 0:
            added.append(growth.size_gb[point.created])
        else:
            added.append(min(growth.size_gb[point.created],
                             growth.changed_between(ordered[index - 1].created, point.created)))
    return added


def _held_per_day(points: Sequence[Point], days: int, start: Callable[[Point], int],
                  end: Callable[[Point], int]) -> Iterable[tuple[int, list[Point]]]:
    """(day, points held that day, oldest first): a sweep, O(days x held)."""
    ordered = sorted(points, key=start)
    active: list[Point] = []
    index = 0
    for day in range(days):
        while index < len(ordered) and start(ordered[index]) <= day:
            active.append(ordered[index])
            index += 1
        active = [p for p in active if end(p) > day]
        yield day, active


def chain(ledger: Ledger, mechanism: str, region: str, points: Iterable[Point], growth: Growth, *,
          warm_key: str, cold_key: str | None = None, full_copies: bool = False,
          cold_minimum_days: int = 0) -> None:
    """Add the recovery points of ONE resource in ONE vault (all its rules together: AWS chains
    increments across rules) to the ledger: warm and cold GB held per day, points held, and the
    early-deletion charge of cold points deleted before `cold_minimum_days`."""
    points = sorted(points, key=lambda p: p.created)
    warm, held_warm = ledger.level(mechanism, warm_key, region), ledger.held(mechanism, "warm", region)
    warm_end = lambda p: min(p.delete, p.cold) if p.cold is not None else p.delete  # noqa: E731
    for day, held in _held_per_day(points, ledger.days, lambda p: p.created, warm_end):
        warm[day] += _held_size(held, growth, full_copies)
        held_warm[day] += len(held)
    cold_points = [p for p in points if p.cold is not None and p.cold < p.delete]
    if not cold_points:
        return
    if cold_key is None:
        raise ValueError(f"{mechanism}: points go cold but no cold price key was given")
    cold, held_cold = ledger.level(mechanism, cold_key, region), ledger.held(mechanism, "cold", region)
    for day, held in _held_per_day(cold_points, ledger.days, lambda p: p.cold, lambda p: p.delete):
        cold[day] += _held_size(held, growth, full_copies)
        held_cold[day] += len(held)
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

    def __post_init__(self) -> None:  # sorted once: class_at runs per object cohort per day
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
class _Cohort:
    born: int
    gb: float
    storage_class: str
    class_since: int
    noncurrent_since: int | None = None


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
    """
    live: list[_Cohort] = [_Cohort(0, initial_gb, start_class, 0)] if initial_gb > 0 else []
    current_gb = []
    levels: dict[str, list[float]] = {}  # storage class -> the ledger's daily list (looked up once)
    for day in range(ledger.days):
        if day > 0 or not live:
            if new_gb[day] > 0:
                live.append(_Cohort(day, new_gb[day], start_class, day))
        if overwritten_gb[day] > 0:
            live.append(_Cohort(day, overwritten_gb[day], "STANDARD", day, noncurrent_since=day))
        survivors = []
        for cohort in live:
            noncurrent = cohort.noncurrent_since is not None
            if not noncurrent and lifecycle.expire_after_days is not None \
                    and day - cohort.born >= lifecycle.expire_after_days:
                cohort.noncurrent_since = day  # versioned bucket: expiry adds a delete marker
                noncurrent = True
            if noncurrent and lifecycle.noncurrent_expire_after_days is not None \
                    and day - cohort.noncurrent_since >= lifecycle.noncurrent_expire_after_days:
                _charge_early(ledger, mechanism, region, cohort, day, minimum_days)
                continue
            age = day - (cohort.noncurrent_since if noncurrent else cohort.born)
            wanted = lifecycle.class_at(age, noncurrent, cohort.storage_class)
            if wanted != cohort.storage_class:
                _charge_early(ledger, mechanism, region, cohort, day, minimum_days)
                requests = cohort.gb * 1024 / average_object_mb
                ledger.flow(mechanism, f"s3.transition.{wanted}", region)[day] += requests
                cohort.storage_class, cohort.class_since = wanted, day
            level = levels.get(cohort.storage_class)
            if level is None:
                level = levels[cohort.storage_class] = ledger.level(mechanism, f"s3.{cohort.storage_class}", region)
            level[day] += cohort.gb
            survivors.append(cohort)
        live = survivors
        current_gb.append(sum(c.gb for c in live if c.noncurrent_since is None))
    return current_gb


def _charge_early(ledger: Ledger, mechanism: str, region: str, cohort: _Cohort, day: int,
                  minimum_days: dict[str, int]) -> None:
    minimum = minimum_days.get(cohort.storage_class, 0)
    stayed = day - cohort.class_since
    if stayed < minimum:
        key = f"s3.{cohort.storage_class}.early_deletion"
        ledger.flow(mechanism, key, region)[day] += cohort.gb * (minimum - stayed) / DAYS_PER_MONTH


def month_slices(days: int = DAYS) -> list[slice]:
    """Twelve slices of the simulated days, one per calendar-sized month (365/12 days)."""
    edges = [math.floor(index * days / 12) for index in range(13)]
    return [slice(edges[i], edges[i + 1]) for i in range(12)]
