"""Sequence accounting in any arrival order, with bounded memory."""

from __future__ import annotations

import pytest

from chain import sequence
from chain.sequence import SeqTracker


def track(*seqs: int) -> SeqTracker:
    tracker = SeqTracker()
    for seq in seqs:
        tracker.add(seq)
    return tracker


def test_in_order_has_no_gaps() -> None:
    """1..100 in order: no gaps, no duplicates, highest 100."""
    tracker = track(*range(1, 101))
    assert (tracker.gaps, tracker.duplicates, tracker.highest) == (0, 0, 100)


def test_holes_are_gaps_until_filled_in_any_order() -> None:
    """10, 1, 5 leaves 7 missing; filling them from both sides merges to one run."""
    tracker = track(10, 1, 5)
    assert tracker.gaps == 7
    for seq in (2, 9, 3, 8, 4, 6, 7):
        assert tracker.add(seq)
    assert (tracker.gaps, tracker.duplicates) == (0, 0)


def test_duplicates_are_refused_and_counted() -> None:
    """A seq seen before, inside or at the edge of a run, is a duplicate."""
    tracker = track(1, 2, 3, 7)
    assert not tracker.add(2)
    assert not tracker.add(7)
    assert not tracker.add(1)
    assert tracker.duplicates == 3


def test_monitor_joining_mid_session_counts_no_gap_before_it() -> None:
    """The first seq seen is where counting starts: joining at 500 is not 499 gaps."""
    assert track(500, 501, 502).gaps == 0


def test_memory_is_bounded_by_writing_off_old_holes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past MAX_RUNS holes, the oldest is written off: still counted as a gap, memory bounded."""
    monkeypatch.setattr(sequence, "MAX_RUNS", 4)
    tracker = track(1, 3, 5, 7, 9, 11)  # five holes of one
    assert len(tracker._firsts) <= 4
    assert tracker.gaps == 5
    assert tracker.written_off == 2
