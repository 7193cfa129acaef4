"""The lines above the tables: what is down, stalled and at risk, and our own broker link."""

from __future__ import annotations

import time

from textual.widgets import Static

from chain.views import ChainView, LinkState, OrgState, ProcessState
from tui import format as fmt
from tui import untrusted

TROUBLE = (OrgState.OFFLINE, OrgState.STALE, OrgState.ISOLATED, OrgState.DEGRADED)
"""Always counted on the first line, even at zero; INVALID and the rest only when present."""
PROBLEMS = (LinkState.DOWN, LinkState.STALLED, LinkState.STUCK, LinkState.SLOW)


class ChainSummary(Static):
    def __init__(self, broker_url: str, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self.broker_url = broker_url
        self._broker = untrusted.markup(broker_url)  # shown in markup, from config or command line

    def show(self, view: ChainView) -> None:
        orgs = "  ".join(
            f"{fmt.STATE_LABEL[state]} {view.count(state)}"
            for state in OrgState if state in TROUBLE or view.count(state)
        )
        links = {s: sum(1 for k in view.links if k.state is s) for s in LinkState}
        stopped = [f"{links[s]} {s.value}" for s in PROBLEMS if links[s]]
        flows = "flows: " + (", ".join(stopped) if stopped else "none stopped")
        at_risk = sum(1 for p in view.processes if p.state is ProcessState.AT_RISK)
        blocked = sum(1 for p in view.processes if p.state is ProcessState.BLOCKED)
        impact = f"processes: {at_risk} at risk, {blocked} blocked"
        if view.monitor_connected:
            link = f"broker {self._broker}: connected"
        elif view.monitor_since is None:
            link = f"broker {self._broker}: connecting…"
        else:
            since = fmt.clock_time(view.monitor_since, view.at)
            link = f"broker {self._broker}: DISCONNECTED since {since}"
        rejected = f"  ·  {view.rejected} payloads rejected" if view.rejected else ""
        if view.unattributed:
            rejected += f" ({view.unattributed} on no organisation's topic)"
        if view.unknown_senders:
            rejected += f"  ·  {untrusted.markup(view.unknown_senders)}"
        clock = time.strftime("%d %b %H:%M:%S", time.localtime(view.at))
        self.update(f"{orgs}\n{flows}  ·  {impact}{rejected}\n{clock}  ·  {link}")
        self.set_class(not view.monitor_connected, "-disconnected")
        self.set_class(bool(links[LinkState.DOWN] or blocked or at_risk), "-trouble")
