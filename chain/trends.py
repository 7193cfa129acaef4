"""Backlog trends: growth per hour and per day, and when a shrinking backlog will be clear."""

from __future__ import annotations

from bisect import bisect_left
from collections import deque
from itertools import islice
from typing import Final

SPACING: Final = 60.0
"""At most one kept sample per minute (the newest value always replaces the last one)."""
KEEP: Final = 2 * 86_400.0
HOUR: Final = 3600.0
DAY: Final = 86_400.0
SPARK_POINTS: Final = 48


class BacklogHistory:
    __slots__ = ("_samples",)

    def __init__(self) -> None:
        self._samples: deque[tuple[float, int]] = deque()

    def snapshot(self) -> list[tuple[float, int]]:
        return list(self._samples)

    @classmethod
    def from_snapshot(cls, samples: list[tuple[float, int]]) -> BacklogHistory:
        history = cls()
        history._samples.extend(sorted(samples))
        return history

    def add(self, at: float, items: int) -> None:
        samples = self._samples
        if samples and at < samples[-1][0]:
            return  # older than what we have: history only moves forward
        if len(samples) >= 2 and at - samples[-2][0] < SPACING:
            samples[-1] = (at, items)
        else:
            samples.append((at, items))
        while samples and samples[0][0] < at - KEEP:
            samples.popleft()

    def growth(self, span: float) -> float | None:
        """Change per `span` seconds, measured over the last `span` seconds of history.

        None until the history covers at least a quarter of the span.
        """
        if len(self._samples) < 2:
            return None
        last_at, last_items = self._samples[-1]
        # Runs for every backlog on every redraw over up to two days of samples: bisect.
        first = bisect_left(self._samples, last_at - span, key=_time)
        start_at, start_items = self._samples[min(first, len(self._samples) - 1)]
        covered = last_at - start_at
        if covered < span / 4:
            return None
        return (last_items - start_items) / covered * span

    def clears_in(self, items: int) -> float | None:
        """Seconds to empty at the last hour's rate of shrinking; None if not shrinking."""
        per_hour = self.growth(HOUR)
        if per_hour is None or per_hour >= 0 or items <= 0:
            return None
        return items / -per_hour * HOUR

    def recent(self) -> tuple[int, ...]:
        newest = islice(reversed(self._samples), SPARK_POINTS)
        return tuple(reversed([items for _, items in newest]))


def _time(sample: tuple[float, int]) -> float:
    return sample[0]
