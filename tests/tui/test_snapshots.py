"""Pixels: the overview and a drill-down, with a fixed clock and seeded data."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from textual.pilot import Pilot

from chain.inbox import MonitorSink
from tests.tui.seed import END, seeded_engine
from tui.app import KetenwachtApp

SnapCompare = Callable[..., bool]


@pytest.fixture(autouse=True)
def _utc() -> Iterator[None]:
    """Clock times in the screen do not depend on the machine's time zone."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if before is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = before
    time.tzset()


async def _connected(sink: MonitorSink) -> None:
    sink.connection_changed(True, END - 7200)


def seeded_app() -> KetenwachtApp:
    return KetenwachtApp(
        seeded_engine(), _connected, broker_url="mqtt://broker.test:1883",
        subtitle="snapshot", clock=lambda: END, author="snapshot",
    )


def test_overview_snapshot(snap_compare: SnapCompare) -> None:
    """The overview at 120x34: OM offline (lost), Justis degraded, backlogs and trends."""
    assert snap_compare(seeded_app(), terminal_size=(120, 34))


def test_overview_at_80x24_snapshot(snap_compare: SnapCompare) -> None:
    """The smallest supported terminal still shows states, since and channels."""
    assert snap_compare(seeded_app(), terminal_size=(80, 24))


def test_drill_down_snapshot(snap_compare: SnapCompare) -> None:
    """The OM's drill-down: figures, channels, backlog trend, flows and log."""

    async def open_om(pilot: Pilot[Any]) -> None:
        app = pilot.app
        assert isinstance(app, KetenwachtApp)
        app.open_org("om")
        await pilot.pause(0.5)
        app.redraw()
        await pilot.pause(0.2)

    assert snap_compare(seeded_app(), terminal_size=(120, 40), run_before=open_om)


def test_impact_snapshot(snap_compare: SnapCompare) -> None:
    """The impact view: which processes work on stale data since when, and why."""
    assert snap_compare(seeded_app(), terminal_size=(130, 30), press=["3"])
