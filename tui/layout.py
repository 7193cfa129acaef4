"""How wide each column of a table is: from what its cells hold and the width there is.

Pure (no widgets), computed once per redraw or resize for a whole table, never per cell.
A table declares its columns and, in order, what it gives up when the width runs short:
a reading written briefly (`✓ 40ms` as `✓`), a column dropped, a text column cut down to
its minimum. The reason column (`flex`) is never dropped: it gets what is left, and the
steps go on until it shows in full, but a name is cut only for the reason's first FLEX_MIN
cells.
Numbers are never cut: a column of them is as wide as its widest value, or dropped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from rich.cells import cell_len

GAP = 1
"""Blank cells after every column."""
FLEX_MIN = 24
"""The reason column's width before any name is cut for it (or its widest reason, if less)."""


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    title: str
    right: bool = False
    """Right-aligned (numbers)."""
    minimum: int | None = None
    """Cells a `cut` step may narrow it to; None: never cut (numbers, times, states)."""
    flex: bool = False
    """The reason: never dropped, takes the width that is left."""


@dataclass(frozen=True, slots=True)
class Step:
    kind: Literal["brief", "drop", "cut"]
    """`brief`: each cell's first word only; `drop`: not shown; `cut`: down to its minimum."""
    columns: tuple[str, ...]
    """Taken together (email and phone go as one)."""


def briefly(*columns: str) -> Step:
    return Step("brief", columns)


def drop(*columns: str) -> Step:
    return Step("drop", columns)


def cut(*columns: str) -> Step:
    return Step("cut", columns)


@dataclass(frozen=True, slots=True)
class Spec:
    """A table's columns and what it gives up first when the width runs short."""

    columns: tuple[Column, ...]
    steps: tuple[Step, ...] = ()


@dataclass(frozen=True, slots=True)
class Placed:
    """A column as shown: its width, and whether its cells are written briefly."""

    key: str
    width: int
    right: bool = False
    brief: bool = False


def brief(text: str) -> str:
    """`✓ 40ms` → `✓`, `? 10m00s old` → `?`: the symbol that says it."""
    return text.split(" ", 1)[0]


@dataclass(frozen=True, slots=True)
class Measure:
    """The widest cell of each column, as written in full and as written briefly."""

    full: Mapping[str, int]
    short: Mapping[str, int]


def measure(spec: Spec, rows: Iterable[Mapping[str, str]]) -> Measure:
    """Widest cell per column, titles included: one pass over the shown texts."""
    full = {c.key: cell_len(c.title) for c in spec.columns}
    short = dict(full)
    briefed = {key for s in spec.steps if s.kind == "brief" for key in s.columns}
    for cells in rows:
        for key, text in cells.items():
            if key not in full:
                continue
            width = cell_len(text)
            if width > full[key]:
                full[key] = width
            if key in briefed and (narrow := cell_len(brief(text))) > short[key]:
                short[key] = narrow
    return Measure(full, short)


def plan(spec: Spec, widths: Measure, width: int) -> tuple[Placed, ...]:
    """The columns to show in `width` cells, each with its width."""
    flex = next((c for c in spec.columns if c.flex), None)
    wanted = widths.full[flex.key] if flex else 0

    def room(applied: frozenset[Step]) -> int:
        """Cells left for the reason column with these steps taken."""
        used = 0
        taken = _taken(applied)
        for column in spec.columns:
            if column.flex:
                used += GAP
                continue
            size = _width(column, taken, widths)
            if size is not None:
                used += size + GAP
        return width - used

    applied: list[Step] = []
    steps = list(spec.steps)
    # First the reason gets a useful width, at any cost. If that took no cut, it gets as
    # much more as the steps up to the next cut give; a cut column gets every cell back
    # that the reason's first FLEX_MIN do not need.
    while steps and room(frozenset(applied)) < min(wanted, FLEX_MIN):
        applied.append(steps.pop(0))
    was_cut = any(step.kind == "cut" for step in applied)
    for step in [] if was_cut else steps:
        if room(frozenset(applied)) >= wanted or step.kind == "cut":
            break
        applied.append(step)
    goal = min(wanted, FLEX_MIN if was_cut else room(frozenset(applied)))

    def growth(applied: frozenset[Step]) -> int:
        """Cells the columns cut down could still use to show in full."""
        taken = _taken(applied)
        return sum(widths.full[c.key] - min(widths.full[c.key], c.minimum or 0)
                   for c in spec.columns if ("cut", c.key) in taken)

    # A later step may have freed enough that an earlier one is not needed after all, as
    # long as taking it back leaves a cut column no narrower than it will be now.
    for step in reversed(list(applied)):
        trial = frozenset(s for s in applied if s != step)
        if room(trial) - goal >= growth(trial):
            applied.remove(step)
    spare = room(frozenset(applied)) - goal
    taken = _taken(frozenset(applied))
    placed: list[Placed] = []
    for column in spec.columns:
        if column.flex:
            placed.append(Placed(column.key, 0, column.right))
            continue
        size = _width(column, taken, widths)
        if size is None:
            continue
        if ("cut", column.key) in taken and spare > 0:
            grown = min(widths.full[column.key], size + spare)
            spare -= grown - size
            size = grown
        placed.append(Placed(column.key, size, column.right,
                             brief=("brief", column.key) in taken))
    if flex is not None:
        rest = width - sum(p.width + GAP for p in placed if p.key != flex.key) - GAP
        placed = [Placed(p.key, max(rest, 1), p.right) if p.key == flex.key else p
                  for p in placed]
    return tuple(placed)


def _taken(applied: frozenset[Step]) -> frozenset[tuple[str, str]]:
    return frozenset((step.kind, key) for step in applied for key in step.columns)


def _width(column: Column, taken: frozenset[tuple[str, str]], widths: Measure) -> int | None:
    """Its width with these steps taken (the reason column aside), or None if dropped."""
    if ("drop", column.key) in taken:
        return None
    if ("brief", column.key) in taken:
        return widths.short[column.key]
    full = widths.full[column.key]
    if ("cut", column.key) in taken and column.minimum is not None:
        return min(full, column.minimum)
    return full


def fit(text: str, width: int, *, right: bool = False) -> str:
    """`text` in exactly `width` cells: padded, or cut with an ellipsis."""
    size = cell_len(text)
    if size > width:
        if width <= 0:
            return ""
        if size == len(text):  # one cell a character: the usual case
            return text[: width - 1] + "…"
        while cell_len(text) > width - 1:
            text = text[:-1]
        return text + "…" + " " * (width - 1 - cell_len(text))
    pad = " " * (width - size)
    return pad + text if right else text + pad
