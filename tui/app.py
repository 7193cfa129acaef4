"""The Ketenwacht app: a live overview of every organisation in the chain."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Footer, Header
from textual.worker import Worker, WorkerState

from broker.monitor import EngineSink, MonitorSink
from chain.engine import ChainEngine
from chain.views import ChainView
from tui.widgets.org_table import OrgTable
from tui.widgets.summary import ChainSummary

Feed = Callable[[MonitorSink], Awaitable[None]]
"""Delivers messages into a sink until cancelled, e.g. `Monitor.run`."""

REFRESH_INTERVAL = 0.25
"""Coalescing: a burst of messages becomes at most one redraw per interval."""
IDLE_REFRESH = 1.0
"""Ages and staleness change with time alone, so redraw at least this often."""


class KetenwachtApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "Ketenwacht"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("q", "quit", "Quit")]

    def __init__(
        self,
        engine: ChainEngine,
        feed: Feed,
        *,
        broker_url: str,
        subtitle: str = "",
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__()
        self.engine = engine
        self.sink = EngineSink(engine, on_change=self._mark_dirty)
        self.broker_url = broker_url
        self.sub_title = subtitle or broker_url
        self._feed = feed
        self._clock = clock
        self._dirty = True
        self._drawn_at = 0.0
        self.view: ChainView | None = None
        self.redraws = 0

    def compose(self) -> ComposeResult:
        yield Header(show_clock=True)
        yield ChainSummary(self.broker_url, id="summary")
        yield OrgTable(id="orgs")
        yield Footer()

    def on_mount(self) -> None:
        self.run_worker(self._feed(self.sink), name="monitor", exit_on_error=False)
        self.set_interval(REFRESH_INTERVAL, self._refresh_if_due)
        self.redraw()

    def _mark_dirty(self) -> None:
        self._dirty = True

    def _refresh_if_due(self) -> None:
        if self._dirty or self._clock() - self._drawn_at >= IDLE_REFRESH:
            self.redraw()

    def redraw(self) -> None:
        now = self._clock()
        self._dirty = False
        self._drawn_at = now
        self.view = self.engine.view(now)
        self.query_one(ChainSummary).show(self.view)
        self.query_one(OrgTable).show(self.view)
        self.redraws += 1

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.name == "monitor" and event.state is WorkerState.ERROR:
            self.sink.connection_changed(False, self._clock())
            self.notify(f"monitor stopped: {event.worker.error}", severity="error", timeout=30)
