"""What a simulated link carries: its profile's rate over the week, with Poisson-like
irregularity, as a deterministic function of simulated time.

Both ends of a link run in different agents or processes and must agree without talking,
so every count is computed from the moment alone, cheaply (no summing from the anchor):

- `expected(topology, link, t)`: messages expected from ANCHOR to `t`. Weeks are 168 UTC
  hours counted from ANCHOR; each carries exactly `per_hour * 168` (the profile's weights
  have mean 1), so whole weeks are closed form and only the hours of the current week are
  summed (once per week and profile: cached). An hour's rate is `per_hour` times the
  weight of its local hour of the week in `topology.timezone`, as the engine's prior has
  it; in a week with a DST change the local hours do not fall on the 168 UTC hours one to
  one, so that week's weights are rescaled to sum to 168 (a change of well under 1 %).
- `counted(link_id, expected)`: what was counted by the time `expected` messages were
  expected. The expected count is cut into blocks of BLOCK messages; each block's BLOCK
  arrivals lie at sorted uniform positions drawn from a hash of (link, block), which is how
  a Poisson stream places its arrivals given their number. Irregular within a block, exact
  over it: a silence never lasts more than 2 * BLOCK expected messages, so a healthy link
  is never improbably quiet by the engine's judgement (`chain.flows.stall_level`, 15.3).
"""

from __future__ import annotations

import random
import zlib
from bisect import bisect_right
from datetime import UTC, datetime
from functools import lru_cache
from typing import Final

from chain.profiles import FLAT, HOURS_PER_WEEK, Profile, hour_of_week
from chain.topology import Link, Topology

ANCHOR: Final = datetime(2025, 1, 1, tzinfo=UTC).timestamp()
"""Counters count from here, so every simulated agent derives the same totals."""
BLOCK: Final = 6
"""Messages whose arrival times are shuffled together; the irregularity's scale."""
_ANCHOR_HOUR: Final = int(ANCHOR // 3600)


def expected(topology: Topology, link: Link, t: float) -> float:
    """Messages the link is expected to carry from ANCHOR to `t` (negative before it)."""
    hours = (t - ANCHOR) / 3600.0
    week, into = divmod(hours, HOURS_PER_WEEK)
    hour = int(into)
    sums = _week(topology.by_profile.get(link.profile, FLAT), topology.timezone, int(week))
    within = sums[hour] + (sums[hour + 1] - sums[hour]) * (into - hour)
    return link.per_hour * (week * HOURS_PER_WEEK + within)


def expected_between(topology: Topology, link: Link, start: float, end: float) -> float:
    """Messages the link is expected to carry in [start, end)."""
    return expected(topology, link, end) - expected(topology, link, start)


def counted(link_id: str, expected_count: float) -> int:
    """Messages counted once `expected_count` were expected: within BLOCK of it, monotone
    in it, and the same in every process."""
    if expected_count <= 0:
        return 0
    block, into = divmod(expected_count, BLOCK)
    return int(block) * BLOCK + bisect_right(_arrivals(link_id, int(block)), into)


def count(topology: Topology, link: Link, t: float) -> int:
    """What the link's counters show at `t` (the receiver asks for `t - TRANSIT_SECONDS`)."""
    return counted(link.id, expected(topology, link, t))


@lru_cache(maxsize=1024)
def _week(profile: Profile, zone: str, week: int) -> tuple[float, ...]:
    """Cumulative weight at each of the 169 hour boundaries of a week, ending at 168."""
    weights = profile.weights()
    first = _ANCHOR_HOUR + week * HOURS_PER_WEEK
    hourly = [weights[hour_of_week(first + h, zone)] for h in range(HOURS_PER_WEEK)]
    scale = HOURS_PER_WEEK / sum(hourly)  # weights() has mean 1, so the sum is near 168
    sums = [0.0]
    for weight in hourly:
        sums.append(sums[-1] + weight * scale)
    sums[-1] = float(HOURS_PER_WEEK)
    return tuple(sums)


@lru_cache(maxsize=16384)
def _arrivals(link_id: str, block: int) -> tuple[float, ...]:
    """The sorted positions (in [0, BLOCK) expected messages) of one block's arrivals."""
    rng = random.Random(zlib.crc32(f"{link_id}/{block}".encode()))
    return tuple(sorted(rng.random() * BLOCK for _ in range(BLOCK)))

