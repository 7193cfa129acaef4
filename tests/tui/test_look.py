"""Readable at 3 a.m.: ISOLATED's contrast in every theme, and the help's keys stand alone."""

from __future__ import annotations

import pytest
from textual.color import Color
from textual.containers import VerticalScroll

from tests.tui.seed import seeded_app
from tests.tui.test_layout import screen_text
from tui.screens.help import SECTIONS, HelpScreen
from tui.themes import THEMES

pytestmark = pytest.mark.usefixtures("utc")


def luminance(colour: Color) -> float:
    """WCAG 2 relative luminance."""

    def linear(channel: int) -> float:
        value = channel / 255
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    return 0.2126 * linear(colour.r) + 0.7152 * linear(colour.g) + 0.0722 * linear(colour.b)


def contrast(text: Color, background: Color) -> float:
    """WCAG 2 contrast ratio of text (alpha blended onto its background) to the background."""
    light, dark = sorted((luminance(background + text), luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


@pytest.mark.parametrize("theme", THEMES)
async def test_isolated_reads_at_4_5_to_1_in_every_theme(theme: str) -> None:
    """The ISOLATED state word, on its row and under the cursor, against the background it
    is drawn on, from the theme's own colours: at least 4.5:1 (WCAG AA)."""
    app = seeded_app()
    async with app.run_test(size=(120, 40)) as pilot:
        app.theme = theme
        await pilot.pause()
        table = app.tables["overview"]
        for cursor in ("om", "dji"):
            table.cursor = cursor
            await pilot.pause()
            style = table.row("dji").get_visual_style("row--isolated")
            assert style.foreground is not None and style.background is not None
            ratio = contrast(style.foreground, style.background)
            assert ratio >= 4.5, (theme, cursor, round(ratio, 2))


@pytest.mark.parametrize("size", [(80, 60), (120, 40), (200, 60)])
async def test_the_help_never_wraps_into_the_keys_column(size: tuple[int, int]) -> None:
    """Every line of the help starts with a key, a section title, or blanks up to where the
    explanations begin: a long explanation wraps in its own column."""
    app = seeded_app()
    async with app.run_test(size=size) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        box = app.screen.query_one("#help", VerticalScroll)
        assert box.max_scroll_y == 0, "all of it on screen, to read it off"
        left = box.content_region.x
        what = min(w.region.x for w in app.screen.query(".help-what"))
        keys = {key for _, rows in SECTIONS for key, _ in rows}
        titles = " ".join(title for title, _ in SECTIONS)
        for line in screen_text(app)[box.content_region.y:box.content_region.bottom]:
            inside = line[left:box.content_region.right].rstrip()
            if not inside:
                continue
            head = inside[: what - left].strip()
            assert head in keys or (head and head in titles) or (
                not head and inside[what - left] != " "), inside


@pytest.mark.parametrize("theme", THEMES)
async def test_the_new_mark_and_the_count_read_at_4_5_to_1_in_every_theme(theme: str) -> None:
    """NEW on a row (under the cursor or not) and "3 new" in the summary, against the
    background they are drawn on: at least 4.5:1 in every theme."""
    app = seeded_app()
    async with app.run_test(size=(120, 40)) as pilot:
        app.theme = theme
        await pilot.pause()
        table = app.tables["overview"]
        for cursor in ("om", "justid"):
            table.cursor = cursor
            await pilot.pause()
            style = table.row("om").get_visual_style("row--new")
            assert style.foreground is not None and style.background is not None
            ratio = contrast(style.foreground, style.background)
            assert ratio >= 4.5, (theme, cursor, round(ratio, 2))
        style = app.summary.get_visual_style("summary--new")
        assert style.foreground is not None and style.background is not None
        ratio = contrast(style.foreground, style.background)
        assert ratio >= 4.5, (theme, "summary", round(ratio, 2))
