"""What one end of a link is expected to count, hour by hour of the week, and how improbable
what it did is under that expectation.

The expected rate of an hour of the week starts as the topology's prior (the link's yearly
`per_hour` times its profile's weight for that hour) and is learned from what the end
counted there: a Gamma-Poisson estimate in which the prior weighs as PRIOR_WEEKS weeks of
observation and older weeks fade after MEMORY_WEEKS. A silence is learned only once it has
ended and only if it was probable (expected fewer than SILENCE_LEARNED messages): an outage
never teaches the link that silence is normal. docs/alarms.md has the arithmetic.
"""

from __future__ import annotations

import math
from typing import Final

import msgspec

from chain.profiles import HOURS_PER_WEEK, hour_of_week

PRIOR_WEEKS: Final = 2.0
"""How many weeks of observation the prior is worth, hour by hour."""
MEMORY_WEEKS: Final = 8.0
"""Observation beyond this many weeks of an hour fades (older weeks weigh less)."""
SILENCE_LEARNED: Final = math.log(100)
"""A silence is learned from only if it was at least 1 % probable (expected < 4.6)."""
LONGEST_LEARNED_GAP: Final = 600.0
"""Seconds between two samples beyond which nothing is learned from the interval: the end
was not reporting, so what happened in between is unknown."""
LONGEST_WALK: Final = 8 * HOURS_PER_WEEK
"""Hours an expected count is integrated over at most (a link expected to carry nothing)."""


class ExpectationSnapshot(msgspec.Struct, frozen=True, array_like=True):
    """What was learned; the prior and the zone come from the topology."""

    counts: list[float]
    hours: list[float]
    silence: dict[int, float] | None
    silence_expected: float
    walk: tuple[float, float, int, float, float] | None
    version: int


class Expectation:
    __slots__ = ("_counts", "_hours", "_prior", "_silence", "_silence_expected", "_walk",
                 "version", "zone")

    def __init__(self, prior: tuple[float, ...], zone: str) -> None:
        """`prior`: the expected messages per hour for each hour of the week, local time."""
        self._prior = prior
        self.zone = zone
        self._counts = [0.0] * HOURS_PER_WEEK
        self._hours = [0.0] * HOURS_PER_WEEK
        self._silence: dict[int, float] | None = {}
        """Hours of exposure per hour of the week of the silence going on, until it ends;
        None once that silence has become improbable (never to be learned)."""
        self._silence_expected = 0.0
        self._walk: tuple[float, float, int, float, float] | None = None
        """(start, level, version, reached, expected): where the last integration stopped."""
        self.version = 0
        """Goes up whenever what was learned changes the expected rates."""

    def snapshot(self) -> ExpectationSnapshot:
        return ExpectationSnapshot(
            list(self._counts), list(self._hours),
            None if self._silence is None else dict(self._silence),
            self._silence_expected, self._walk, self.version)

    @classmethod
    def from_snapshot(cls, prior: tuple[float, ...], zone: str,
                      snapshot: ExpectationSnapshot) -> Expectation:
        """Raises ValueError for a snapshot that is not one of a week's hours."""
        slots = range(HOURS_PER_WEEK)
        if len(snapshot.counts) != HOURS_PER_WEEK or len(snapshot.hours) != HOURS_PER_WEEK or (
            snapshot.silence is not None and not set(snapshot.silence) <= set(slots)
        ) or not all(math.isfinite(value) and value >= 0
                     for value in (*snapshot.counts, *snapshot.hours)):
            raise ValueError("expectation is not a week of hours")
        expectation = cls(prior, zone)
        expectation._counts, expectation._hours = list(snapshot.counts), list(snapshot.hours)
        expectation._silence = None if snapshot.silence is None else dict(snapshot.silence)
        expectation._silence_expected = snapshot.silence_expected
        expectation._walk = snapshot.walk
        expectation.version = snapshot.version
        return expectation

    # ------------------------------------------------------------------ rates

    def rate(self, slot: int) -> float:
        """Expected messages per hour in hour `slot` of the week."""
        hours = self._hours[slot]
        return (PRIOR_WEEKS * self._prior[slot] + self._counts[slot]) / (PRIOR_WEEKS + hours)

    def rate_at(self, at: float) -> float:
        return self.rate(hour_of_week(int(at // 3600), self.zone))

    def expected(self, start: float, end: float) -> float:
        """Messages expected in [start, end)."""
        total = 0.0
        t = start
        while t < end:
            segment_end = min(end, (math.floor(t / 3600) + 1) * 3600.0)
            total += self.rate_at(t) * (segment_end - t) / 3600.0
            t = segment_end
        return total

    def reaching(self, start: float, level: float, until: float) -> float | None:
        """The moment at which `level` messages were expected since `start`, if it is not
        after `until`. Incremental: a screen asks this every redraw for the same silence."""
        walk = self._walk
        if walk is not None and walk[:3] == (start, level, self.version) and walk[3] <= until:
            t, total = walk[3], walk[4]
        else:
            t, total = start, 0.0
        for _ in range(LONGEST_WALK + 1):
            if t >= until:
                break
            segment_end = min(until, (math.floor(t / 3600) + 1) * 3600.0)
            per_second = self.rate_at(t) / 3600.0
            need = level - total
            if per_second * (segment_end - t) >= need:
                return t + need / per_second
            total += per_second * (segment_end - t)
            t = segment_end
        self._walk = (start, level, self.version, t, total)
        return None

    def window_back(self, end: float, level: float, longest: float) -> tuple[float, float]:
        """The shortest window ending at `end` in which `level` messages are expected (at
        most `longest` s): its start and what is expected in it."""
        total = 0.0
        t = end
        while t > end - longest:
            segment_start = max(end - longest, math.ceil(t / 3600 - 1) * 3600.0)
            per_second = self.rate_at(segment_start) / 3600.0
            need = level - total
            if per_second * (t - segment_start) >= need:
                return t - need / per_second, level
            total += per_second * (t - segment_start)
            t = segment_start
        return t, total

    # ------------------------------------------------------------------ learning

    def learn(self, start: float, end: float, increase: int) -> None:
        """What the end counted between two consecutive live samples."""
        if end <= start or end - start > LONGEST_LEARNED_GAP:
            self._silence, self._silence_expected = {}, 0.0  # unknown: learn nothing of it
            return
        slot = hour_of_week(int((start + end) / 2 // 3600), self.zone)
        hours = (end - start) / 3600.0
        if increase > 0:
            if self._silence:
                for silent_slot, exposure in self._silence.items():
                    self._observe(silent_slot, 0.0, exposure)
            self._silence, self._silence_expected = {}, 0.0
            self._observe(slot, float(increase), hours)
            return
        if self._silence is None:
            return
        self._silence[slot] = self._silence.get(slot, 0.0) + hours
        self._silence_expected += self.rate(slot) * hours
        if self._silence_expected >= SILENCE_LEARNED:
            self._silence = None

    def _observe(self, slot: int, count: float, hours: float) -> None:
        self._counts[slot] += count
        self._hours[slot] += hours
        if self._hours[slot] > MEMORY_WEEKS:
            fade = MEMORY_WEEKS / self._hours[slot]
            self._counts[slot] *= fade
            self._hours[slot] = MEMORY_WEEKS
        self.version += 1


def improbably_few(observed: float, expected: float) -> float:
    """An upper bound (Chernoff) on P(X <= observed) for X ~ Poisson(expected): above the
    exact tail, so a test on it errs towards not alarming."""
    if expected <= 0 or observed >= expected:
        return 1.0
    if observed <= 0:
        return math.exp(-expected)
    return math.exp(-(expected - observed + observed * math.log(observed / expected)))
