"""The `?` screen: every key, in one place."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS = """\
[b]Views[/b]
  1  Overview: every organisation      2  Flows: every link
  3  Impact: processes at risk         4  Crisis log
  Enter  open the organisation under the cursor (drill-down)
  g  jump to an organisation           ctrl+p  command palette
  /  filter the current table          Escape  clear the filter / go back
  ↑ ↓ (or k j)  move                   t  theme: dark, light, colour-blind

[b]Operator actions[/b] (published for every crisis-room screen)
  a  annotate the log                  r  manual report ("called CJIB: phones work")
  i  declare ISOLATED / lift it        c  acknowledge the alarm of an organisation

[b]Replay and exercise[/b] (the banner says which)
  space  pause / resume                + -  faster / slower (beyond the fastest: flat out)
  s  seek: 14:00, 2025-07-20 14:00, +2h, day 3      [ ]  one hour back / on   { }  a day

  q  quit                              ?  this help
"""


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "dismiss", "Close"),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Static(KEYS)
