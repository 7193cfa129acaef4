"""One line of a StateTable: one row's cells in the table's layout, looking like its state.

Its look comes from component classes styled in app.tcss (`row--offline`, `row--down`, ...),
so the theme decides every colour, and a change of state is a repaint of one line: no
restyling of widgets, no layout pass. A row whose problem is new has the class `-new` too
(a bar in its left margin), besides the word NEW in its mark column. Rows are slots: a
re-sorted table hands each slot another row's line instead of mounting widgets afresh.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from textual import events
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.style import Style
from textual.widget import Widget

from chain import vocabulary
from tui.layout import Placed, brief, fit
from tui.rows import RowData

STATES = (*dict.fromkeys(term.state.value for term in vocabulary.TABLE), "note")
"""Every class a row's state can give it: a state's value, or `note` for a log line."""
# As values, not enum members: a row holds its state as the class name it styles by.
SILENT = frozenset(term.state.value for term in vocabulary.TABLE if term.silent)
TROUBLE = frozenset(term.state.value for term in vocabulary.TABLE if term.trouble)
READINGS = ("email", "phone", "backlog", "trend")
DETAILS = ("cause", "needs", "text")


@dataclass(frozen=True, eq=False, slots=True)
class Line:
    """A row as its slot shows it. Compared by identity: the table hands a slot the same
    Line again while the row's data has not changed, so an unchanged row is not repainted."""

    data: RowData
    texts: Mapping[str, str]
    """The cells as shown: every one through `untrusted.plain` (names, causes, log texts
    and authors come from agents, operators and files)."""


class Row(Widget):
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        *(f"row--{state}" for state in STATES),
        "row--heading", "row--down", "row--muted", "row--trouble", "row--detail",
        "row--new", "row--acknowledged",
    }

    cursor: reactive[bool] = reactive(False, repaint=False)

    class Clicked(Message):
        """The operator clicked a row (twice: to open it)."""

        def __init__(self, row: Row, *, twice: bool) -> None:
            super().__init__()
            self.row = row
            self.twice = twice

    def __init__(self, *, heading: bool = False) -> None:
        super().__init__(classes="row -heading" if heading else "row")
        self.heading = heading
        self.line: Line | None = None
        self.columns: tuple[Placed, ...] = ()
        """The table's layout: which cells, how wide."""

    def show(self, line: Line | None = None, columns: tuple[Placed, ...] | None = None) -> None:
        """A new line or layout, repainted if either changed. Not reactive attributes: a
        table of 200 rows sets both on every redraw, and Textual's reactive machinery per
        assignment cost more than the repaints themselves."""
        changed = False
        if line is not None and line is not self.line:
            self.line, changed = line, True
            if not self.heading:
                self.set_class(line.data.new, "-new")
        if columns is not None and columns is not self.columns:
            self.columns, changed = columns, True
        if changed:
            self.refresh()

    @property
    def key(self) -> str:
        return "" if self.line is None else self.line.data.key

    @property
    def data(self) -> RowData | None:
        return None if self.line is None else self.line.data

    def text(self, column: str) -> str:
        """The cell as the row's data has it (before escaping and fitting)."""
        return "" if self.line is None or self.heading else self.line.data.cells.get(column, "")

    def watch_cursor(self, cursor: bool) -> None:
        self.set_class(cursor, "-cursor")

    def render(self) -> Content:
        line = self.line
        if line is None:
            return Content("")
        parts: list[tuple[str, Style]] = []
        for placed in self.columns:
            text = line.texts.get(placed.key, "")
            if placed.brief and not self.heading:
                text = brief(text)
            cell = fit(text, placed.width, right=placed.right)
            parts.append((cell + " ", self._style(line.data, placed.key)))
        return Content.assemble(*parts)

    def _style(self, data: RowData, column: str) -> Style:
        if self.heading:
            return self._css("row--heading")
        state = data.state
        if column == "mark":
            return self._css("row--new" if data.new else "row--acknowledged")
        if column == "state":
            return self._css(f"row--{state}")
        if data.flags.get(column):
            return self._css("row--down")
        if column in READINGS and state in SILENT:
            return self._css("row--muted")
        if column == "name" and state in TROUBLE:
            return self._css("row--trouble")
        if column in DETAILS:
            return self._css("row--detail")
        return Style()

    def _css(self, component: str) -> Style:
        # The full style, not a partial one: colours with alpha ($text-muted) blend with the
        # row's background. Textual caches it per component and pseudo-class.
        return self.get_visual_style(component)

    def on_click(self, event: events.Click) -> None:
        if not self.heading:
            self.post_message(self.Clicked(self, twice=event.chain >= 2))
