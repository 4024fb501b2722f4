"""Business hours of a widget: weekly hours in an IANA time zone, and closed dates.

Hours are wall-clock times in the widget's zone, so "09:00-17:00" stays 09:00-17:00 on
both sides of a daylight-saving change (and the instant in UTC moves). A day's intervals
are `["HH:MM", "HH:MM"]`, the end after the start (`"24:00"` ends at midnight); days are
`mon` ... `sun`; a day that is not named is closed. No hours at all: always open.
docs/widget.md, "Business hours"."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
INTERVALS_PER_DAY = 4
CLOSED_DATES_MAX = 100
LOOK_AHEAD_DAYS = 400  # how far `next_opening` looks (closed dates reach a year ahead)

_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$|^24:00$")


def clean_time_zone(value: Any) -> tuple[str, str | None]:
    """(zone, problem): an IANA name such as "Europe/Paris"."""
    if not isinstance(value, str) or value not in _zones():
        return "UTC", 'An IANA time zone name, e.g. "Europe/Paris".'
    return value, None


def _zones() -> set[str]:
    global _ZONES
    if _ZONES is None:
        _ZONES = available_timezones() | {"UTC"}
    return _ZONES


_ZONES: set[str] | None = None


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def clean_hours(value: Any) -> tuple[dict[str, list[list[str]]], list[str]]:
    """(hours, problems)."""
    if not isinstance(value, dict):
        return {}, ['An object of days, e.g. {"mon": [["09:00", "17:00"]]}.']
    problems: list[str] = []
    cleaned: dict[str, list[list[str]]] = {}
    for day, intervals in value.items():
        if day not in DAYS:
            problems.append(f"Unknown day {str(day)[:10]!r}: one of {', '.join(DAYS)}.")
            continue
        if not isinstance(intervals, list) or len(intervals) > INTERVALS_PER_DAY:
            problems.append(f"{day}: a list of at most {INTERVALS_PER_DAY} [start, end] pairs.")
            continue
        spans: list[tuple[int, int]] = []
        for interval in intervals:
            if (
                not isinstance(interval, list)
                or len(interval) != 2
                or not all(isinstance(t, str) and _TIME.match(t) for t in interval)
            ):
                problems.append(f'{day}: each interval is ["HH:MM", "HH:MM"].')
                break
            start, end = (_minutes(t) for t in interval)
            if interval[0] == "24:00" or end <= start:
                problems.append(f"{day}: {interval[0]}-{interval[1]} ends before it starts.")
                break
            spans.append((start, end))
        else:
            spans.sort()
            if any(a[1] > b[0] for a, b in zip(spans, spans[1:], strict=False)):
                problems.append(f"{day}: intervals overlap.")
            elif spans:
                cleaned[day] = [[_hhmm(s), _hhmm(e)] for s, e in spans]
    return {d: cleaned[d] for d in DAYS if d in cleaned}, problems


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def clean_closed_dates(value: Any) -> tuple[list[str], list[str]]:
    if not isinstance(value, list) or len(value) > CLOSED_DATES_MAX:
        return [], [f"A list of at most {CLOSED_DATES_MAX} dates as YYYY-MM-DD."]
    dates: set[str] = set()
    problems = []
    for item in value:
        try:
            dates.add(date.fromisoformat(item).isoformat() if isinstance(item, str) else "")
        except ValueError:
            problems.append(f"Not a date as YYYY-MM-DD: {str(item)[:20]!r}.")
    dates.discard("")
    if any(not isinstance(item, str) for item in value):
        problems.append("Dates are strings as YYYY-MM-DD.")
    return sorted(dates), problems


def _intervals_on(day: date, hours: dict, closed: set[str], zone: ZoneInfo):
    """The open intervals of one local day, as aware datetimes in UTC."""
    if day.isoformat() in closed:
        return
    for start, end in hours.get(DAYS[day.weekday()], []):
        opens = _at(day, start, zone)
        closes = (
            _at(day + timedelta(days=1), "00:00", zone) if end == "24:00" else _at(day, end, zone)
        )
        yield opens, closes


def _at(day: date, hhmm: str, zone: ZoneInfo) -> datetime:
    """A wall-clock time of `zone` as an instant. A time skipped by a change to summer
    time (02:30 on that night) is the instant it would have been: one hour later."""
    hour, minute = (int(x) for x in hhmm.split(":"))
    local = datetime.combine(day, time(hour, minute), tzinfo=zone)
    return local.astimezone(UTC)


def is_open(*, hours: dict, closed_dates: list[str], time_zone: str, now: datetime) -> bool:
    if not hours:
        return date_is_open(closed_dates=closed_dates, time_zone=time_zone, now=now)
    zone = ZoneInfo(time_zone)
    today = now.astimezone(zone).date()
    closed = set(closed_dates)
    # Yesterday's too: an interval that ends at 24:00 may still be running after a shift.
    for day in (today - timedelta(days=1), today):
        for opens, closes in _intervals_on(day, hours, closed, zone):
            if opens <= now < closes:
                return True
    return False


def date_is_open(*, closed_dates: list[str], time_zone: str, now: datetime) -> bool:
    return now.astimezone(ZoneInfo(time_zone)).date().isoformat() not in set(closed_dates)


def next_opening(
    *, hours: dict, closed_dates: list[str], time_zone: str, now: datetime
) -> datetime | None:
    """When the widget opens next after `now` (in UTC), or None when it never does within
    LOOK_AHEAD_DAYS (or has no hours: then only closed dates close it, and it opens at
    the next midnight that is not closed)."""
    zone = ZoneInfo(time_zone)
    today = now.astimezone(zone).date()
    closed = set(closed_dates)
    for offset in range(LOOK_AHEAD_DAYS):
        day = today + timedelta(days=offset)
        if not hours:
            if offset and day.isoformat() not in closed:
                return _at(day, "00:00", zone)
            continue
        for opens, _ in _intervals_on(day, hours, closed, zone):
            if opens > now:
                return opens
    return None
