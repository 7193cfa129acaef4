"""Columns fit the terminal: the reason is kept at every width, numbers are never cut, names
are whole from 120 columns, and at 80x24 every organisation shows with its reason."""

from __future__ import annotations

import io

import pytest
from rich.console import Console
from textual.app import App, ComposeResult

from tests.tui.seed import END, seeded_app, seeded_engine
from tui.app import KetenwachtApp
from tui.layout import Measure, Spec, fit, measure, plan
from tui.rows import LINK_TABLE, ORG_TABLE, RowData, org_rows
from tui.widgets.state_table import StateTable

pytestmark = pytest.mark.usefixtures("utc")


def screen_text(app: App[None]) -> list[str]:
    console = Console(width=app.size.width, height=app.size.height, file=io.StringIO(),
                      force_terminal=True, color_system=None, record=True)
    console.print(app.screen._compositor.render_update(full=True))
    return console.export_text(styles=False).splitlines()


def placed(spec: Spec, widths: Measure, width: int) -> dict[str, int]:
    return {p.key: p.width for p in plan(spec, widths, width)}


def test_the_reason_is_kept_and_numbers_whole_at_every_width() -> None:
    """From 60 to 300 cells: the cause column is always there, at least 24 cells from 80
    columns on; the backlog column is never narrower than its widest number."""
    rows = [{"name": "ind · Immigratie- en Naturalisatiedienst", "state": "≠ INVALID",
             "since": "09:57:00", "heartbeat": "10m00s", "email": "? 10m00s old",
             "phone": "✓ 40ms", "backlog": "3 158 200", "trend": "▁▂▃▄▅▆▇█ +180/h",
             "cause": "v: schema version 2 is newer than 1; 2 invalid readings"}]
    widths = measure(ORG_TABLE, rows)
    for width in range(60, 301):
        shown = placed(ORG_TABLE, widths, width)
        assert "cause" in shown, width
        assert shown["cause"] >= min(24, widths.full["cause"]) or width < 77, width
        assert shown["backlog"] == len("3 158 200"), width
        assert sum(w + 1 for w in shown.values()) <= width or width < 77, width


def test_names_are_whole_from_120_columns_and_readings_go_before_them() -> None:
    """At 120 cells the longest name of the seed is whole; at 80 it is cut, but only after
    the latency figures went brief and the heartbeat and trend were dropped."""
    app_rows = [r.cells for r in org_rows(seeded_engine().view(END))]
    widths = measure(ORG_TABLE, app_rows)
    wide = placed(ORG_TABLE, widths, 117)  # 120 columns less padding and scrollbar
    assert wide["name"] == widths.full["name"] == len("ind · Immigratie- en Naturalisatiedienst")
    narrow = placed(ORG_TABLE, widths, 77)
    assert narrow["name"] < widths.full["name"]
    assert "heartbeat" not in narrow and "trend" not in narrow
    assert narrow["cause"] >= 24


def test_fit_pads_cuts_and_counts_wide_characters() -> None:
    """Exactly `width` cells: padded, right-aligned, or cut with an ellipsis, also for
    characters two cells wide."""
    assert fit("lost", 6) == "lost  "
    assert fit("730", 6, right=True) == "   730"
    assert fit("email down", 6) == "email…"
    assert fit("東京東京", 5) == "東京…"
    assert fit("東京東", 4) == "東… "


class Flows(App[None]):
    CSS_PATH = KetenwachtApp.CSS_PATH

    def compose(self) -> ComposeResult:
        yield StateTable(LINK_TABLE, id="links")


async def test_a_rate_in_the_millions_is_shown_whole_at_80_columns() -> None:
    """The old 8-cell rate column showed `3 158 2…`: a rate is as wide as it needs."""
    app = Flows()
    async with app.run_test(size=(80, 10)) as pilot:
        app.query_one(StateTable).show([RowData(
            key="om-justid", state="flowing",
            cells={"name": "om → justid", "state": "● FLOWING", "since": "—",
                   "rate": "3 158 200", "usual": "2 998 100", "moved": "10:00:00",
                   "needs": "vog, continuous_screening", "cause": ""})])
        await pilot.pause()
        await pilot.pause()
        assert any("3 158 200" in line for line in screen_text(app))


async def test_every_organisation_and_its_reason_fit_in_80x24() -> None:
    """The seeded chain at 80x24: 17 rows on screen without scrolling, each with its mark
    (NEW, ack or none), and each cause that there is shown from its start (an INVALID row by
    its refusal, not `nothing`)."""
    app = seeded_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        lines = screen_text(app)
        assert app.view is not None
        marks = {"om": "NEW", "ind": "ack", "ecris": "NEW"}
        for org in app.view.orgs:
            # The first cell is the margin (the cursor's bar on om's row), then the mark.
            line = next((ln for ln in lines if ln[5:].startswith(f"{org.id} · ")), None)
            assert line is not None, f"{org.id} not on screen"
            assert line[1:4].strip() == marks.get(org.id, ""), line
            cause = app.tables["overview"].row(org.id).text("cause")
            assert cause[:20] in line, (org.id, cause, line)
        ecris = app.tables["overview"].row("ecris").text("cause")
        assert ecris.startswith("not valid JSON")
