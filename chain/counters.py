"""One end of a link: rates from cumulative counters, robust to lost messages and resets."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import deque
from typing import Final

import msgspec

from chain.expectation import Expectation, ExpectationSnapshot

RATE_WINDOW: Final = 300.0
"""Seconds of samples the current rate is computed over."""
RATE_MIN_SPAN: Final = 60.0
"""A rate needs samples spanning this many seconds since the start or the last reset."""
HISTORY_WINDOW: Final = 6.5 * 3600
"""Seconds of samples kept: the longest window a rate test looks at, and its hold."""
SAMPLE_SPACING: Final = 15.0
"""History keeps at most one sample per this many seconds, so memory stays bounded."""


class CounterSnapshot(msgspec.Struct, frozen=True, array_like=True):
    expectation: ExpectationSnapshot
    samples: list[tuple[float, int]]
    last_live: tuple[float, int] | None
    offset: int
    raw: int | None
    session: int | None
    total: int
    first_at: float | None
    moved_at: float | None
    recovered_at: float | None
    reset_at: float | None


class CumulativeCounter:
    """Cumulative counts arriving over time.

    A lost message loses no counts (the next value carries them). A decrease, or a new
    agent session, is a reset: the new value is a new baseline, never movement (what was
    counted between the last report before it and the first after it is unknown), and
    rates count again from there.
    """

    __slots__ = ("_last_live", "_level", "_offset", "_raw", "_samples", "_session",
                 "expectation", "first_at", "moved_at", "recovered_at", "reset_at", "total")

    def __init__(self, expectation: Expectation, *, stall_level: float) -> None:
        self.expectation = expectation
        """What this end is expected to count, learned from what it counts."""
        self._level = stall_level
        self.recovered_at: float | None = None
        """When it last moved after a silence long enough to be declared a stall: a rate
        measured across that silence says nothing new, so it is not judged slow on it."""
        self._samples: deque[tuple[float, int]] = deque()
        self._last_live: tuple[float, int] | None = None
        self._offset = 0
        self._raw: int | None = None
        self._session: int | None = None
        self.total = 0
        """Monotone count across resets (offset + latest raw value)."""
        self.moved_at: float | None = None
        """Receive time at which the count last went up."""
        self.first_at: float | None = None
        """Receive time of the first live sample: silence is measured from here at the least."""
        self.reset_at: float | None = None
        """Receive time of the first live sample since the start or the latest reset."""

    def snapshot(self) -> CounterSnapshot:
        return CounterSnapshot(
            self.expectation.snapshot(), list(self._samples), self._last_live, self._offset,
            self._raw, self._session, self.total, self.first_at, self.moved_at,
            self.recovered_at, self.reset_at)

    @classmethod
    def from_snapshot(cls, expectation: Expectation, snapshot: CounterSnapshot, *,
                      stall_level: float) -> CumulativeCounter:
        counter = cls(expectation, stall_level=stall_level)
        counter._samples.extend(sorted(snapshot.samples))
        counter._last_live, counter._offset = snapshot.last_live, snapshot.offset
        counter._raw, counter._session = snapshot.raw, snapshot.session
        counter.total = snapshot.total
        counter.first_at, counter.moved_at = snapshot.first_at, snapshot.moved_at
        counter.recovered_at, counter.reset_at = snapshot.recovered_at, snapshot.reset_at
        return counter

    def add(self, at: float, count: int, session: int, *, sample: bool = True) -> None:
        """Record a value; with `sample=False` (a retained value of unknown age) it only
        becomes the latest total and the baseline for resets, never a point of the rate."""
        reset = self._raw is not None and (session != self._session or count < self._raw)
        if reset:
            self._offset = self.total - count
        previous = self.total
        self._raw = count
        self._session = session
        self.total = self._offset + count
        if not sample:
            return
        if self.first_at is None:
            self.first_at = at
        if reset or self.reset_at is None:
            self._samples.clear()
            self.reset_at = at
            self.expectation.learn(at, at, 0)  # nothing is known of the time around a reset
        elif self._samples and self.total > previous:
            quiet = self.quiet_since
            if quiet is not None and self.expectation.reaching(quiet, self._level, at):
                self.recovered_at = at
            self.moved_at = at
        if self._samples and at < self._samples[-1][0]:
            at = self._samples[-1][0]
        if self._last_live is not None and not reset:
            self.expectation.learn(self._last_live[0], at, self.total - self._last_live[1])
        self._last_live = (at, self.total)
        if len(self._samples) >= 2 and at - self._samples[-2][0] < SAMPLE_SPACING:
            self._samples[-1] = (at, self.total)  # thin the history, keep the newest
        else:
            self._samples.append((at, self.total))
        while len(self._samples) > 2 and self._samples[1][0] < at - HISTORY_WINDOW:
            self._samples.popleft()

    @property
    def latest(self) -> int | None:
        return self._raw

    def per_hour(self, now: float, window: float = RATE_WINDOW) -> float | None:
        """Messages per hour over the last `window` seconds; zero once silent that long;
        None until the samples since the start or the last reset span RATE_MIN_SPAN."""
        if not self._samples:
            return None
        last_at, last_total = self._samples[-1]
        if now - last_at > window:
            return 0.0
        # The last sample before the window opens, so the rate spans the whole window.
        inside = bisect_left(self._samples, last_at - window, key=_time)
        first_at, first_total = self._samples[max(0, inside - 1)]
        if last_at - first_at < RATE_MIN_SPAN:
            return None
        return (last_total - first_total) / (last_at - first_at) * 3600.0

    def count_at(self, at: float) -> int | None:
        """The total as of `at` (its last sample then); None if the samples kept since the
        last reset do not reach back that far."""
        if not self._samples or self._samples[0][0] > at:
            return None
        return self._samples[bisect_right(self._samples, at, key=_time) - 1][1]

    @property
    def reported_at(self) -> float | None:
        """Receive time of its latest live sample: what it did is known up to here only."""
        return self._samples[-1][0] if self._samples else None

    @property
    def quiet_since(self) -> float | None:
        """Since when this end has not moved: its last movement, or its first sample."""
        return self.moved_at if self.moved_at is not None else self.first_at


def _time(sample: tuple[float, int]) -> float:
    return sample[0]
