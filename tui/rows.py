"""What each table shows for a view: plain text cells and a state, no widgets (tests plainly)."""

from __future__ import annotations

from dataclasses import dataclass, field

from chain import vocabulary
from chain.crisislog import LogEntry
from chain.topology import Topology
from chain.views import ChainView, ProcessState
from tui import format as fmt


@dataclass(frozen=True)
class RowData:
    key: str
    cells: dict[str, str]
    state: str
    """Becomes the row's CSS class `-<state>`; colours live in app.tcss."""
    flags: dict[str, bool] = field(default_factory=dict)
    """Cells to mark as failing, e.g. {"email": True}: styled by `row--down` in app.tcss."""


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    width: int | None
    """Characters, or None to take what is left."""
    optional: bool = False
    """Dropped on a narrow terminal (under 110 columns)."""
    right: bool = False
    narrow: int | None = None
    """Width on a narrow terminal, where it differs."""


ORG_COLUMNS = (
    Column("name", "Organisation", 18, narrow=15), Column("state", "State", 12, narrow=11),
    Column("since", "Since", 13, narrow=10), Column("heartbeat", "Heartbeat", 10, narrow=7),
    Column("email", "Email", 9), Column("phone", "Phone", 9),
    Column("backlog", "Backlog", 8, right=True), Column("trend", "Trend", 21, optional=True),
    Column("cause", "Cause", None, optional=True),
)
LINK_COLUMNS = (
    Column("name", "Flow", 24), Column("state", "State", 12), Column("since", "Since", 13),
    Column("rate", "Rate/h", 8, right=True), Column("usual", "Usual/h", 8, optional=True,
                                                   right=True),
    Column("moved", "Last move", 13), Column("needs", "Processes depending on it", 28,
                                             optional=True),
    Column("cause", "Cause", None),
)
PROCESS_COLUMNS = (
    Column("name", "Process", 40), Column("state", "State", 12), Column("since", "Since", 13),
    Column("as_of", "Data as of", 13), Column("cause", "Why", None),
)
LOG_COLUMNS = (
    Column("at", "Time", 13), Column("kind", "Kind", 11), Column("subject", "About", 16),
    Column("text", "What", None), Column("author", "By", 12, optional=True),
)


def org_rows(view: ChainView) -> list[RowData]:
    rows = []
    for org in view.orgs:
        email, phone = org.channel("email"), org.channel("phone")
        growth = next((b.per_hour for b in org.backlogs if b.per_hour is not None), None)
        rows.append(RowData(
            key=org.id,
            cells={
                "name": f"{org.id} · {org.name}" if org.name != org.id else org.id,
                "state": vocabulary.label(org.state),
                "since": fmt.clock_time(org.since, view.at),
                "heartbeat": fmt.age(org.heartbeat_age),
                "email": fmt.channel(email),
                "phone": fmt.channel(phone),
                "backlog": fmt.count(org.backlog_total),
                "trend": fmt.spark(sum_histories([b.history for b in org.backlogs]))
                + (f" {fmt.signed(growth)}/h" if growth is not None else ""),
                "cause": org.cause or _skew_warning(org.clock_skew),
            },
            state=org.state.value,
            flags={"email": email is not None and not email.up,
                   "phone": phone is not None and not phone.up},
        ))
    return rows


CLOCK_SKEW_WARNING = 60.0
"""Seconds an agent's clock may differ from ours before the operator is told."""


def _skew_warning(skew: float | None) -> str:
    if skew is None or abs(skew) <= CLOCK_SKEW_WARNING:
        return ""
    return f"⚠ agent clock off by {round(skew):+d}s"


def sum_histories(histories: list[tuple[int, ...]]) -> tuple[int, ...]:
    if not histories:
        return ()
    length = min(len(h) for h in histories)
    return tuple(sum(h[len(h) - length + i] for h in histories) for i in range(length))


def dependents(topology: Topology) -> dict[str, list[str]]:
    """For every link, the processes that depend on it."""
    needs: dict[str, list[str]] = {}
    for process in topology.processes:
        for link in process.depends_on:
            needs.setdefault(link, []).append(process.id)
    return needs


def link_rows(view: ChainView, needs: dict[str, list[str]]) -> list[RowData]:
    return [
        RowData(
            key=link.id,
            cells={
                "name": f"{link.sender} → {link.receiver}",
                "state": vocabulary.label(link.state),
                "since": fmt.clock_time(link.since, view.at),
                "rate": fmt.rate(link.received_per_hour if link.received_per_hour is not None
                                 else link.sent_per_hour),
                "usual": fmt.rate(link.usual_per_hour),
                "moved": fmt.clock_time(link.last_movement, view.at),
                "needs": ", ".join(needs.get(link.id, [])),
                "cause": link.cause,
            },
            state=link.state.value,
        )
        for link in view.links
    ]


def process_rows(view: ChainView) -> list[RowData]:
    order = {ProcessState.BLOCKED: 0, ProcessState.AT_RISK: 1, ProcessState.OK: 2}
    return [
        RowData(
            key=p.id,
            cells={
                "name": f"{p.org} · {p.name}",
                "state": vocabulary.label(p.state),
                "since": fmt.clock_time(p.since, view.at),
                "as_of": fmt.clock_time(p.data_as_of, view.at),
                "cause": " ← ".join(p.causes),
            },
            state=p.state.value,
        )
        for p in sorted(view.processes, key=lambda p: (order[p.state], p.since or 0))
    ]


def log_rows(entries: list[LogEntry], now: float) -> list[RowData]:
    return [
        RowData(
            key=f"{i}",
            cells={
                "at": fmt.clock_time(e.at, now),
                "kind": e.kind.value,
                "subject": e.subject,
                "text": e.text,
                "author": e.author,
            },
            state=_log_state(e.text),
        )
        for i, e in enumerate(reversed(entries))
    ]


def _log_state(text: str) -> str:
    word = text.split(":", 1)[0].lower().replace(" ", "_")
    return word if vocabulary.of_value(word) is not None else "note"
