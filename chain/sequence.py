"""Which sequence numbers of one agent session have arrived: gaps and duplicates, in any order."""

from __future__ import annotations

from bisect import bisect_right
from typing import Final

import msgspec

MAX_RUNS: Final = 4096
"""Holes kept open at most; beyond that the oldest hole is written off as lost for good."""


class SeqSnapshot(msgspec.Struct, frozen=True, array_like=True):
    firsts: list[int]
    lasts: list[int]
    received: int
    duplicates: int
    written_off: int


class SeqTracker:
    """Arrived seq numbers as sorted, merged runs [first, last].

    Order-independent: buffered messages delivered after newer live ones fill their hole
    instead of counting as duplicates, and in-order traffic stays a single run.
    """

    __slots__ = ("_firsts", "_lasts", "_received", "duplicates", "written_off")

    def __init__(self) -> None:
        self._firsts: list[int] = []
        self._lasts: list[int] = []
        self._received = 0
        self.duplicates = 0
        self.written_off = 0

    def snapshot(self) -> SeqSnapshot:
        return SeqSnapshot(list(self._firsts), list(self._lasts), self._received,
                           self.duplicates, self.written_off)

    @classmethod
    def from_snapshot(cls, snapshot: SeqSnapshot) -> SeqTracker:
        """Raises ValueError for runs that are not sorted, disjoint and apart."""
        firsts, lasts = snapshot.firsts, snapshot.lasts
        if len(firsts) != len(lasts) or len(firsts) > MAX_RUNS + 1 or not all(
            first <= last for first, last in zip(firsts, lasts, strict=True)
        ) or not all(last + 1 < first for last, first in zip(lasts, firsts[1:], strict=False)):
            raise ValueError("seq runs out of order")
        tracker = cls()
        tracker._firsts, tracker._lasts = list(firsts), list(lasts)
        tracker._received = snapshot.received
        tracker.duplicates, tracker.written_off = snapshot.duplicates, snapshot.written_off
        return tracker

    def add(self, seq: int) -> bool:
        """Record `seq`; False if it had arrived before."""
        index = bisect_right(self._firsts, seq) - 1
        if index >= 0 and seq <= self._lasts[index]:
            self.duplicates += 1
            return False
        self._received += 1
        joins_left = index >= 0 and self._lasts[index] == seq - 1
        joins_right = index + 1 < len(self._firsts) and self._firsts[index + 1] == seq + 1
        if joins_left and joins_right:
            self._lasts[index] = self._lasts[index + 1]
            del self._firsts[index + 1], self._lasts[index + 1]
        elif joins_left:
            self._lasts[index] = seq
        elif joins_right:
            self._firsts[index + 1] = seq
        else:
            self._firsts.insert(index + 1, seq)
            self._lasts.insert(index + 1, seq)
            if len(self._firsts) > MAX_RUNS:
                self._write_off_oldest_hole()
        return True

    def _write_off_oldest_hole(self) -> None:
        hole = self._firsts[1] - self._lasts[0] - 1
        self.written_off += hole
        self._received += hole
        self._lasts[0] = self._lasts[1]
        del self._firsts[1], self._lasts[1]

    @property
    def highest(self) -> int | None:
        return self._lasts[-1] if self._lasts else None

    @property
    def gaps(self) -> int:
        """Numbers missing between the lowest and the highest seq seen."""
        if not self._firsts:
            return 0
        span = self._lasts[-1] - self._firsts[0] + 1
        return span - self._received + self.written_off
