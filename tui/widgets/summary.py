"""The lines above the tables: how many problems are new, what is down, stalled and at
risk, and our own broker link.

Three lines where there is room; two on a short terminal (app.tcss gives it 2 rows there),
so that at 80x24 every organisation still fits on the screen below it. "3 new" leads the
first line, in the look of `summary--new` (app.tcss), and is not there at all at zero.
"""

from __future__ import annotations

from datetime import tzinfo
from typing import ClassVar

from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget

from chain.views import ChainView, LinkState, OrgState, ProcessState
from tui import format as fmt
from tui import untrusted

TROUBLE = (OrgState.OFFLINE, OrgState.STALE, OrgState.ISOLATED, OrgState.DEGRADED)
"""Always counted on the first line, even at zero; INVALID and the rest only when present."""
PROBLEMS = (LinkState.DOWN, LinkState.STALLED, LinkState.STUCK, LinkState.SLOW)


class ChainSummary(Widget):
    COMPONENT_CLASSES: ClassVar[set[str]] = {"summary--new"}

    view: reactive[ChainView | None] = reactive(None)

    def __init__(self, broker_url: str, *, zone: tzinfo | None = None,
                 id: str | None = None) -> None:
        super().__init__(id=id)
        self.broker_url = broker_url
        self.zone = zone
        self._broker = untrusted.plain(broker_url)  # from config or command line

    def show(self, view: ChainView) -> None:
        self.view = view

    def watch_view(self, view: ChainView | None) -> None:
        if view is None:
            return
        links = {s: sum(1 for k in view.links if k.state is s) for s in LinkState}
        trouble = links[LinkState.DOWN] or any(
            p.state is not ProcessState.OK for p in view.processes)
        self.set_class(not view.monitor_connected, "-disconnected")
        self.set_class(bool(trouble), "-trouble")
        self.set_class(view.new_problems > 0, "-new")

    def render(self) -> Content:
        view = self.view
        if view is None:
            return Content("")
        text = "\n".join(lines(view, self._broker, compact=self.size.height < 3,
                               zone=self.zone))
        label = new_label(view.new_problems)
        if not label:
            return Content(text)
        return Content.assemble((label, self.get_visual_style("summary--new")),
                                text[len(label):])


def new_label(count: int) -> str:
    """`3 new`, with a blank either side for its coloured block; "" when there are none."""
    return f" {count} new " if count else ""


def lines(view: ChainView, broker: str, *, compact: bool = False,
          zone: tzinfo | None = None) -> list[str]:
    """The summary as text: three lines, or two when `compact`; times in `zone`."""
    orgs = "  ".join(
        f"{fmt.STATE_LABEL[state]} {view.count(state)}"
        for state in OrgState if (state in TROUBLE and not compact) or view.count(state)
    )
    links = {s: sum(1 for k in view.links if k.state is s) for s in LinkState}
    stopped = [f"{links[s]} {s.value}" for s in PROBLEMS if links[s]]
    flows = "flows: " + (", ".join(stopped) if stopped else "none stopped")
    at_risk = sum(1 for p in view.processes if p.state is ProcessState.AT_RISK)
    blocked = sum(1 for p in view.processes if p.state is ProcessState.BLOCKED)
    impact = f"processes: {at_risk} at risk, {blocked} blocked"
    if view.monitor_connected:
        link = f"broker {broker}: connected"
    elif view.monitor_since is None:
        link = f"broker {broker}: connecting…"
    else:
        since = fmt.clock_time(view.monitor_since, view.at, zone)
        link = f"broker {broker}: DISCONNECTED since {since}"
    rejected = f"  ·  {view.rejected} payloads rejected" if view.rejected else ""
    if view.unattributed:
        rejected += f" ({view.unattributed} on no organisation's topic)"
    if view.unknown_senders:
        rejected += f"  ·  {untrusted.plain(view.unknown_senders)}"
    clock = fmt.stamp(view.at, zone)
    new = f"{new_label(view.new_problems)} " if view.new_problems else ""
    if compact:
        return [f"{new}{orgs}  ·  {flows}  ·  {impact}", f"{clock}  ·  {link}{rejected}"]
    return [f"{new}{orgs}", f"{flows}  ·  {impact}{rejected}", f"{clock}  ·  {link}"]
