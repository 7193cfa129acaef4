"""The `?` screen: every key, in one place.

A grid of two columns, the key and what it does: a long explanation wraps within its own
column, so the keys stand alone at the left at any width.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

SECTIONS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("Views", (
        ("1 2 3 4", "Overview (every organisation), Flows, Impact (processes at risk), "
                    "Crisis log; the arrows then move in that table"),
        ("↑ ↓  j k", "move the cursor; PgUp PgDn Home End a page or to the end"),
        ("Enter", "open the organisation of the highlighted row (a flow: the end in trouble; "
                  "in a drill-down, the flow's other end)"),
        ("/", "filter every table by part of a name, state or cause; Enter to the table"),
        ("Esc", "back one level: drill-down to its tab, filter cleared, dialog closed"),
        ("ctrl+p  g", "command palette: every action and every organisation"),
        ("o", "problems first: most severe, then newest (State ▼); again: topology order"),
        ("b  n", "bell, notification for each NEW problem: on / off"),
        ("t", "theme: dark, light, colour-blind"),
    )),
    ("Operator actions (on the highlighted row's organisation; every crisis-room screen "
     "sees them)", (
        ("a", "annotate the crisis log"),
        ("r", "manual report, evidence (\"called CJIB duty desk 14:03: phones work\")"),
        ("i", "declare ISOLATED (deliberately disconnected), or lift it"),
        ("c", "acknowledge the row's problem (organisation, flow, process, inject), "
              "optionally until 14:30 or +2h: no longer NEW on any screen"),
    )),
    ("Replay and exercise (the banner says which)", (
        ("space", "pause / resume"),
        ("+ -", "faster / slower (beyond the fastest: flat out)"),
        ("s", "seek: 14:00, 2025-07-20 14:00, +2h, day 3 (an exercise only skips ahead)"),
        ("[ ]  { }", "an hour back / on, a day back / on"),
    )),
    ("", (
        ("?", "this help"),
        ("q", "quit"),
    )),
)


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "dismiss", "Close"),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            for title, keys in SECTIONS:
                if title:
                    yield Static(title, classes="help-title", markup=False)
                with Grid(classes="help-keys"):
                    for key, what in keys:
                        yield Static(key, classes="help-key", markup=False)
                        yield Static(what, classes="help-what", markup=False)
