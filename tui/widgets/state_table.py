"""A table whose rows look like their state, for hundreds of rows updated several times a second.

The table, not a row, holds the focus: its cursor is the key of the highlighted row, so the
cursor survives a re-sort, a filter and a tab switch, and the arrows, Enter and the actions
always act on the table in view. Columns are sized once per redraw or resize from what the
cells hold and the width there is (tui/layout.py), never per cell.
"""

from __future__ import annotations

from dataclasses import replace
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.events import Resize
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

from tui import untrusted
from tui.layout import Placed, Spec, measure, plan
from tui.rows import RowData
from tui.widgets.row import Line, Row


class StateTable(Widget, can_focus=True):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down,j", "move(1)", "Down", show=False),
        Binding("up,k", "move(-1)", "Up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("home", "move(-1000000)", "First", show=False),
        Binding("end", "move(1000000)", "Last", show=False),
        Binding("enter", "select", "Open", show=False),
    ]

    cursor: reactive[str | None] = reactive(None)
    """The key of the highlighted row."""
    needle: reactive[str] = reactive("")
    """Only rows with a cell containing it (lower case) are shown."""

    class Selected(Message):
        """The operator pressed Enter on a row (or clicked it twice)."""

        def __init__(self, table: StateTable, data: RowData) -> None:
            super().__init__()
            self.table = table
            self.data = data

        @property
        def key(self) -> str:
            return self.data.key

        @property
        def control(self) -> StateTable:
            return self.table

    def __init__(self, spec: Spec, *, id: str | None = None, classes: str = "") -> None:
        super().__init__(id=id, classes=f"state-table {classes}".strip())
        self.spec = spec
        self.heading = Row(heading=True)
        self.body = VerticalScroll(classes="table-body", can_focus=False)
        titles = {c.key: c.title for c in spec.columns}
        self.heading.show(Line(RowData("", titles, "heading"), titles))
        self._slots: list[Row] = []
        self._lines: dict[str, Line] = {}
        self._order: list[str] = []
        self._index: dict[str, int] = {}
        self._layout: tuple[Placed, ...] = ()
        self._pending: list[RowData] | None = None
        self._marked: Row | None = None

    def compose(self) -> ComposeResult:
        yield self.heading
        yield self.body

    def on_mount(self) -> None:
        if self._pending is not None:
            self.show(self._pending)
            self._pending = None

    # ------------------------------------------------------------------ what it shows

    @property
    def keys(self) -> list[str]:
        return list(self._order)

    def row(self, key: str) -> Row:
        return self._slots[self._index[key]]

    @property
    def highlighted(self) -> RowData | None:
        """The data of the row under the cursor, if any."""
        line = self._lines.get(self.cursor) if self.cursor is not None else None
        return None if line is None else line.data

    def show(self, rows: list[RowData]) -> None:
        if not self.body.is_mounted:
            self._pending = rows  # shown once mounted
            return
        lines = {data.key: self._line(data) for data in rows}
        order = list(lines)
        if len(order) > len(self._slots):
            added = [Row() for _ in range(len(order) - len(self._slots))]
            for slot in added:
                slot.show(columns=self._layout)
            self._slots.extend(added)
            self.body.mount_all(added)
        elif len(order) < len(self._slots):
            for slot in self._slots[len(order):]:
                slot.remove()
                if slot is self._marked:
                    self._marked = None
            del self._slots[len(order):]
        moved = self.cursor is not None and (
            self._index.get(self.cursor) != (order.index(self.cursor)
                                             if self.cursor in lines else None))
        self._lines, self._order = lines, order
        self._index = {key: i for i, key in enumerate(order)}
        for slot, key in zip(self._slots, order, strict=True):
            slot.show(lines[key])
        self._place()
        self._apply_filter()
        if moved and self.has_focus:
            self.call_after_refresh(self._scroll_to_cursor)  # re-sorted: keep it in view

    def retitle(self, key: str, title: str) -> None:
        """A column's heading changed (`State ▼` while sorted by severity)."""
        columns = tuple(replace(c, title=title) if c.key == key else c
                        for c in self.spec.columns)
        self.spec = Spec(columns, self.spec.steps)
        titles = {c.key: c.title for c in columns}
        self.heading.show(Line(RowData("", titles, "heading"), titles))
        self._place()

    def _line(self, data: RowData) -> Line:
        known = self._lines.get(data.key)
        if known is not None and known.data == data:
            return known
        return Line(data, {key: untrusted.plain(text) for key, text in data.cells.items()})

    def _place(self) -> None:
        """Columns for this width and these cells; every row repainted if they changed."""
        width = self.body.scrollable_content_region.width - self.heading.styles.gutter.width
        if width <= 0:
            return  # not laid out yet (or a hidden tab): its first resize places them
        layout = plan(self.spec, measure(self.spec, (ln.texts for ln in self._lines.values())),
                      width)
        if layout != self._layout:
            self._layout = layout
            self.heading.show(columns=layout)
            for slot in self._slots:
                slot.show(columns=layout)

    def on_resize(self, _: Resize) -> None:
        self.call_after_refresh(self._place)

    # ------------------------------------------------------------------ filter and cursor

    def watch_needle(self) -> None:
        self._apply_filter()

    def _apply_filter(self) -> None:
        needle = self.needle
        for slot, key in zip(self._slots, self._order, strict=True):
            texts = self._lines[key].data.cells.values()
            shown = not needle or any(needle in text.lower() for text in texts)
            if slot.display != shown:
                slot.display = shown
        self._settle_cursor()

    def _visible(self) -> list[str]:
        return [k for slot, k in zip(self._slots, self._order, strict=True) if slot.display]

    def _settle_cursor(self) -> None:
        """The cursor on a shown row: where it was, or the first one shown."""
        cursor = self.cursor
        if cursor in self._lines and self.row(cursor).display:
            self._mark(cursor)
            return
        visible = self._visible()
        self.cursor = visible[0] if visible else None
        self._mark(self.cursor)

    def watch_cursor(self, cursor: str | None) -> None:
        self._mark(cursor)

    def _scroll_to_cursor(self) -> None:
        if self.cursor in self._index:
            self.row(self.cursor).scroll_visible(animate=False)

    def _mark(self, cursor: str | None) -> None:
        """The cursor's look on the slot now showing its row: two slots touched, not all."""
        slot = self._slots[self._index[cursor]] if cursor in self._index else None
        if slot is self._marked:
            return
        if self._marked is not None:
            self._marked.cursor = False
        if slot is not None:
            slot.cursor = True
        self._marked = slot

    def action_move(self, step: int) -> None:
        visible = self._visible()
        if not visible:
            return
        index = visible.index(self.cursor) if self.cursor in visible else 0
        self.cursor = visible[max(0, min(len(visible) - 1, index + step))]
        self._scroll_to_cursor()

    def action_page(self, direction: int) -> None:
        self.action_move(direction * max(1, self.body.scrollable_content_region.height - 1))

    def action_select(self) -> None:
        if (data := self.highlighted) is not None:
            self.post_message(self.Selected(self, data))

    def on_row_clicked(self, event: Row.Clicked) -> None:
        event.stop()
        if event.row.key in self._lines:
            self.focus()
            self.cursor = event.row.key
            if event.twice:
                self.action_select()
