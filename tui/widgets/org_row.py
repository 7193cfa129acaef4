"""One organisation as one line of the overview."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label

from chain.views import OrgState, OrgView
from tui import format as fmt

COLUMNS = ("name", "state", "since", "heartbeat", "email", "phone", "backlog", "cause")
HEADINGS = {
    "name": "Organisation",
    "state": "State",
    "since": "Since",
    "heartbeat": "Heartbeat",
    "email": "Email",
    "phone": "Phone",
    "backlog": "Backlog",
    "cause": "Cause",
}


class OrgRow(Horizontal):
    """Cells are Labels with a class per column; colours come from app.tcss."""

    def __init__(self, org_id: str, *, heading: bool = False) -> None:
        super().__init__(id=None if heading else f"org-{org_id}", classes="row")
        self.org_id = org_id
        self.set_class(heading, "-heading")
        self._texts: dict[str, str] = {}
        self._cells = {
            column: Label(HEADINGS[column] if heading else "", classes=f"cell {column}")
            for column in COLUMNS
        }

    def compose(self) -> ComposeResult:
        yield from self._cells.values()

    def cell(self, column: str) -> Label:
        return self._cells[column]

    def text(self, column: str) -> str:
        return self._texts.get(column, "")

    def show(self, view: OrgView, now: float) -> None:
        email, phone = view.channel("email"), view.channel("phone")
        texts = {
            "name": f"{view.id} · {view.name}" if view.name != view.id else view.id,
            "state": fmt.STATE_LABEL[view.state],
            "since": fmt.clock_time(view.since, now),
            "heartbeat": fmt.age(view.heartbeat_age),
            "email": fmt.channel(email),
            "phone": fmt.channel(phone),
            "backlog": fmt.count(view.backlog_total),
            "cause": view.cause,
        }
        for column, text in texts.items():
            if self._texts.get(column) != text:
                self.cell(column).update(text)
        self._texts = texts
        for state in OrgState:
            self.set_class(view.state is state, f"-{state.value}")
        self.cell("email").set_class(email is not None and not email.up, "-down")
        self.cell("phone").set_class(phone is not None and not phone.up, "-down")
