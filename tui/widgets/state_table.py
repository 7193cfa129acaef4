"""A table whose rows look like their state, for hundreds of rows updated several times a second.

A row is one widget that renders one line. Its look comes from component classes styled in
app.tcss (`row--offline`, `row--down`, ...), so the theme decides every colour, and a change
of state is a repaint of one line: no restyling of widgets, no layout pass.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.style import Style
from textual.widget import Widget

from chain import vocabulary
from tui import untrusted
from tui.rows import Column, RowData

NARROW = 110
STATES = (*dict.fromkeys(term.state.value for term in vocabulary.TABLE), "note")
"""Every class a row's state can give it: a state's value, or `note` for a log line."""
# As values, not enum members: a row holds its state as the class name it styles by.
SILENT = frozenset(term.state.value for term in vocabulary.TABLE if term.silent)
TROUBLE = frozenset(term.state.value for term in vocabulary.TABLE if term.trouble)
READINGS = ("email", "phone", "backlog", "trend")


def fit(text: str, width: int, *, right: bool = False) -> str:
    if len(text) > width:
        return text[: max(0, width - 1)] + "…"
    return text.rjust(width) if right else text.ljust(width)


class Row(Widget, can_focus=True):
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        *(f"row--{state}" for state in STATES),
        "row--heading", "row--down", "row--muted", "row--trouble", "row--detail",
    }
    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "select", "Open", show=False)]

    class Selected(Message):
        """The operator pressed Enter on a row."""

        def __init__(self, row: Row) -> None:
            super().__init__()
            self.row = row

        @property
        def key(self) -> str:
            return self.row.key

    def __init__(self, key: str, columns: tuple[Column, ...], *, heading: bool = False) -> None:
        super().__init__(classes="row -heading" if heading else "row")
        self.can_focus = not heading
        self.key = key
        self.columns = columns
        self.heading = heading
        self.data = RowData(key=key, cells={c.key: c.title for c in columns}, state="heading")

    @property
    def state(self) -> str:
        return self.data.state

    def text(self, column: str) -> str:
        return "" if self.heading else self.data.cells.get(column, "")

    def show(self, data: RowData) -> None:
        if data != self.data:
            self.data = data
            self.refresh()

    def matches(self, needle: str) -> bool:
        return not needle or any(needle in text.lower() for text in self.data.cells.values())

    def render(self) -> Content:
        width = self.content_region.width or self.size.width
        narrow = width < NARROW - 2
        columns = [c for c in self.columns if not (c.optional and narrow)]
        widths = [(c.narrow if narrow and c.narrow else c.width) for c in columns]
        spare = max(8, width - sum((w or 0) + 1 for w in widths))
        parts: list[str | tuple[str, Style]] = []
        for column, fixed in zip(columns, widths, strict=True):
            # Every cell of every table passes here: names, causes, log texts and authors
            # come from agents, operators and files (Content reads no markup; controls
            # would still reach the terminal).
            text = untrusted.plain(self.data.cells.get(column.key, ""))
            cell = fit(text, fixed or spare, right=column.right)
            parts.append((cell + " ", self._style(column.key)))
        return Content.assemble(*parts)

    def _style(self, column: str) -> Style:
        if self.heading:
            return self._css("row--heading")
        state = self.data.state
        if column == "state":
            return self._css(f"row--{state}")
        if self.data.flags.get(column):
            return self._css("row--down")
        if column in READINGS and state in SILENT:
            return self._css("row--muted")
        if column == "name" and state in TROUBLE:
            return self._css("row--trouble")
        if column in ("cause", "needs", "text"):
            return self._css("row--detail")
        return Style()

    def _css(self, component: str) -> Style:
        # The full style, not a partial one: colours with alpha ($text-muted) blend with the
        # row's background. Textual caches it per component and pseudo-class.
        return self.get_visual_style(component)

    def action_select(self) -> None:
        self.post_message(self.Selected(self))


class StateTable(VerticalScroll):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down,j", "move(1)", "Down", show=False),
        Binding("up,k", "move(-1)", "Up", show=False),
    ]

    def __init__(self, columns: tuple[Column, ...], *, id: str | None = None,
                 classes: str = "") -> None:
        super().__init__(id=id, classes=f"state-table {classes}".strip())
        self.columns = columns
        self._rows: dict[str, Row] = {}
        self._order: list[str] = []
        self.needle = ""

    def compose(self) -> ComposeResult:
        yield Row("", self.columns, heading=True)

    def row(self, key: str) -> Row:
        return self._rows[key]

    @property
    def keys(self) -> list[str]:
        return list(self._order)

    def show(self, rows: list[RowData]) -> None:
        order = [data.key for data in rows]
        if order != self._order:
            # Rows come and go, or change places (rare: a state change re-sorts a table).
            # Mounting afresh in the new order is simpler than moving widgets around.
            for row in self._rows.values():
                row.remove()
            self._rows = {key: Row(key, self.columns) for key in order}
            self._order = order
            self.mount_all(self._rows.values())
        for data in rows:
            row = self._rows[data.key]
            row.show(data)
            shown = row.matches(self.needle)
            if row.display != shown:
                row.display = shown

    def filter(self, needle: str) -> None:
        self.needle = needle.lower().strip()
        for row in self._rows.values():
            shown = row.matches(self.needle)
            if row.display != shown:
                row.display = shown

    def action_move(self, step: int) -> None:
        visible = [self._rows[k] for k in self._order if self._rows[k].display]
        if not visible:
            return
        focused = self.screen.focused
        index = visible.index(focused) if focused in visible else (-1 if step > 0 else 0)
        target = visible[max(0, min(len(visible) - 1, index + step))]
        target.focus()
        target.scroll_visible()
