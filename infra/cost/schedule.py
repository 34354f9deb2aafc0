"""Which days an AWS schedule expression fires on: `cron(m h dom mon dow year)` or `rate(N unit)`.

The retention simulation works in whole days, so only the date fields matter (minutes and hours
are checked for form, not used). AWS's rules: exactly one of day-of-month and day-of-week is `?`;
day-of-week is 1-7 with 1 = Sunday (or SUN-SAT); `L` means the last day of the month.
Reference: https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html (read
2026-11-30). Unsupported forms (`W`, `#`, `L` in day-of-week) are refused with one line.
"""
from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Callable

DAY_NAMES = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
MONTH_NAMES = {name.upper(): index for index, name in enumerate(calendar.month_abbr) if name}


class ScheduleError(ValueError):
    """A schedule expression the simulation cannot read; the message names it."""


def _values(field: str, low: int, high: int, names: dict[str, int] | None = None) -> set[int] | None:
    """The set of values a cron field allows; None for `*` and `?` (any)."""
    if field in ("*", "?"):
        return None
    allowed: set[int] = set()
    for part in field.split(","):
        step = 1
        if "/" in part:
            part, step_text = part.split("/", 1)
            step = int(step_text)
        if part in ("*", ""):
            start, end = low, high
        elif "-" in part:
            start_text, end_text = part.split("-", 1)
            start, end = _one(start_text, names), _one(end_text, names)
        else:
            start = end = _one(part, names)
            if step != 1:
                end = high
        if not (low <= start <= high and low <= end <= high) or step < 1:
            raise ScheduleError(f"value {part!r} outside {low}-{high}")
        allowed.update(range(start, end + 1, step))
    return allowed


def _one(text: str, names: dict[str, int] | None) -> int:
    text = text.strip().upper()
    if names and text in names:
        return names[text]
    if not text.isdigit():
        raise ScheduleError(f"{text!r} is not a number" + (f" or one of {', '.join(names)}" if names else ""))
    return int(text)


def day_predicate(expression: str) -> Callable[[dt.date], bool]:
    """A function telling whether the schedule fires (at least once) on a given date."""
    text = expression.strip()
    rate = re.fullmatch(r"rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)", text)
    if rate:
        amount, unit = int(rate.group(1)), rate.group(2)
        if unit.startswith("day") and amount > 1:
            return lambda day: day.toordinal() % amount == 0
        return lambda day: True
    cron = re.fullmatch(r"cron\((.+)\)", text)
    if not cron:
        raise ScheduleError(f"{expression!r} is neither cron(...) nor rate(...)")
    fields = cron.group(1).split()
    if len(fields) != 6:
        raise ScheduleError(f"{expression!r} has {len(fields)} fields; AWS cron has 6")
    minute, hour, dom, month, dow, year = fields
    try:
        _values(minute, 0, 59)
        _values(hour, 0, 23)
        last_day = dom == "L"
        doms = None if last_day else _values(dom, 1, 31)
        months = _values(month, 1, 12, MONTH_NAMES)
        dows = _values(dow, 1, 7, DAY_NAMES)
        years = _values(year, 1970, 2199)
    except (ScheduleError, ValueError) as err:
        raise ScheduleError(f"{expression!r}: {err}") from None
    if any(marker in dom + dow for marker in ("W", "#")) or "L" in dow:
        raise ScheduleError(f"{expression!r}: W, # and L in day-of-week are not supported here")
    if (dom == "?") == (dow == "?"):
        raise ScheduleError(f"{expression!r}: exactly one of day-of-month and day-of-week must be ?")

    def fires(day: dt.date) -> bool:
        if months is not None and day.month not in months:
            return False
        if years is not None and day.year not in years:
            return False
        if last_day:
            return day.day == calendar.monthrange(day.year, day.month)[1]
        if doms is not None and day.day not in doms:
            return False
        # Python: Monday = 0 ... Sunday = 6; AWS: Sunday = 1 ... Saturday = 7.
        return dows is None or (day.weekday() + 1) % 7 + 1 in dows

    return fires
