"""Traffic profiles: how a link's rate varies over the week (office hours, nights, weekends).

A profile gives relative weights per hour of a weekday and of a weekend day, in local time;
they are scaled so that their mean over the week is 1, so that a link's `per_hour` (a yearly
average) times the weight of an hour is that hour's expected rate.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import Annotated, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec
from msgspec import Meta

HOURS_PER_WEEK: Final = 168
_CYCLE_HOURS: Final = 146_097 * 24
"""400 Gregorian years: exactly 20 871 weeks, so weekdays and calendars repeat."""
_BASE_HOUR: Final = 262_968
"""2000-01-01 00:00 UTC in hours since the epoch."""
Weight = Annotated[float, Meta(ge=0)]
Day = Annotated[tuple[Weight, ...], Meta(min_length=24, max_length=24)]


class Profile(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    id: Annotated[str, Meta(min_length=1)]
    basis: Annotated[str, Meta(min_length=1)]
    """Where the shape comes from, or "placeholder: ..."."""
    weekday: Day
    """Relative weight of each local hour, 00-01 first, Monday to Friday."""
    weekend: Day
    """The same for Saturday and Sunday."""

    def weights(self) -> tuple[float, ...]:
        """One weight per hour of the week (Monday 00-01 first), with mean 1."""
        week = (*self.weekday * 5, *self.weekend * 2)
        total = sum(week)
        if total <= 0:
            return (1.0,) * HOURS_PER_WEEK
        return tuple(w * HOURS_PER_WEEK / total for w in week)


FLAT: Final = Profile(id="flat", basis="the same rate at every hour", weekday=(1.0,) * 24,
                      weekend=(1.0,) * 24)
"""The profile of a link that names none."""


@lru_cache(maxsize=8192)
def hour_of_week(utc_hour: int, zone: str) -> int:
    """The local hour of the week (0 = Monday 00-01) of the UTC hour `utc_hour` (epoch
    seconds // 3600) in time zone `zone`; cached, as every sample asks. Any hour is fine:
    one beyond the calendar's range (a simulation run very fast) is taken at the same place
    of the 400-year cycle (today's zone rules are the best guess for any other year)."""
    folded = (utc_hour - _BASE_HOUR) % _CYCLE_HOURS + _BASE_HOUR
    local = datetime.fromtimestamp(folded * 3600, UTC).astimezone(_zone(zone))
    return local.weekday() * 24 + local.hour


@lru_cache(maxsize=16)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def zone_problem(name: str) -> str | None:
    """Why `name` is not a time zone this machine knows, or None if it is one."""
    try:
        _zone(name)
    except (ValueError, ZoneInfoNotFoundError):
        return f"{name!r} is not a known time zone (e.g. \"Europe/Amsterdam\")"
    return None
