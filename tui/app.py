"""The Ketenwacht app: chain health at a glance, flows, impact, the crisis log, drill-downs."""

from __future__ import annotations

import gc
import getpass
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import ClassVar

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.events import Resize
from textual.reactive import reactive
from textual.widgets import Footer, Header, Input, TabbedContent, TabPane, Tabs
from textual.worker import Worker, WorkerState

from chain.engine import ChainEngine
from chain.errors import KetenwachtError
from chain.inbox import EngineSink, MonitorSink
from chain.views import ChainView, OrgState
from chain.wire import Op
from tui import untrusted
from tui.attention import Announcer, notices, standing
from tui.format import zone_of
from tui.ops import op_of
from tui.palette import ScreenCommands
from tui.rows import (
    LINK_TABLE,
    LOG_TABLE,
    ORG_TABLE,
    PROCESS_TABLE,
    by_severity,
    dependents,
    injects,
    link_rows,
    log_rows,
    org_rows,
    process_rows,
    subjects,
)
from tui.screens.actions import ActionForm, ActionScreen
from tui.screens.help import HelpScreen
from tui.screens.org import OrgScreen
from tui.themes import COLOUR_BLIND, THEMES
from tui.widgets.state_table import StateTable
from tui.widgets.summary import ChainSummary

Feed = Callable[[MonitorSink], Awaitable[None]]
"""Delivers messages into a sink until cancelled, e.g. `Monitor.run`."""
Publish = Callable[[Op], Awaitable[None]]
"""Publishes an operator action, e.g. `Monitor.publish_op`."""

REFRESH_INTERVAL = 0.2
"""Coalescing: a burst of messages becomes at most one redraw per interval."""
IDLE_REFRESH = 1.0
"""Ages and staleness change with time alone, so redraw at least this often."""
LOG_ROWS = 300
SHORT = 25
"""Under this many lines the app gets `-short`: app.tcss then hides the title bar and gives
the summary two lines, so at 80x24 every organisation of the chain is on the screen. On the
app, not a screen's breakpoint: a drill-down pushed later gets no resize of its own."""
TABS = {"overview": "1 Overview", "flows": "2 Flows", "impact": "3 Impact", "log": "4 Log"}
SORTED = ("overview", "flows", "impact")
"""The tables `o` sorts by severity, then recency."""


class KetenwachtApp(App[None]):
    CSS_PATH = Path(__file__).parent / "app.tcss"  # absolute, so subclasses find it too
    TITLE = "Ketenwacht"
    COMMANDS: ClassVar = App.COMMANDS | {ScreenCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Help"),
        Binding("1", "tab('overview')", "Overview", show=False),
        Binding("2", "tab('flows')", "Flows", show=False),
        Binding("3", "tab('impact')", "Impact", show=False),
        Binding("4", "tab('log')", "Log", show=False),
        Binding("slash", "filter", "Filter"),
        Binding("escape", "step_back", "Back", show=False),
        # Not bound to `command_palette` itself: Textual then leaves out its own ctrl+p.
        Binding("g", "jump", "Jump"),
        Binding("a", "act('annotation')", "Annotate"),
        Binding("r", "act('report')", "Report"),
        Binding("i", "act('isolation')", "Isolate"),
        Binding("c", "act('ack')", "Ack"),
        Binding("o", "sort", "Sort"),
        Binding("b", "toggle_bell", "Bell", show=False),
        Binding("n", "toggle_notify", "Notices", show=False),
        Binding("t", "toggle_theme", "Theme", show=False),  # dark, light, colour-blind
    ]

    needle: reactive[str] = reactive("")
    """The filter: every table shows only the rows containing it."""

    def __init__(
        self,
        engine: ChainEngine,
        feed: Feed,
        *,
        broker_url: str,
        subtitle: str = "",
        publish: Publish | None = None,
        author: str | None = None,
        clock: Callable[[], float] = time.time,
        bell: bool = True,
        notify: bool = True,
    ) -> None:
        """`bell` and `notify`: ring the terminal's bell and show a notification for each
        new problem (docs/attention.md); `b` and `n` switch them."""
        super().__init__()
        self.engine = engine
        self.sink = EngineSink(engine, on_change=self._mark_dirty)
        self.broker_url = broker_url
        self.sub_title = subtitle or broker_url
        self.author = author or getpass.getuser()
        self._feed = feed
        self._publish = publish
        self._clock = clock
        self._needs = dependents(engine.topology)
        self.zone = zone_of(engine.topology.timezone)
        """Every time on the screen is in the topology's zone, as in the report."""
        self._dirty = True
        self._drawn_at = 0.0
        self.view: ChainView | None = None
        self.redraws = 0
        self.published: list[Op] = []
        self.ring_bell = bell
        self.notify_new = notify
        self.announcer = Announcer()
        self.by_severity = False
        """`o`: the overview, flows and impact most severe first, then the most recent."""

    def compose(self) -> ComposeResult:
        # Kept as attributes: redraws run while a drill-down or a form is the active screen,
        # where a query would not find them.
        self.summary = ChainSummary(self.broker_url, zone=self.zone, id="summary")
        self.tabs = TabbedContent(initial="overview", id="tabs")
        self.tables = {
            "overview": StateTable(ORG_TABLE, id="orgs"),
            "flows": StateTable(LINK_TABLE, id="links"),
            "impact": StateTable(PROCESS_TABLE, id="processes"),
            "log": StateTable(LOG_TABLE, id="crisis-log"),
        }
        self.filter_box = Input(placeholder="filter: part of a name, state or cause",
                                id="filter")
        yield Header()
        yield self.summary
        with self.tabs:
            for tab, table in self.tables.items():
                with TabPane(TABS[tab], id=tab):
                    yield table
        yield self.filter_box
        yield Footer()

    def on_mount(self) -> None:
        self.set_class(self.size.height < SHORT, "-short")
        self.register_theme(COLOUR_BLIND)
        self.filter_box.display = False
        for tabs in self.tabs.query(Tabs):
            tabs.can_focus = False  # the focus stays on a table: digits switch tabs
        self.tables["overview"].focus()
        self.run_worker(self._feed(self.sink), name="monitor", exit_on_error=False)
        self.set_interval(REFRESH_INTERVAL, self._refresh_if_due)
        self.redraw()
        self.call_after_refresh(self._freeze_startup_heap)

    def _freeze_startup_heap(self) -> None:
        # What exists now (Textual, the widgets, the topology) lives as long as the app. Out of
        # the collector's sight, a full collection scans only what came after: with 200
        # organisations on a busy machine, 40 ms instead of 200-400 ms, which was the event
        # loop's worst lag by far (bench/soak.py, docs/reliability.md).
        gc.freeze()

    def on_resize(self, event: Resize) -> None:
        self.set_class(event.size.height < SHORT, "-short")

    def on_unmount(self) -> None:
        gc.unfreeze()  # collectable again: tests and benches run many apps in one process

    def format_title(self, title: str, sub_title: str) -> Content:
        # Every screen's header: a subtitle names an organisation or a recording file.
        return super().format_title(untrusted.plain(title), untrusted.plain(sub_title))

    # ------------------------------------------------------------------ drawing

    def _mark_dirty(self) -> None:
        self._dirty = True

    def _refresh_if_due(self) -> None:
        if self._dirty or self._clock() - self._drawn_at >= IDLE_REFRESH:
            self.redraw()

    def redraw(self) -> None:
        if not self.screen_stack:
            return  # the app is closing and a timer ticked once more: nothing to draw on
        now = self._clock()
        self._dirty = False
        self._drawn_at = now
        view = self.view = self.engine.evaluate(now)
        self.summary.show(view)
        tab = self.tabs.active
        if tab == "overview":
            rows = org_rows(view, self.zone)
        elif tab == "flows":
            rows = link_rows(view, self._needs, self.zone)
        elif tab == "impact":
            rows = process_rows(view, self.zone)
        else:
            entries = self.engine.log.entries[-LOG_ROWS:]
            rows = log_rows(entries, now, subjects(view), self.zone, injects(view))
        self.tables[tab].show(by_severity(view, rows) if self.by_severity and tab in SORTED
                              else rows)
        if isinstance(self.screen, OrgScreen):
            entries = self.engine.log.filtered(subject=self.screen.org_id)
            self.screen.show(view, entries, self._needs, self.zone)
        self.redraws += 1
        self._announce(view)

    # ------------------------------------------------------------------ attention

    def quiet(self) -> bool:
        """Whether new problems go unannounced now: never live (a replay: flat out)."""
        return False

    def _announce(self, view: ChainView) -> None:
        """The bell and a notification for each problem that became new (one an alert
        number); none for those already there when the screen started."""
        fresh = self.announcer.fresh(view, quiet=self.quiet())
        if self.ring_bell:
            for _ in fresh:
                self.bell()
        if self.notify_new:
            for notice in notices(fresh):
                self.notify(untrusted.markup(notice.text), title=notice.title,
                            severity=notice.severity, timeout=10)

    def action_sort(self) -> None:
        self.by_severity = not self.by_severity
        for tab in SORTED:
            self.tables[tab].retitle("state", "State ▼" if self.by_severity else "State")
        self.notify("sorted: problems first, most severe, then the most recent"
                    if self.by_severity else "sorted as the topology lists them", timeout=3)
        self.redraw()

    def action_toggle_bell(self) -> None:
        self.ring_bell = not self.ring_bell
        self.notify(f"bell for new problems: {'on' if self.ring_bell else 'off'}", timeout=3)

    def action_toggle_notify(self) -> None:
        self.notify_new = not self.notify_new
        self.notify(f"notifications of new problems: {'on' if self.notify_new else 'off'}",
                    timeout=3)

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        self.redraw()
        if self.focused is not self.filter_box:
            self._current_table().focus()  # a tab clicked with the mouse: its table

    # ------------------------------------------------------------------ navigation

    def action_tab(self, tab: str) -> None:
        """Show a tab and focus its table, from a drill-down or the help too."""
        while isinstance(self.screen, OrgScreen | HelpScreen):
            self.pop_screen()
        self.tabs.active = tab
        self.tables[tab].focus()

    def action_step_back(self) -> None:
        """Esc on the tabs: clear the filter; in any case the table in view has the focus."""
        if self.needle or self.filter_box.display:
            self.filter_box.value = ""
            self.filter_box.display = False
            self.needle = ""
        self._current_table().focus()

    def action_jump(self) -> None:
        self.action_command_palette()

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def action_toggle_theme(self) -> None:
        index = THEMES.index(self.theme) if self.theme in THEMES else -1
        self.theme = THEMES[(index + 1) % len(THEMES)]
        self.notify(f"theme: {self.theme}", timeout=2)

    def action_filter(self) -> None:
        while isinstance(self.screen, OrgScreen):
            self.pop_screen()  # the filter is the tabs'
        self.filter_box.display = True
        self.filter_box.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input is self.filter_box:
            self.needle = event.value

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input is self.filter_box:
            self._current_table().focus()

    def watch_needle(self, needle: str) -> None:
        for table in self.tables.values():
            table.needle = needle.lower().strip()

    def _current_table(self) -> StateTable:
        return self.tables[self.tabs.active]

    def on_state_table_selected(self, event: StateTable.Selected) -> None:
        org = event.data.org
        if isinstance(self.screen, OrgScreen) and org == self.screen.org_id and self.view:
            # A flow in a drill-down: its other end.
            link = next((k for k in self.view.links if k.id == event.key), None)
            if link is not None:
                org = link.receiver if link.sender == org else link.sender
        if org is not None and org != getattr(self.screen, "org_id", None):
            self.open_org(org)

    def open_org(self, org_id: str) -> None:
        while isinstance(self.screen, OrgScreen | HelpScreen):
            self.pop_screen()
        self.push_screen(OrgScreen(org_id))
        self.call_after_refresh(self.redraw)

    # ------------------------------------------------------------------ operator actions

    def selected_org(self) -> str | None:
        """The drill-down's organisation, or that of the highlighted row of the tab in view."""
        if isinstance(self.screen, OrgScreen):
            return self.screen.org_id
        data = self._current_table().highlighted
        return None if data is None else data.org

    def selected_subject(self) -> str | None:
        """What `c` acknowledges: the drill-down's organisation, or the highlighted row's
        organisation, flow, process or inject."""
        if isinstance(self.screen, OrgScreen):
            return f"org:{self.screen.org_id}"
        data = self._current_table().highlighted
        return None if data is None else data.subject

    def action_act(self, kind: str) -> None:
        org = self.selected_org()
        if kind == "ack":
            self._acknowledge(org)
            return
        if kind == "isolation" and org is None:
            self.notify("This row is about no organisation: choose one with the arrows.",
                        severity="warning")
            return
        isolated = self.view is not None and org is not None and (
            self.view.org(org).state is OrgState.ISOLATED
        )
        if kind == "isolation" and isolated:
            kind = "lift"
        orgs = list(self.engine.topology.org_ids)
        self.push_screen(ActionScreen(kind, org, orgs), self._act)

    def _acknowledge(self, org: str | None) -> None:
        subject = self.selected_subject()
        if subject is None:
            self.notify("This row is about nothing to acknowledge: choose one with the arrows.",
                        severity="warning")
            return
        problem = self.view.problem(subject) if self.view is not None else None
        said = standing(problem, self._clock(), self.zone)
        lines = (said,) if problem is None else (problem.text, said)
        self.push_screen(ActionScreen("ack", org, list(self.engine.topology.org_ids),
                                      subject=subject, standing=lines, clock=self._clock,
                                      zone=self.zone), self._act)

    def _act(self, form: ActionForm | None) -> None:
        if form is not None:
            self._send(op_of(form, author=self.author, at=self._clock()))

    @work(group="publish")
    async def _send(self, op: Op) -> None:
        if self._publish is None:
            self.notify("This screen has no broker connection to publish on.", severity="error")
            return
        try:
            await self._publish(op)
        except KetenwachtError as error:
            self.notify(untrusted.markup(str(error)), severity="error", timeout=10)
            return
        self.published.append(op)
        self.notify(f"published: {type(op).__struct_config__.tag}")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.name == "monitor" and event.state is WorkerState.ERROR:
            self.sink.connection_changed(False, self._clock())
            self.notify(f"monitor stopped: {untrusted.markup(str(event.worker.error))}",
                        severity="error", timeout=30)
