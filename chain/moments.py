"""The span of time Ketenwacht works in, so a wild moment in a file is damage, not a date.

A recorded moment outside [EARLIEST, LATEST) is no time a crisis room or an exercise lived
(text, 1e300, milliseconds taken for seconds): the reader skips such a row as damaged. A
scenario's days lie well inside, so every exercise recording is within the span.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Final

EARLIEST: Final = datetime(1970, 1, 1, tzinfo=UTC).timestamp()
LATEST: Final = datetime(2200, 1, 1, tzinfo=UTC).timestamp()
FIRST_SCENARIO_DAY: Final = date(2000, 1, 1)
LAST_SCENARIO_DAY: Final = date(2099, 12, 31)
"""A scenario's `start` lies in these years; with at most 366 days after it, its exercise
(on a clock up to a day ahead or behind UTC) stays inside [EARLIEST, LATEST)."""


def describe_span() -> str:
    """The recorded span as a user reads it."""
    first = datetime.fromtimestamp(EARLIEST, UTC).year
    last = datetime.fromtimestamp(LATEST, UTC).year - 1
    return f"{first}-{last}"
