"""What the exercise leader types into the seek dialog, read as a moment of virtual time."""

from __future__ import annotations

import re
from datetime import datetime, tzinfo
from typing import Final

from chain.errors import UsageError

_OFFSET = re.compile(r"^([+-])\s*(\d+(?:\.\d+)?)\s*([smhd])$")
_DAY = re.compile(r"^day\s*(\d+(?:\.\d+)?)$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86_400}
SEEK_HELP: Final = "try 14:00, 2025-07-20 14:00, 2025-07-20, +2h, -30m, +1d or day 3"


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
