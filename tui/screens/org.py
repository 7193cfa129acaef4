"""Drill-down: one organisation's channels, flows, backlogs with trends, figures and log."""

from __future__ import annotations

from datetime import tzinfo
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from chain.crisislog import LogEntry
from chain.views import ChainView, OrgView, Problem
from tui import format as fmt
from tui import untrusted
from tui.attention import standing
from tui.rows import (
    BACKLOG_TABLE,
    CLOCK_SKEW_WARNING,
    LINK_TABLE,
    LOG_TABLE,
    backlog_rows,
    link_rows,
    log_rows,
    subjects,
)
from tui.widgets.state_table import StateTable


def describe(org: OrgView, now: float, zone: tzinfo | None = None,
             problem: Problem | None = None) -> str:
    """The figures at the top, as Textual markup: whatever an agent sent or a file named goes
    through `untrusted.markup` (a reason or detail such as `[/]` would otherwise break the screen
    or smuggle in links, an ESC sequence take over the terminal). With its `problem`: whether
    it is new, or who acknowledged it when, until when, and their note."""
    skew = "" if org.clock_skew is None else f"   clock skew {round(org.clock_skew):+d}s"
    warn = "  ⚠ agent clock off" if org.clock_skew is not None and (
        abs(org.clock_skew) > CLOCK_SKEW_WARNING
    ) else ""
    return (
        f"{untrusted.markup(org.id)} · {untrusted.markup(org.name)}\n"
        f"{fmt.STATE_LABEL[org.state]} since {fmt.clock_time(org.since, org.since or now, zone)}"
        + (f" — {untrusted.markup(org.cause)}" if org.cause else "")
        + ("" if problem is None else f"\n{untrusted.markup(standing(problem, now, zone))}")
        + f"\nheartbeat {fmt.age(org.heartbeat_age)} ago (every {org.interval or 0:g}s)"
        f"   session {org.session if org.session is not None else '—'}"
        f"   seq gaps {org.seq_gaps}   duplicates {org.duplicates}"
        f"   buffered {org.buffered}   dropped {org.dropped}{skew}{warn}"
        + invalid_line(org, now, zone)
    )


def invalid_line(org: OrgView, now: float, zone: tzinfo | None = None) -> str:
    """`invalid 3 (last 14:02: v: schema version 2 is newer than 1)`, on a line of its own
    (reasons run long); nothing for an organisation that never sent an invalid reading."""
    if not org.invalid:
        return ""
    return f"\ninvalid {org.invalid} (last {fmt.clock_time(org.invalid_at, now, zone)}: " \
           f"{untrusted.markup(org.last_invalid)})"


def channel_lines(org: OrgView) -> str:
    if not org.channels:
        return "no channel readings"
    return "\n".join(
        f"{c.name:<10} {fmt.channel(c):<10} {fmt.age(c.age):>7} ago  {untrusted.markup(c.detail)}"
        for c in org.channels
    )


class OrgScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "app.pop_screen", "Back")]

    def __init__(self, org_id: str) -> None:
        super().__init__(classes="org-screen")
        self.org_id = org_id

    def on_mount(self) -> None:
        # The arrows and Enter move along the flows (Enter opens the other end); the figures
        # at the top stay in view.
        for table in self.query(StateTable):
            table.can_focus = table.id == "org-links"
        self.query_one("#org-links", StateTable).focus(scroll_visible=False)
        # Filled by the app's redraw; one right away, now that there is something to fill.
        redraw = getattr(self.app, "redraw", None)
        if callable(redraw):
            self.call_after_refresh(redraw)

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll():
            yield Static(id="org-figures")
            yield Static("[b]Channels[/b]", classes="section")
            yield Static(id="org-channels")
            yield Static("[b]Backlogs[/b]", classes="section")
            yield StateTable(BACKLOG_TABLE, id="org-backlogs", classes="compact")
            yield Static("[b]Flows[/b]", classes="section")
            yield StateTable(LINK_TABLE, id="org-links", classes="compact")
            yield Static("[b]Log[/b]", classes="section")
            yield StateTable(LOG_TABLE, id="org-log", classes="compact")
        yield Footer()

    def show(self, view: ChainView, entries: list[LogEntry], needs: dict[str, list[str]],
             zone: tzinfo | None = None) -> None:
        org = next((o for o in view.orgs if o.id == self.org_id), None)
        if org is None or not self.query("#org-figures"):
            return  # unknown, or pushed but not composed yet: the next redraw fills it
        self.sub_title = f"{org.id} · {org.name}"
        self.query_one("#org-figures", Static).update(describe(org, view.at, zone,
                                                                view.problem(f"org:{org.id}")))
        self.query_one("#org-channels", Static).update(channel_lines(org))
        self.query_one("#org-backlogs", StateTable).show(backlog_rows(org))
        mine = [r for r in link_rows(view, needs, zone)
                if self.org_id in (view.link(r.key).sender, view.link(r.key).receiver)]
        self.query_one("#org-links", StateTable).show(mine)
        self.query_one("#org-log", StateTable).show(log_rows(entries[-50:], view.at,
                                                             subjects(view), zone))
