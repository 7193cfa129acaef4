"""Pixels: every tab and a drill-down at 80x24, 120x40 and 200x60, with a fixed clock and
seeded data (tests/tui/seed.py); the help at the smallest and a middle size."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.tui.seed import seeded_app
from tui.app import KetenwachtApp

pytestmark = pytest.mark.usefixtures("utc")

SnapCompare = Callable[..., bool]
SIZES = [(80, 24), (120, 40), (200, 60)]
TABS = {"overview": "1", "flows": "2", "impact": "3", "log": "4"}


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
@pytest.mark.parametrize("tab", list(TABS))
def test_tab_snapshot(snap_compare: SnapCompare, tab: str, size: tuple[int, int]) -> None:
    """Every organisation with its reason (at 80x24 too), every flow, process and log line:
    names in full from 120 columns, numbers never cut."""
    assert snap_compare(seeded_app(), terminal_size=size, press=[TABS[tab]])


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_drill_down_snapshot(snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    """The OM's drill-down: figures, channels, backlogs with trends, flows and log."""

    async def open_om(pilot: Pilot[Any]) -> None:
        app = pilot.app
        assert isinstance(app, KetenwachtApp)
        await pilot.pause()
        app.open_org("om")
        await pilot.pause(0.3)
        app.redraw()
        await pilot.pause(0.1)

    assert snap_compare(seeded_app(), terminal_size=size, run_before=open_om)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_help_snapshot(snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    """The keys at the left, their explanations wrapping in a column of their own."""
    assert snap_compare(seeded_app(), terminal_size=size, press=["question_mark"])
