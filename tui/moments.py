"""Moments typed into a dialog: the exercise leader's seek, an acknowledgement's "until"."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, tzinfo
from typing import Final

from chain.errors import UsageError

_OFFSET = re.compile(r"^([+-])\s*(\d+(?:\.\d+)?)\s*([smhd])$")
_DAY = re.compile(r"^day\s*(\d+(?:\.\d+)?)$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86_400}
_AHEAD = re.compile(r"^\+?\s*(\d+(?:\.\d+)?)\s*([smhd])$")
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")
SEEK_HELP: Final = "try 14:00, 2025-07-20 14:00, 2025-07-20, +2h, -30m, +1d or day 3"
UNTIL_HELP: Final = "try 14:30 (the next 14:30), +2h, +30m or 2025-07-18 08:00"
UNTIL_MOST: Final = 31 * 86_400
"""The furthest an acknowledgement's end may lie ahead: a month (a problem acknowledged for
longer is one to solve, not to silence)."""


def parse_moment(text: str, *, now: float, day_zero: float,
                 zone: tzinfo | None = None) -> float:
    """A moment typed by the exercise leader, in `zone`'s time as the screen shows it (None:
    the machine's): a clock time today, a date and time, an offset from now, or a day of the
    exercise (`day 0` starts at `day_zero`)."""
    typed = text.strip().lower()
    if offset := _OFFSET.match(typed):
        sign = -1 if offset[1] == "-" else 1
        return now + sign * float(offset[2]) * _UNIT[offset[3]]
    if day := _DAY.match(typed):
        return day_zero + float(day[1]) * 86_400
    today = datetime.fromtimestamp(now, zone).date().isoformat()
    for pattern, written in (("%Y-%m-%d %H:%M", f"{today} {typed}"),
                             ("%Y-%m-%d %H:%M:%S", f"{today} {typed}"),
                             ("%Y-%m-%d %H:%M", typed), ("%Y-%m-%d %H:%M:%S", typed),
                             ("%Y-%m-%d", typed)):
        try:
            moment = datetime.strptime(written, pattern)
        except ValueError:
            continue
        return moment.replace(tzinfo=zone).timestamp()  # in the screen's zone (naive: local)
    raise UsageError(f"{text!r} is not a moment: {SEEK_HELP}")


def parse_until(text: str, *, now: float, zone: tzinfo | None = None) -> float | None:
    """An acknowledgement's end as the operator typed it, in `zone`'s time as the screen
    shows it (None: the machine's); None if left empty. `14:30` is the next 14:30 (today's,
    or tomorrow's once it has passed), `+2h` two hours from now; the end must be later, and
    at most UNTIL_MOST ahead."""
    at = _until(text, now, zone)
    if at is not None and at - now > UNTIL_MOST:
        raise UsageError(f"{text.strip()!r} is more than a month ahead: {UNTIL_HELP}")
    return at


def _until(text: str, now: float, zone: tzinfo | None) -> float | None:
    typed = text.strip().lower()
    if not typed:
        return None
    if ahead := _AHEAD.match(typed):
        seconds = float(ahead[1]) * _UNIT[ahead[2]]
        if seconds <= 0:
            raise UsageError(f"{text.strip()!r} is now: the end must be later; {UNTIL_HELP}")
        return now + seconds
    if clock := _CLOCK.match(typed):
        hour, minute, second = int(clock[1]), int(clock[2]), int(clock[3] or 0)
        if hour > 23 or minute > 59 or second > 59:
            raise UsageError(f"{text.strip()!r} is not a time of day: {UNTIL_HELP}")
        moment = datetime.fromtimestamp(now, zone).replace(
            hour=hour, minute=minute, second=second, microsecond=0)
        if moment.timestamp() <= now:
            moment += timedelta(days=1)  # the same time of day tomorrow, across DST too
        return moment.timestamp()
    for pattern in ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"):
        try:
            at = datetime.strptime(typed, pattern).replace(tzinfo=zone).timestamp()
        except ValueError:
            continue
        if at <= now:
            raise UsageError(f"{text.strip()!r} has passed: the end must be later; "
                             f"{UNTIL_HELP}")
        return at
    if typed.startswith("-"):
        raise UsageError(f"{text.strip()!r} is in the past: the end must be later; "
                         f"{UNTIL_HELP}")
    raise UsageError(f"{text.strip()!r} is not a time: {UNTIL_HELP}")
