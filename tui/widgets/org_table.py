"""The overview: one OrgRow per organisation, in topology order."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll

from chain.views import ChainView
from tui.widgets.org_row import OrgRow


class OrgTable(VerticalScroll):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._rows: dict[str, OrgRow] = {}

    def compose(self) -> ComposeResult:
        yield OrgRow("", heading=True)

    def row(self, org_id: str) -> OrgRow:
        return self._rows[org_id]

    def show(self, view: ChainView) -> None:
        for org in view.orgs:
            row = self._rows.get(org.id)
            if row is None:
                row = self._rows[org.id] = OrgRow(org.id)
                self.mount(row)
            row.show(org, view.at)
