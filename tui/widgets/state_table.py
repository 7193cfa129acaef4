"""A table of rows whose look follows their state: one Label per cell, colours in app.tcss.

Rows are widgets (not DataTable cells) so that every state is a CSS class and the theme,
not Python, decides its colour. Only cells whose text changed are updated.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

from tui.rows import RowData


class Cell(Widget):
    """One line of text with a fixed width from app.tcss.

    Changing the text repaints the cell only (no layout pass): with hundreds of rows whose
    ages tick every second, a Label's layout refresh per update would dominate every frame.
    """

    DEFAULT_CSS = "Cell { height: 1; }"
    text: reactive[str] = reactive("", layout=False)

    def __init__(self, text: str, *, classes: str) -> None:
        super().__init__(classes=classes)
        self.set_reactive(Cell.text, text)

    def render(self) -> str:
        return self.text


class Row(Horizontal, can_focus=True):
    class Selected(Message):
        """The operator pressed Enter on a row."""

        def __init__(self, row: Row) -> None:
            super().__init__()
            self.row = row

        @property
        def key(self) -> str:
            return self.row.key

    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "select", "Open", show=False)]

    def __init__(self, key: str, columns: dict[str, str], *, heading: bool = False) -> None:
        super().__init__(classes="row -heading" if heading else "row")
        self.can_focus = not heading
        self.key = key
        self.state = ""
        self._texts: dict[str, str] = {}
        self._cells = {
            column: Cell(title if heading else "", classes=f"cell {column}")
            for column, title in columns.items()
        }

    def compose(self) -> ComposeResult:
        yield from self._cells.values()

    def text(self, column: str) -> str:
        return self._texts.get(column, "")

    def show(self, data: RowData) -> None:
        for column, text in data.cells.items():
            if self._texts.get(column) != text:
                self._cells[column].text = text
        self._texts = data.cells
        if data.state != self.state:
            if self.state:
                self.remove_class(f"-{self.state}")
            self.add_class(f"-{data.state}")
            self.state = data.state
        for column, flagged in data.flags.items():
            cell = self._cells[column]
            if cell.has_class("-down") != flagged:  # restyling is costly: only on change
                cell.set_class(flagged, "-down")

    def matches(self, needle: str) -> bool:
        return not needle or any(needle in text.lower() for text in self._texts.values())

    def action_select(self) -> None:
        self.post_message(self.Selected(self))


class StateTable(VerticalScroll):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down,j", "move(1)", "Down", show=False),
        Binding("up,k", "move(-1)", "Up", show=False),
    ]

    def __init__(self, columns: dict[str, str], *, id: str | None = None,
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
