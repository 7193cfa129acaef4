"""Times on the screen are in the topology's zone (as in the report), whatever the machine's."""

from __future__ import annotations

import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests.tui.seed import END, seeded_app
from tui.moments import parse_moment
from tui.widgets.summary import ChainSummary


@pytest.mark.usefixtures("new_york")
async def test_a_screen_in_another_zone_shows_the_topologys_clock() -> None:
    """om went OFFLINE at 09:55 UTC: 11:55 in Amsterdam (the topology's zone and the
    report's), not New York's 05:55; the summary's clock, the log and the drill-down too."""
    assert time.localtime(END).tm_hour == 6  # the machine's zone is New York's indeed
    app = seeded_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert app.tables["overview"].row("om").text("since") == "11:55:00"
        summary = str(app.query_one(ChainSummary).render())
        assert "17 Jul 12:00:00" in summary, summary
        await pilot.press("4")
        await pilot.pause()
        log = app.tables["log"]
        times = {log.row(k).text("at") for k in log.keys}
        assert "11:55:00" in times and "05:55:00" not in times
        app.open_org("om")
        await pilot.pause(0.3)
        app.redraw()
        await pilot.pause()
        assert "OFFLINE since 11:55:00" in str(app.screen.query_one("#org-figures").render())


@pytest.mark.usefixtures("new_york")
def test_a_typed_time_is_read_in_the_zone_the_screen_shows() -> None:
    """`14:00` typed on a screen showing Amsterdam time is 14:00 in Amsterdam."""
    amsterdam = ZoneInfo("Europe/Amsterdam")
    at = parse_moment("14:00", now=END, day_zero=END, zone=amsterdam)
    assert datetime.fromtimestamp(at, amsterdam).strftime("%d %H:%M") == "17 14:00"
