"""One backlog over a whole recording: exact extremes, and a chart that stays small.

A recording of weeks holds hundreds of thousands of readings per backlog; a chart needs a
few thousand points at most. Time is cut into a fixed number of buckets over the recording's
span, and each bucket keeps its lowest, highest and last value, so a short peak survives
the thinning and the line still ends on the true last value.
"""

from __future__ import annotations

from typing import Final

import msgspec

MAX_POINTS: Final = 2000


class Sample(msgspec.Struct, frozen=True):
    at: float
    items: int


class ChartPoint(msgspec.Struct, frozen=True):
    at: float
    """When the bucket's last reading arrived."""
    items: int
    """The bucket's last reading."""
    low: int
    high: int


class BacklogSeries:
    __slots__ = ("_buckets", "_count", "_start", "_width", "first", "highest", "last",
                 "lowest", "samples")

    def __init__(self, start: float, end: float, *, points: int = MAX_POINTS) -> None:
        self._start = start
        self._count = points
        self._width = max(end - start, 1.0) / points
        self._buckets: dict[int, list[float]] = {}
        self.first: Sample | None = None
        self.last: Sample | None = None
        self.lowest: Sample | None = None
        self.highest: Sample | None = None
        self.samples = 0

    def add(self, at: float, items: int) -> None:
        """A reading; they may come out of time order (buffered ones arrive late)."""
        self.samples += 1
        index = min(max(int((at - self._start) / self._width), 0), self._count - 1)
        bucket = self._buckets.get(index)
        if bucket is None:
            self._buckets[index] = [items, items, at, items]
        else:
            bucket[0] = min(bucket[0], items)
            bucket[1] = max(bucket[1], items)
            if at >= bucket[2]:
                bucket[2], bucket[3] = at, items
        if self.first is None or at < self.first.at:
            self.first = Sample(at, items)
        if self.last is None or at >= self.last.at:
            self.last = Sample(at, items)
        if self.lowest is None or items < self.lowest.items:
            self.lowest = Sample(at, items)
        if self.highest is None or items > self.highest.items:
            self.highest = Sample(at, items)

    def points(self) -> tuple[ChartPoint, ...]:
        return tuple(
            ChartPoint(at=bucket[2], items=int(bucket[3]), low=int(bucket[0]),
                       high=int(bucket[1]))
            for _, bucket in sorted(self._buckets.items())
        )
