"""The Ketenwacht app: chain health at a glance, flows, impact, the crisis log, drill-downs."""

from __future__ import annotations

import gc
import getpass
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.command import Hit, Hits, Provider
from textual.content import Content
from textual.widgets import Footer, Header, Input, TabbedContent, TabPane
from textual.worker import Worker, WorkerState

from chain.engine import ChainEngine
from chain.errors import KetenwachtError
from chain.inbox import EngineSink, MonitorSink
from chain.views import ChainView, OrgState
from chain.wire import Acknowledgement, Annotation, ChannelName, Isolation, ManualReport, Op
from tui import untrusted
from tui.rows import (
    LINK_COLUMNS,
    LOG_COLUMNS,
    ORG_COLUMNS,
    PROCESS_COLUMNS,
    dependents,
    link_rows,
    log_rows,
    org_rows,
    process_rows,
)
from tui.screens.actions import ActionForm, ActionScreen
from tui.screens.help import HelpScreen
from tui.screens.org import OrgScreen
from tui.themes import COLOUR_BLIND, THEMES
from tui.widgets.state_table import Row, StateTable
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


class JumpToOrganisation(Provider):
    """Command palette: type part of an organisation's id or name to open it."""

    async def search(self, query: str) -> Hits:
        app = self.app
        assert isinstance(app, KetenwachtApp)
        matcher = self.matcher(query)
        for org in app.engine.topology.organisations:
            # `highlight` reads markup: a name from the topology file is escaped for it.
            label = untrusted.markup(f"Open {org.id} · {org.name}")
            if (score := matcher.match(label)) > 0:
                yield Hit(score, matcher.highlight(label), lambda o=org.id: app.open_org(o))


class KetenwachtApp(App[None]):
    CSS_PATH = Path(__file__).parent / "app.tcss"  # absolute, so subclasses find it too
    TITLE = "Ketenwacht"
    # Below 110 columns the screen gets the `-narrow` class and app.tcss drops extras.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]  # noqa: RUF012 (App declares it)
    COMMANDS: ClassVar = App.COMMANDS | {JumpToOrganisation}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Help"),
        Binding("1", "tab('overview')", "Overview", show=False),
        Binding("2", "tab('flows')", "Flows", show=False),
        Binding("3", "tab('impact')", "Impact", show=False),
        Binding("4", "tab('log')", "Log", show=False),
        Binding("slash", "filter", "Filter"),
        Binding("escape", "clear_filter", "Clear filter", show=False),
        Binding("g", "command_palette", "Jump"),
        Binding("a", "act('annotation')", "Annotate"),
        Binding("r", "act('report')", "Report"),
        Binding("i", "act('isolation')", "Isolate"),
        Binding("c", "act('ack')", "Ack"),
        Binding("t", "toggle_theme", "Theme", show=False),  # dark, light, colour-blind
    ]

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
    ) -> None:
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
        self._dirty = True
        self._drawn_at = 0.0
        self.view: ChainView | None = None
        self.redraws = 0
        self.published: list[Op] = []

    def compose(self) -> ComposeResult:
        # Kept as attributes: redraws run while a drill-down or a form is the active screen,
        # where a query would not find them.
        self.summary = ChainSummary(self.broker_url, id="summary")
        self.tabs = TabbedContent(initial="overview", id="tabs")
        self.tables = {
            "overview": StateTable(ORG_COLUMNS, id="orgs"),
            "flows": StateTable(LINK_COLUMNS, id="links"),
            "impact": StateTable(PROCESS_COLUMNS, id="processes"),
            "log": StateTable(LOG_COLUMNS, id="crisis-log"),
        }
        titles = {"overview": "1 Overview", "flows": "2 Flows", "impact": "3 Impact",
                  "log": "4 Log"}
        yield Header()
        yield self.summary
        with self.tabs:
            for tab, table in self.tables.items():
                with TabPane(titles[tab], id=tab):
                    yield table
        yield Input(placeholder="filter: part of a name, state or cause", id="filter")
        yield Footer()

    def on_mount(self) -> None:
        self.register_theme(COLOUR_BLIND)
        self.query_one("#filter", Input).display = False
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
        now = self._clock()
        self._dirty = False
        self._drawn_at = now
        view = self.view = self.engine.evaluate(now)
        self.summary.show(view)
        tab = self.tabs.active
        if tab == "overview":
            self.tables[tab].show(org_rows(view))
        elif tab == "flows":
            self.tables[tab].show(link_rows(view, self._needs))
        elif tab == "impact":
            self.tables[tab].show(process_rows(view))
        elif tab == "log":
            entries = self.engine.log.entries[-LOG_ROWS:]
            self.tables[tab].show(log_rows(entries, now))
        if isinstance(self.screen, OrgScreen):
            entries = self.engine.log.filtered(subject=self.screen.org_id)
            self.screen.show(view, entries, self._needs)
        self.redraws += 1

    def on_tabbed_content_tab_activated(self) -> None:
        self.redraw()

    # ------------------------------------------------------------------ navigation

    def action_tab(self, tab: str) -> None:
        self.tabs.active = tab

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def action_toggle_theme(self) -> None:
        index = THEMES.index(self.theme) if self.theme in THEMES else -1
        self.theme = THEMES[(index + 1) % len(THEMES)]
        self.notify(f"theme: {self.theme}", timeout=2)

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        box.focus()

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.value = ""
        box.display = False
        table = self._current_table()
        table.filter("")
        table.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "filter":
            self._current_table().filter(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "filter":
            self._current_table().focus()

    def _current_table(self) -> StateTable:
        return self.tables[self.tabs.active]

    def on_row_selected(self, event: Row.Selected) -> None:
        table = event.row.parent
        if isinstance(table, StateTable) and table.id == "orgs":
            self.open_org(event.key)
        elif isinstance(table, StateTable) and table.id == "links" and self.view:
            self.open_org(self.view.link(event.key).sender)
        elif isinstance(table, StateTable) and table.id == "processes" and self.view:
            self.open_org(self.view.process(event.key).org)

    def open_org(self, org_id: str) -> None:
        if isinstance(self.screen, OrgScreen):
            self.pop_screen()
        self.push_screen(OrgScreen(org_id))
        self.call_after_refresh(self.redraw)

    # ------------------------------------------------------------------ operator actions

    def selected_org(self) -> str | None:
        if isinstance(self.screen, OrgScreen):
            return self.screen.org_id
        focused = self.focused
        if isinstance(focused, Row) and focused.parent is self.tables["overview"]:
            return focused.key
        return None

    def action_act(self, kind: str) -> None:
        org = self.selected_org()
        if kind in ("isolation", "ack") and org is None:
            self.notify("Select an organisation first (arrows, or Enter to open one).",
                        severity="warning")
            return
        isolated = self.view is not None and org is not None and (
            self.view.org(org).state is OrgState.ISOLATED
        )
        if kind == "isolation" and isolated:
            kind = "lift"
        orgs = list(self.engine.topology.org_ids)
        self.push_screen(ActionScreen(kind, org, orgs), self._act)

    def _act(self, form: ActionForm | None) -> None:
        if form is not None:
            self._send(self.op_of(form))

    def op_of(self, form: ActionForm) -> Op:
        op_id, ts = uuid.uuid4().hex, datetime.fromtimestamp(self._clock(), UTC)
        who = self.author
        match form.kind:
            case "annotation":
                return Annotation(id=op_id, author=who, ts=ts, text=form.text, org=form.org)
            case "report":
                assert form.org is not None
                return ManualReport(
                    id=op_id, author=who, ts=ts, org=form.org, text=form.text,
                    channel=_channel(form.channel), up=form.up, observed_at=ts,
                )
            case "isolation" | "lift":
                assert form.org is not None
                return Isolation(
                    id=op_id, author=who, ts=ts, org=form.org,
                    isolated=form.kind == "isolation", reason=form.text,
                )
            case _:
                return Acknowledgement(
                    id=op_id, author=who, ts=ts, subject=f"org:{form.org}", text=form.text
                )

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


def _channel(name: str | None) -> ChannelName | None:
    match name:
        case "email" | "phone" | "portal" | "messaging":
            return name
        case _:
            return None
