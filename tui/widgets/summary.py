"""The line above the table: chain totals and the monitor's own broker connection."""

from __future__ import annotations

from textual.widgets import Static

from chain.views import ChainView, OrgState
from tui import format as fmt


class ChainSummary(Static):
    def __init__(self, broker_url: str, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self.broker_url = broker_url

    def show(self, view: ChainView) -> None:
        totals = "  ".join(
            f"{fmt.STATE_LABEL[state]} {view.count(state)}" for state in OrgState
        )
        if view.monitor_connected:
            link = f"broker {self.broker_url}: connected"
        elif view.monitor_since is None:
            link = f"broker {self.broker_url}: connecting…"
        else:
            since = fmt.clock_time(view.monitor_since, view.at)
            link = f"broker {self.broker_url}: DISCONNECTED since {since}"
        rejected = f"  ·  {view.rejected} rejected" if view.rejected else ""
        self.update(f"{totals}{rejected}\n{link}")
        self.set_class(not view.monitor_connected, "-disconnected")
