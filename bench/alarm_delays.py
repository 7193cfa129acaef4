"""How long a real stop of each link of seeds/chain.toml takes to be declared STALLED, by the
engine's own rule on the prior (nothing learned yet), for stops at four moments of a week;
and how long the SLOW window is on a weekday afternoon. Prints the table docs/alarms.md has.

    PYTHONPATH=. .venv/bin/python bench/alarm_delays.py
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from chain.expectation import Expectation
from chain.flows import (
    SLOW_EXPECTED,
    SLOW_WINDOW_LONGEST,
    SLOW_WINDOW_SHORTEST,
    STALL_MINIMUM,
    stall_level,
)
from ketenwacht.startup import load_topology

WEEKS = 8


def duration(seconds: float) -> str:
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def main() -> None:
    topology = load_topology(None)
    level = stall_level(topology.messages_per_year)
    zone = ZoneInfo(topology.timezone)
    stops = [("Tue 10:00", datetime(2025, 7, 15, 10, tzinfo=zone)),
             ("Tue 17:00", datetime(2025, 7, 15, 17, tzinfo=zone)),
             ("Fri 22:00", datetime(2025, 7, 18, 22, tzinfo=zone)),
             ("Sat 03:00", datetime(2025, 7, 19, 3, tzinfo=zone))]
    afternoon = datetime(2025, 7, 15, 14, tzinfo=zone).timestamp()
    print(f"level = ln({topology.messages_per_year:,.0f} messages a year / 1) = {level:.2f} "
          "expected messages missed")
    print("| link | profile | per hour (year) | expected Tue 10:00 | "
          + " | ".join(f"stop {name}" for name, _ in stops) + " | SLOW window Tue 14:00 |")
    print("|---|---|---:|---:|" + "---:|" * (len(stops) + 1))
    for link in topology.links:
        expectation = Expectation(topology.expected_per_hour(link), topology.timezone)
        cells = []
        for _, moment in stops:
            start = moment.timestamp()
            declared = expectation.reaching(start, level, start + WEEKS * 7 * 86400)
            cells.append(duration(max(STALL_MINIMUM, declared - start))
                         if declared is not None else f"over {WEEKS} weeks")
        begin, expected = expectation.window_back(afternoon, SLOW_EXPECTED, SLOW_WINDOW_LONGEST)
        slow = (duration(max(SLOW_WINDOW_SHORTEST, afternoon - begin))
                if expected >= SLOW_EXPECTED else "never SLOW")
        rate = expectation.rate_at(stops[0][1].timestamp())
        print(f"| {link.id} | {link.profile} | {link.per_hour:g} | {rate:.1f}/h | "
              + " | ".join(cells) + f" | {slow} |")


if __name__ == "__main__":
    main()
