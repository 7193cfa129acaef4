"""Operator actions as small forms: annotate, report by hand, isolate, acknowledge."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select

from tui import untrusted


@dataclass(frozen=True)
class ActionForm:
    """What the operator entered; the app turns it into a wire `Op`."""

    kind: str
    org: str | None
    text: str
    channel: str | None = None
    up: bool | None = None


class ActionScreen(ModalScreen[ActionForm | None]):
    """One form for every action; `kind` decides which fields it asks for."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]
    TITLES: ClassVar[dict[str, str]] = {
        "annotation": "Annotate the crisis log",
        "report": "Enter a manual report (evidence)",
        "isolation": "Declare ISOLATED (deliberately disconnected)",
        "lift": "Lift the isolation",
        "ack": "Acknowledge the alarm",
    }

    def __init__(self, kind: str, org: str | None, orgs: list[str]) -> None:
        super().__init__()
        self.kind = kind
        self.org = org
        self.orgs = orgs

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
            yield Input(placeholder=placeholder, id="text", max_length=500)
            with Horizontal(id="action-buttons"):
                yield Button("Publish", variant="primary", id="publish")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#text", Input).focus()

    def on_input_submitted(self) -> None:
        self._submit()

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
        channel = up = None
        if self.kind == "report":
            picked = self.query_one("#channel", Select).value
            channel = picked if isinstance(picked, str) else None
            works = self.query_one("#up", Select).value
            up = {"works": True, "broken": False}.get(works) if isinstance(works, str) else None
        self.dismiss(ActionForm(kind=self.kind, org=org, text=text, channel=channel, up=up))
