"""Rates from cumulative counters, robust to lost messages and counter resets."""

from __future__ import annotations

from bisect import bisect_left
from collections import deque
from typing import Final

RATE_WINDOW: Final = 300.0
"""Seconds of samples the current rate is computed over."""
USUAL_WINDOW: Final = 3600.0
"""Seconds of history the usual rate (and the usual gap between movements) is learned from."""
SAMPLE_SPACING: Final = 5.0
"""History keeps at most one sample per this many seconds, so memory stays bounded."""


class CumulativeCounter:
    """One end of a link: cumulative counts arriving over time.

    A lost message loses no counts (the next value carries them). A decrease, or a new
    agent session, is a reset: counting continues from the last value instead of going
    negative, so the rate never dips below zero.
    """

    __slots__ = ("_offset", "_raw", "_samples", "_session", "first_at", "moved_at", "total")

    def __init__(self) -> None:
        self._samples: deque[tuple[float, int]] = deque()
        self._offset = 0
        self._raw: int | None = None
        self._session: int | None = None
        self.total = 0
        """Monotone count across resets (offset + latest raw value)."""
        self.moved_at: float | None = None
        """Receive time at which the count last went up."""
        self.first_at: float | None = None
        """Receive time of the first live sample: silence is measured from here at the least."""

    def add(self, at: float, count: int, session: int, *, sample: bool = True) -> None:
        """Record a value; with `sample=False` (a retained value of unknown age) it only
        becomes the latest total and the baseline for resets, never a point of the rate."""
        if self._raw is not None and (session != self._session or count < self._raw):
            self._offset += self._raw
        previous = self.total
        self._raw = count
        self._session = session
        self.total = self._offset + count
        if not sample:
            return
        if self.first_at is None:
            self.first_at = at
        if self._samples and self.total > previous:
            self.moved_at = at
        if self._samples and at < self._samples[-1][0]:
            at = self._samples[-1][0]
        if len(self._samples) >= 2 and at - self._samples[-2][0] < SAMPLE_SPACING:
            self._samples[-1] = (at, self.total)  # thin the history, keep the newest
        else:
            self._samples.append((at, self.total))
        while len(self._samples) > 2 and self._samples[1][0] < at - USUAL_WINDOW:
            self._samples.popleft()

    @property
    def latest(self) -> int | None:
        return self._raw

    def per_hour(self, now: float, window: float = RATE_WINDOW) -> float | None:
        """Messages per hour over the last `window` seconds; zero once silent that long."""
        if not self._samples:
            return None
        last_at, last_total = self._samples[-1]
        if now - last_at > window:
            return 0.0
        # The last sample before the window opens, so the rate spans the whole window.
        inside = bisect_left(self._samples, last_at - window, key=_time)
        first_at, first_total = self._samples[max(0, inside - 1)]
        if last_at <= first_at:
            return None
        return (last_total - first_total) / (last_at - first_at) * 3600.0

    def usual_per_hour(self) -> float | None:
        """The rate over all the history kept (up to an hour), once it spans 15 minutes."""
        if len(self._samples) < 2:
            return None
        (first_at, first_total), (last_at, last_total) = self._samples[0], self._samples[-1]
        if last_at - first_at < USUAL_WINDOW / 4:
            return None
        return (last_total - first_total) / (last_at - first_at) * 3600.0

    @property
    def quiet_since(self) -> float | None:
        """Since when this end has not moved: its last movement, or its first sample."""
        return self.moved_at if self.moved_at is not None else self.first_at


def _time(sample: tuple[float, int]) -> float:
    return sample[0]
