"""Backlog trends: growth per hour and per day, and the time to clear a shrinking backlog."""

from __future__ import annotations

import pytest

from chain.trends import HOUR, BacklogHistory

T0 = 1_752_742_800.0


def test_growth_needs_enough_history() -> None:
    """Ten minutes say nothing about an hour's growth yet."""
    history = BacklogHistory()
    for minute in range(10):
        history.add(T0 + 60 * minute, 100 + minute)
    assert history.growth(HOUR) is None


def test_growth_per_hour_and_per_day() -> None:
    """+2 items a minute for six hours: +120/h, and +2880/day extrapolated from 6 h."""
    history = BacklogHistory()
    for minute in range(6 * 60 + 1):
        history.add(T0 + 60 * minute, 1000 + 2 * minute)
    assert history.growth(HOUR) == pytest.approx(120)
    assert history.growth(24 * HOUR) == pytest.approx(2880)
    assert history.clears_in(1720) is None


def test_shrinking_backlog_clears_in() -> None:
    """-10 items a minute with 1200 left: clear in two hours."""
    history = BacklogHistory()
    for minute in range(61):
        history.add(T0 + 60 * minute, 1800 - 10 * minute)
    assert history.clears_in(1200) == pytest.approx(2 * HOUR)


def test_history_is_thinned_and_bounded() -> None:
    """A reading every second keeps about one sample a minute, for two days at most."""
    history = BacklogHistory()
    for second in range(0, 3 * 86_400, 5):
        history.add(T0 + second, second % 97)
    assert len(history._samples) <= 2 * 86_400 / 50  # about one a minute, two days
    assert len(history.recent()) == 48
