"""Rates from cumulative counters, robust to lost messages and counter resets."""

from __future__ import annotations

from collections import deque
from typing import Final

RATE_WINDOW: Final = 300.0
"""Seconds of samples a rate is computed over."""


class CumulativeCounter:
    """One end of a link: cumulative counts arriving over time.

    A lost message loses no counts (the next value carries them). A decrease, or a new
    agent session, is a reset: counting continues from the last value instead of going
    negative, so the rate never dips below zero.
    """

    __slots__ = ("_offset", "_raw", "_samples", "_session")

    def __init__(self) -> None:
        self._samples: deque[tuple[float, int]] = deque()
        self._offset = 0
        self._raw: int | None = None
        self._session: int | None = None

    def add(self, at: float, count: int, session: int, *, sample: bool = True) -> None:
        """Record a value; with `sample=False` (a retained value of unknown age) it only
        becomes the latest total and the baseline for resets, never a point of the rate."""
        if self._raw is not None and (session != self._session or count < self._raw):
            self._offset += self._raw
        self._raw = count
        self._session = session
        if not sample:
            return
        total = self._offset + count
        if self._samples and at < self._samples[-1][0]:
            at = self._samples[-1][0]
        self._samples.append((at, total))
        while len(self._samples) > 2 and self._samples[1][0] < at - RATE_WINDOW:
            self._samples.popleft()

    @property
    def latest(self) -> int | None:
        return self._raw

    def per_hour(self, now: float) -> float | None:
        """Messages per hour over the window; zero once nothing has moved for a window."""
        if not self._samples:
            return None
        last_at, last_total = self._samples[-1]
        first_at, first_total = self._samples[0]
        if now - last_at > RATE_WINDOW:
            return 0.0
        if last_at <= first_at:
            return None
        return (last_total - first_total) / (last_at - first_at) * 3600.0
