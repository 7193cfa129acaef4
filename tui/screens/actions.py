"""Operator actions as small forms: annotate, report by hand, isolate, acknowledge.

An acknowledgement names its subject (the highlighted row's organisation, flow, process or
inject), says where its problem stands, and takes an optional end ("until 14:30", "+2h"),
read in the screen's time zone; a time it cannot read is said under the field, and nothing
is published until it is put right or left empty.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import tzinfo
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select

from chain.errors import UsageError
from tui import format as fmt
from tui import untrusted
from tui.moments import parse_until


@dataclass(frozen=True)
class ActionForm:
    """What the operator entered; the app turns it into a wire `Op`."""

    kind: str
    org: str | None
    text: str
    channel: str | None = None
    up: bool | None = None
    subject: str | None = None
    """What an acknowledgement names: `org:om`, `link:om-justid`, `process:vog`, `inject:…`."""
    until: float | None = None
    """An acknowledgement's end (epoch seconds), if the operator gave one."""


class ActionScreen(ModalScreen[ActionForm | None]):
    """One form for every action; `kind` decides which fields it asks for."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]
    TITLES: ClassVar[dict[str, str]] = {
        "annotation": "Annotate the crisis log",
        "report": "Enter a manual report (evidence)",
        "isolation": "Declare ISOLATED (deliberately disconnected)",
        "lift": "Lift the isolation",
        "ack": "Acknowledge the problem",
    }

    def __init__(self, kind: str, org: str | None, orgs: list[str], *,
                 subject: str | None = None, standing: tuple[str, ...] = (),
                 clock: Callable[[], float] = time.time, zone: tzinfo | None = None) -> None:
        """`subject` and `standing` (what its problem is and where it stands: lines of plain
        text) for an acknowledgement; `clock` and `zone` read its "until"."""
        super().__init__()
        self.kind = kind
        self.org = org
        self.orgs = orgs
        self.subject = subject
        self.standing = standing
        self._clock = clock
        self._zone = zone

    def compose(self) -> ComposeResult:
        with Vertical(id="action-form"):
            yield Label(self.TITLES[self.kind], id="action-title")
            if self.kind in ("annotation", "report"):
                options = [(org, org) for org in self.orgs]
                prompt = "organisation (optional)" if self.kind == "annotation" else "organisation"
                if self.org is not None:
                    yield Select(options, value=self.org, id="org", prompt=prompt)
                else:
                    yield Select(options, id="org", prompt=prompt)
            elif self.kind == "ack":
                lines = (f"{self.subject}: {self.standing[0] if self.standing else ''}",
                         *self.standing[1:])
                yield Label("\n".join(untrusted.markup(line) for line in lines),
                            id="ack-subject")
            else:
                yield Label(f"organisation: {untrusted.markup(self.org or '')}", id="org-fixed")
            if self.kind == "report":
                channels = [(c, c) for c in ("email", "phone", "portal", "messaging")]
                yield Select(channels, id="channel", prompt="channel (optional)")
                yield Select([("works", "works"), ("does not work", "broken")], id="up",
                             prompt="it… (optional)")
            placeholder = {
                "annotation": "what happened, e.g. NCSC advisory received",
                "report": "e.g. called CJIB duty desk 14:03: phones work",
                "isolation": "reason, e.g. OM cut off from the internet",
                "lift": "note (optional)",
                "ack": "note (optional)",
            }[self.kind]
            if self.kind == "ack":  # side by side: the form fits a 24-line terminal
                with Horizontal(id="ack-fields"):
                    yield Input(placeholder=placeholder, id="text", max_length=500)
                    yield Input(placeholder="until: 14:30, +2h", id="until", max_length=40)
                yield Label("", id="until-said")
            else:
                yield Input(placeholder=placeholder, id="text", max_length=500)
            with Horizontal(id="action-buttons"):
                yield Button("Publish", variant="primary", id="publish")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#text", Input).focus()

    def on_input_submitted(self) -> None:
        self._submit()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "until":
            self._read_until(quiet=True)

    def _read_until(self, *, quiet: bool = False) -> tuple[bool, float | None]:
        """The "until" field read, and said under it: when it ends, or (unless `quiet`,
        while typing) what is wrong. False if it cannot be read."""
        said = self.query_one("#until-said", Label)
        typed = self.query_one("#until", Input).value
        now = self._clock()
        try:
            until = parse_until(typed, now=now, zone=self._zone)
        except UsageError as error:
            if not quiet:
                said.update(untrusted.markup(str(error)))
                said.set_class(True, "-error")
                said.display = True
            return False, None
        said.set_class(False, "-error")
        said.display = until is not None
        said.update("" if until is None else
                    f"until {fmt.clock_time(until, now, self._zone)}, then new again "
                    "if it is still there")
        return True, until

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "publish":
            self._submit()
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def _submit(self) -> None:
        text = self.query_one("#text", Input).value.strip()
        org = self.org
        if self.kind in ("annotation", "report"):
            chosen = self.query_one("#org", Select).value
            org = chosen if isinstance(chosen, str) else None
        if self.kind in ("annotation", "report") and not text:
            self.notify("Write what happened first.", severity="warning")
            return
        if self.kind == "report" and org is None:
            self.notify("A report is about an organisation: choose one.", severity="warning")
            return
        until = None
        if self.kind == "ack":
            readable, until = self._read_until()
            if not readable:
                self.query_one("#until", Input).focus()
                return
        channel = up = None
        if self.kind == "report":
            picked = self.query_one("#channel", Select).value
            channel = picked if isinstance(picked, str) else None
            works = self.query_one("#up", Select).value
            up = {"works": True, "broken": False}.get(works) if isinstance(works, str) else None
        self.dismiss(ActionForm(kind=self.kind, org=org, text=text, channel=channel, up=up,
                                subject=self.subject, until=until))
