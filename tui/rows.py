"""What each table shows for a view: plain text cells and a state, no widgets (tests plainly)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import tzinfo

from chain import vocabulary
from chain.crisislog import EntryKind, LogEntry
from chain.topology import Topology
from chain.views import CALM, ChainView, LinkView, OrgState, OrgView, Problem, ProcessState
from tui import format as fmt
from tui.layout import Column, Spec, briefly, cut, drop


@dataclass(frozen=True)
class RowData:
    key: str
    cells: dict[str, str]
    state: str
    """Becomes the row's CSS class `-<state>`; colours live in app.tcss."""
    flags: dict[str, bool] = field(default_factory=dict)
    """Cells to mark as failing, e.g. {"email": True}: styled by `row--down` in app.tcss."""
    org: str | None = None
    """The organisation the row is about: what Enter opens and i and r act on."""
    subject: str | None = None
    """What `c` acknowledges: `org:om`, `link:om-justid`, `process:vog`, `inject:<id>`."""
    new: bool = False
    """Its problem is new (nobody has acknowledged it): the row's mark (docs/attention.md)."""


NEW, ACKNOWLEDGED = "NEW", "ack"
"""The mark column's words: a problem nobody has acknowledged, and one somebody has."""
MARK = Column("mark", "New")
"""First in every table of subjects: never dropped, never cut, as wide as its word."""


def mark(new: bool, acknowledged_by: str) -> str:
    return NEW if new else ACKNOWLEDGED if acknowledged_by else ""


# Each table's columns, and what it gives up first when the terminal is narrow (tui/layout.py):
# latency figures before the heartbeat's age before the backlog trend; a name is cut only
# when the reason would otherwise get under FLEX_MIN cells. The reason column is never dropped.
ORG_TABLE = Spec(
    columns=(
        MARK, Column("name", "Organisation", minimum=16), Column("state", "State"),
        Column("since", "Since"), Column("heartbeat", "Heartbeat"),
        Column("email", "Email"), Column("phone", "Phone"),
        Column("backlog", "Backlog", right=True), Column("trend", "Trend"),
        Column("cause", "Cause", flex=True),
    ),
    steps=(
        briefly("email", "phone"), drop("heartbeat"), drop("trend"), cut("name"),
        # DEGRADED's reason names the channels down; OFFLINE and STALE have no current ones.
        drop("email", "phone"),
    ),
)
LINK_TABLE = Spec(
    columns=(
        MARK, Column("name", "Flow", minimum=12), Column("state", "State"),
        Column("since", "Since"),
        Column("rate", "Rate/h", right=True), Column("usual", "Usual/h", right=True),
        Column("moved", "Last move"), Column("needs", "Processes depending on it", minimum=16),
        Column("cause", "Cause", flex=True),
    ),
    steps=(
        cut("needs"), drop("usual"), drop("needs"),
        drop("moved"), cut("name"), drop("since"),
    ),
)
PROCESS_TABLE = Spec(
    columns=(
        MARK, Column("name", "Process", minimum=20), Column("state", "State"),
        Column("since", "Since"), Column("as_of", "Data as of"), Column("cause", "Why", flex=True),
    ),
    steps=(cut("name"), drop("since")),
)
LOG_TABLE = Spec(
    columns=(
        Column("mark", ""),  # an inject's: no title, so no width in a log without any
        Column("at", "Time"), Column("kind", "Kind"), Column("subject", "About", minimum=8),
        Column("text", "What", flex=True), Column("author", "By", minimum=6),
    ),
    steps=(cut("author"), drop("kind"), cut("subject"),
           drop("author")),
)
BACKLOG_TABLE = Spec(
    columns=(
        Column("name", "Backlog", minimum=10), Column("items", "Items", right=True),
        Column("hour", "Per hour", right=True), Column("day", "Per day", right=True),
        Column("clears", "Clears in", right=True), Column("trend", "Trend"),
    ),
    steps=(drop("day"), drop("trend"), cut("name")),
)


def org_rows(view: ChainView, zone: tzinfo | None = None) -> list[RowData]:
    rows = []
    for org in view.orgs:
        email, phone = org.channel("email"), org.channel("phone")
        growth = next((b.per_hour for b in org.backlogs if b.per_hour is not None), None)
        rows.append(RowData(
            key=org.id,
            cells={
                "mark": mark(org.new, org.acknowledged_by),
                "name": f"{org.id} · {org.name}" if org.name != org.id else org.id,
                "state": vocabulary.label(org.state),
                "since": fmt.clock_time(org.since, view.at, zone),
                "heartbeat": fmt.age(org.heartbeat_age),
                "email": fmt.channel(email),
                "phone": fmt.channel(phone),
                "backlog": fmt.count(org.backlog_total),
                "trend": fmt.spark(sum_histories([b.history for b in org.backlogs]))
                + (f" {fmt.signed(growth)}/h" if growth is not None else ""),
                "cause": org_cause(org),
            },
            state=org.state.value,
            flags={"email": email is not None and not email.up,
                   "phone": phone is not None and not phone.up},
            org=org.id,
            subject=f"org:{org.id}",
            new=org.new,
        ))
    return rows


def org_cause(org: OrgView) -> str:
    """Why it is in its state, the telling part first (a narrow column shows only that).

    An INVALID organisation's cause names the last refusal at its end (`nothing valid
    received; 3 invalid readings (last: …)`): here the refusal leads, then the count."""
    if org.state is OrgState.INVALID and org.last_invalid:
        noun = "reading" if org.invalid == 1 else "readings"
        parts = [org.last_invalid, f"{org.invalid} invalid {noun}"]
        if org.heartbeat_age is None:
            parts.append("nothing valid received")
        down = [c.name for c in org.channels if not c.up]
        if down:
            parts.append(" and ".join(down) + " down")
        return "; ".join(parts)
    return org.cause or _skew_warning(org.clock_skew)


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


def link_org(view: ChainView, link: LinkView, states: dict[str, OrgState] | None = None) -> str:
    """The end of a flow an operator would look at: the one not ONLINE, else the sender."""
    state = states.get if states is not None else (lambda o: view.org(o).state)
    for end in (link.sender, link.receiver):
        if state(end) not in (OrgState.ONLINE, None):
            return end
    return link.sender


def link_rows(view: ChainView, needs: dict[str, list[str]],
              zone: tzinfo | None = None) -> list[RowData]:
    states = {o.id: o.state for o in view.orgs}
    return [
        RowData(
            key=link.id,
            cells={
                "mark": mark(link.new, link.acknowledged_by),
                "name": f"{link.sender} → {link.receiver}",
                "state": vocabulary.label(link.state),
                "since": fmt.clock_time(link.since, view.at, zone),
                "rate": fmt.rate(link.received_per_hour if link.received_per_hour is not None
                                 else link.sent_per_hour),
                "usual": fmt.rate(link.usual_per_hour),
                "moved": fmt.clock_time(link.last_movement, view.at, zone),
                "needs": ", ".join(needs.get(link.id, [])),
                "cause": link.cause,
            },
            state=link.state.value,
            org=link_org(view, link, states),
            subject=f"link:{link.id}",
            new=link.new,
        )
        for link in view.links
    ]


def process_rows(view: ChainView, zone: tzinfo | None = None) -> list[RowData]:
    order = {ProcessState.BLOCKED: 0, ProcessState.AT_RISK: 1, ProcessState.OK: 2}
    return [
        RowData(
            key=p.id,
            cells={
                "mark": mark(p.new, p.acknowledged_by),
                "name": f"{p.org} · {p.name}",
                "state": vocabulary.label(p.state),
                "since": fmt.clock_time(p.since, view.at, zone),
                "as_of": fmt.clock_time(p.data_as_of, view.at, zone),
                "cause": " ← ".join(p.causes),
            },
            state=p.state.value,
            org=p.org,
            subject=f"process:{p.id}",
            new=p.new,
        )
        for p in sorted(view.processes, key=lambda p: (order[p.state], p.since or 0))
    ]


def subjects(view: ChainView) -> dict[str, str]:
    """The organisation each log subject is about: an organisation, a flow, a process."""
    states = {o.id: o.state for o in view.orgs}
    about = {link.id: link_org(view, link, states) for link in view.links}
    about.update({p.id: p.org for p in view.processes})
    about.update({o: o for o in states})
    return about


def by_severity(view: ChainView, rows: list[RowData]) -> list[RowData]:
    """Problems first, most severe, then the most recent (`ChainView.sort_key`); the rest
    after them in the order they came (a stable sort, on severity and recency alone)."""
    keys = {p.subject: p.sort_key[:2] for p in view.problems}  # not a search per row
    return sorted(rows, key=lambda r: keys.get(r.subject or "", (CALM, 0.0)))


def injects(view: ChainView) -> dict[tuple[float, str], Problem]:
    """The exercise's injects by their log line's time and text (the line names no id)."""
    return {(p.since, p.text): p for p in view.problems if p.kind == "inject"}


def log_rows(entries: list[LogEntry], now: float,
             about: dict[str, str] | None = None, zone: tzinfo | None = None,
             injected: Mapping[tuple[float, str], Problem] | None = None) -> list[RowData]:
    """Newest first; `about` (from `subjects`) names the organisation of each entry,
    `injected` (from `injects`) the problem of each inject line."""
    about, injected = about or {}, injected or {}
    rows = []
    for i, e in enumerate(reversed(entries)):
        inject = injected.get((e.at, e.text)) if e.kind is EntryKind.INJECT else None
        subject = log_subject(e, about)
        rows.append(RowData(
            key=f"{i}",
            cells={
                "mark": "" if inject is None else mark(inject.new, inject.acknowledged_by),
                "at": fmt.clock_time(e.at, now, zone),
                "kind": e.kind.value,
                "subject": e.subject,
                "text": e.text,
                "author": e.author,
            },
            state=_log_state(e.text),
            org=about.get(subject.partition(":")[2]) if subject else None,
            subject=inject.subject if inject is not None else subject,
            new=inject is not None and inject.new,
        ))
    return rows


_SUBJECT_KIND = {EntryKind.ORG: "org", EntryKind.LINK: "link", EntryKind.PROCESS: "process"}


def log_subject(entry: LogEntry, about: Mapping[str, str]) -> str | None:
    """What `c` on a log line acknowledges: its link or process for a state change of one,
    the subject an acknowledgement named, else the organisation it is about (if any)."""
    if (kind := _SUBJECT_KIND.get(entry.kind)) is not None:
        return f"{kind}:{entry.subject}"
    if entry.kind is EntryKind.ACK:
        return entry.subject
    org = about.get(entry.subject)
    return None if org is None else f"org:{org}"


def backlog_rows(org: OrgView) -> list[RowData]:
    """An organisation's backlogs for its drill-down: size, growth, when clear, a trend."""
    def per(value: float | None) -> str:
        return fmt.NONE if value is None else fmt.signed(value)

    return [
        RowData(
            key=b.process,
            cells={
                "name": b.process,
                "items": fmt.count(b.items),
                "hour": per(b.per_hour),
                "day": per(b.per_day),
                "clears": fmt.duration(b.clears_in),
                "trend": fmt.spark(b.history, width=BACKLOG_SPARK),
            },
            state="note",
        )
        for b in org.backlogs
    ]


BACKLOG_SPARK = 24
"""Values in a backlog's trend in the drill-down (one a minute in the seed)."""


def _log_state(text: str) -> str:
    word = text.split(":", 1)[0].lower().replace(" ", "_")
    return word if vocabulary.of_value(word) is not None else "note"
