"""Attention: which problems the crisis room has yet to look at (docs/attention.md), as
Icinga acknowledges problems and Alertmanager groups and inhibits alerts.

A problem is a subject in trouble (an organisation OFFLINE, STALE or INVALID, a link STALLED
or STUCK, a process BLOCKED) or an exercise inject. It is *new* until someone acknowledges
it. It begins when the crisis log has the state (a link's or a process's once it held for
HOLD; an organisation's at once, its states being confirmed by their own rules), so a state
that comes and goes within the hold rings no bell; it ends once its subject has been out of
trouble for RECOVERY (a link: LINK_RECOVERY, the log's flapping window), and its
acknowledgement ends with it: a return after that is new again, a return before it is the
same problem still.

Pure and clock-free: the engine feeds it each evaluation's view and the log, and the
operators' acknowledgements, and keeps it in its snapshot.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final, TypeVar

import msgspec

from chain.crisislog import FLAPPING_WINDOW, HOLD, CrisisLog, EntryKind, LogEntry
from chain.views import ChainView, LinkView, OrgView, Problem, ProblemKind, ProcessView
from chain.wire import Acknowledgement

SEVERITY: Final[dict[str, int]] = {
    "offline": 0, "blocked": 1, "stalled": 2, "stuck": 2, "stale": 3, "invalid": 4, "inject": 5,
}
"""The order problems are sorted in, most severe first. OFFLINE: an organisation is gone;
BLOCKED: a process cannot run at all; STALLED and STUCK: a flow has stopped, which the
processes downstream feel only later; STALE: an organisation's agent is silent, which may
be the agent alone; INVALID: it speaks, but cannot be understood; an inject is news for the
players, not a fault."""
PROBLEMS: Final[dict[EntryKind, frozenset[str]]] = {
    EntryKind.ORG: frozenset({"offline", "stale", "invalid"}),
    EntryKind.LINK: frozenset({"stalled", "stuck"}),
    EntryKind.PROCESS: frozenset({"blocked"}),
}
"""The states that are a problem. DOWN links and AT RISK processes follow from a problem
already counted (an organisation OFFLINE, a link STALLED); ISOLATED and UNKNOWN are no one's
fault to look into (the operators isolated it; the monitor lost the broker)."""
RECOVERY: Final = HOLD
"""Seconds an organisation must be out of trouble for its problem to end: as long as a
change must hold to enter the crisis log, so one flapping faster than that is one problem,
while an outage after it has been back for longer is news."""
LINK_RECOVERY: Final = FLAPPING_WINDOW
"""Seconds a link must be out of trouble for its problem to end: the crisis log's flapping
window, in which a link that stalls again is one run of back-and-forth (one entry), so one
problem and one bell, however fast the link's stalls are declared."""

Subject = tuple[EntryKind, str, str, str, str]
"""(kind, id, its organisation, state as the view has it, cause)."""
Row = TypeVar("Row", OrgView, LinkView, ProcessView)
_KIND: Final[dict[EntryKind, ProblemKind]] = {
    EntryKind.ORG: "org", EntryKind.LINK: "link", EntryKind.PROCESS: "process"}


class Ack(msgspec.Struct, frozen=True, kw_only=True):
    by: str
    at: float
    until: float | None
    note: str
    state: str
    """The state it acknowledged: a worse one makes the problem new again."""


class ProblemRecord(msgspec.Struct, kw_only=True):
    """A current problem, as kept (and snapshotted)."""

    subject: str
    kind: ProblemKind
    id: str
    state: str
    since: float
    text: str
    alert: int = 0
    new_at: float | None = None
    ack: Ack | None = None
    recovering_since: float | None = None
    group: str = ""


class AttentionSnapshot(msgspec.Struct, frozen=True, kw_only=True):
    problems: list[ProblemRecord]
    pending: list[tuple[str, Ack]]
    alerts: int


class Attention:
    def __init__(self) -> None:
        self._problems: dict[str, ProblemRecord] = {}
        self._pending: dict[str, Ack] = {}
        """Acknowledgements of subjects in trouble on the screen whose problem has not begun
        yet (a link STALLED for a minute): it begins acknowledged."""
        self.alerts = 0
        """How many times a problem became new, ever: each time's `alert` number."""

    def snapshot(self) -> AttentionSnapshot:
        return AttentionSnapshot(
            problems=[msgspec.structs.replace(p) for p in self._problems.values()],
            pending=list(self._pending.items()), alerts=self.alerts)

    @classmethod
    def from_snapshot(cls, snapshot: AttentionSnapshot) -> Attention:
        attention = cls()
        attention._problems = {p.subject: msgspec.structs.replace(p) for p in snapshot.problems}
        attention._pending = dict(snapshot.pending)
        attention.alerts = snapshot.alerts
        return attention

    # ------------------------------------------------------------------ inputs

    def update(self, log: CrisisLog, view: ChainView, now: float
               ) -> tuple[list[LogEntry], tuple[Problem, ...]]:
        """After the log took in the evaluation `view` at `now`: begin, continue and end
        problems. Returns the log entries of acknowledgements that expired, and the problems
        that ended."""
        self._take_injects(log, now, view.monitor_since)
        ended: dict[str, ProblemRecord] = {}
        returned: dict[str, float] = {}
        for kind, subject_id, org, shown, cause in _subjects(view):
            state, held_since = log.held(kind, subject_id)
            subject = f"{kind.value}:{subject_id}"
            record = self._problems.get(subject)
            # A BLOCKED process is part of its organisation's problem, never one of its own:
            # while that is ISOLATED it is the operators' decision, and once that has
            # recovered, its OK is only waiting to hold.
            head = self._problems.get(f"org:{org}") if kind is EntryKind.PROCESS else None
            trouble = state in PROBLEMS[kind] and (kind is not EntryKind.PROCESS or bool(head))
            if trouble and record is None:
                assert held_since is not None  # a state in trouble is never a starting point
                record = ProblemRecord(subject=subject, kind=_KIND[kind], id=subject_id,
                                       state=state, since=held_since,
                                       text=_text(state, cause if shown == state else ""))
                held = held_since + (HOLD if kind is EntryKind.LINK else 0.0)
                self._begin(record, _became_new(held, now, view.monitor_since), head)
            elif trouble and record is not None:
                assert held_since is not None
                if record.recovering_since is not None:
                    returned[subject] = held_since
                self._continue(record, state, _text(state, cause if shown == state else ""),
                               min(held_since, now))
            elif record is not None:
                if record.recovering_since is None:
                    calm = held_since if held_since is not None and state != record.state \
                        else now
                    if kind is EntryKind.PROCESS and head is None:
                        over = ended.get(f"org:{org}")
                        calm = (over.recovering_since or now) if over is not None else now
                    record.recovering_since = min(calm, now)
                recovery = LINK_RECOVERY if kind is EntryKind.LINK else RECOVERY
                if now - record.recovering_since >= recovery or (
                        kind is EntryKind.PROCESS and head is None):
                    ended[subject] = self._problems.pop(subject)
        self._group(view)
        expired = self._expire(now, returned)
        self._forget_pending(view, now)
        return expired, tuple(_problem(record) for record in ended.values())

    def acknowledge(self, ack: Acknowledgement, at: float, view: ChainView,
                    log: CrisisLog) -> tuple[str, str]:
        """Mark the problem `ack` names as acknowledged: (the state it marked, ""), or ("",
        why it marked nothing). `view`: the chain at `at`, unevaluated."""
        until = ack.until.timestamp() if ack.until is not None else None
        if until is not None and until <= at:
            return "", "its time has passed"
        self._take_injects(log, at, view.monitor_since)
        subject = _group_of(view, ack.subject, self._problems)
        record = self._problems.get(subject)
        if record is not None:
            mark = Ack(by=ack.author, at=at, until=until, note=ack.text, state=record.state)
            for member in self._members(subject):
                member.ack = mark
            return record.state, ""
        state = _state_of(view, subject)
        if state is None:
            return "", "no problem"
        self._pending[subject] = Ack(by=ack.author, at=at, until=until, note=ack.text,
                                     state=state)
        return state, ""

    # ------------------------------------------------------------------ outputs

    def shown(self, view: ChainView, recovered: tuple[Problem, ...] = ()) -> ChainView:
        """`view` with every current problem: listed, counted and marked on its row; and
        those that just `recovered`."""
        if recovered:
            view = msgspec.structs.replace(view, recovered=recovered)
        if not self._problems:
            return view
        problems = tuple(sorted((_problem(p) for p in self._problems.values()),
                                key=lambda p: p.sort_key))
        marks = {p.subject: (p.new, p.acknowledged_by) for p in problems}
        return msgspec.structs.replace(
            view,
            orgs=tuple(_marked(marks, f"org:{o.id}", o) for o in view.orgs),
            links=tuple(_marked(marks, f"link:{k.id}", k) for k in view.links),
            processes=tuple(_marked(marks, f"process:{p.id}", p) for p in view.processes),
            problems=problems,
            new_problems=sum(1 for p in problems if p.new and not p.group),
        )

    # ------------------------------------------------------------------ rules

    def _take_injects(self, log: CrisisLog, now: float, connected: float | None) -> None:
        for inject in log.take_injects():
            subject = f"inject:{inject.id}"
            since = inject.at.timestamp()
            if subject not in self._problems:
                self._begin(ProblemRecord(subject=subject, kind="inject", id=inject.id,
                                          state="inject", since=since, text=inject.text),
                            _became_new(since, now, connected))

    def _begin(self, record: ProblemRecord, new_at: float,
               head: ProblemRecord | None = None) -> None:
        """A new problem: new since `new_at`, or acknowledged already; part of `head`'s, if
        given."""
        pending = self._pending.pop(record.subject, None)
        self._problems[record.subject] = record
        if head is not None:  # its organisation's problem, so no alert of its own
            record.group = head.subject
            self._mirror(head)
        elif pending is not None:
            record.ack = pending
        else:
            self._renew(record, new_at)

    def _renew(self, record: ProblemRecord, new_at: float) -> None:
        """The problem is new (again) since `new_at`: unacknowledged, with an alert number of
        its own."""
        self.alerts += 1
        record.alert, record.new_at, record.ack = self.alerts, new_at, None

    def _continue(self, record: ProblemRecord, state: str, text: str, at: float) -> None:
        """Still (or again, at `at`) in trouble: the same problem, unless it got worse than
        what was acknowledged."""
        record.recovering_since = None
        if state != record.state:
            record.state, record.text = state, text
            if record.ack is not None and SEVERITY[state] < SEVERITY[record.ack.state] \
                    and not record.group:
                self._renew(record, at)

    def _group(self, view: ChainView) -> None:
        """A BLOCKED process shares its organisation's problem."""
        for process in view.processes:
            record = self._problems.get(f"process:{process.id}")
            head = self._problems.get(f"org:{process.org}")
            if record is not None and head is not None:
                record.group = head.subject
                record.alert, record.new_at, record.ack = head.alert, head.new_at, head.ack

    def _expire(self, now: float, returned: dict[str, float]) -> list[LogEntry]:
        """Acknowledgements whose `until` has come: new again then, or, for a problem that
        was recovering then, when it came back (`returned`)."""
        entries: list[LogEntry] = []
        for record in self._problems.values():
            ack = record.ack
            if ack is None or ack.until is None or ack.until > now or record.group \
                    or record.recovering_since is not None:
                continue  # while recovering it waits: ended, or back and new then
            entries.append(LogEntry(
                at=ack.until, kind=EntryKind.ACK, subject=record.subject,
                text=f"acknowledgement by {ack.by} expired: "
                     f"{record.state.upper().replace('_', ' ')} is new again"))
            self._renew(record, min(now, max(ack.until, returned.get(record.subject, 0.0))))
            self._mirror(record)
        return entries

    def _mirror(self, head: ProblemRecord) -> None:
        for member in self._members(head.subject):
            member.alert, member.new_at, member.ack = head.alert, head.new_at, head.ack

    def _members(self, subject: str) -> Iterator[ProblemRecord]:
        """The problem of `subject` and those grouped with it."""
        for record in self._problems.values():
            if record.subject == subject or record.group == subject:
                yield record

    def _forget_pending(self, view: ChainView, now: float) -> None:
        for subject, ack in list(self._pending.items()):
            if (ack.until is not None and ack.until <= now) or _state_of(view, subject) is None:
                del self._pending[subject]


def _subjects(view: ChainView) -> Iterator[Subject]:
    for org in view.orgs:
        yield EntryKind.ORG, org.id, org.id, org.state.value, org.cause
    for link in view.links:
        yield EntryKind.LINK, link.id, "", link.state.value, link.cause
    for process in view.processes:
        yield (EntryKind.PROCESS, process.id, process.org, process.state.value,
               "; ".join(process.causes))


def _state_of(view: ChainView, subject: str) -> str | None:
    """The problem state `subject` shows in `view` (not yet held), or None. A process is
    never in trouble on its own: its organisation is."""
    kind, _, subject_id = subject.partition(":")
    for entry_kind, shown_id, _, state, _ in _subjects(view):
        if entry_kind.value == kind and shown_id == subject_id:
            trouble = state in PROBLEMS[entry_kind] and entry_kind is not EntryKind.PROCESS
            return state if trouble else None
    return None


def _group_of(view: ChainView, subject: str, problems: dict[str, ProblemRecord]) -> str:
    """The subject whose problem `subject`'s is part of: a BLOCKED process's organisation,
    while that has a problem or shows one; else itself."""
    if subject.startswith("process:"):
        process_id = subject.removeprefix("process:")
        org = next((p.org for p in view.processes if p.id == process_id), None)
        if org is not None and (f"org:{org}" in problems or _state_of(view, f"org:{org}")):
            return f"org:{org}"
    return subject


def _marked(marks: dict[str, tuple[bool, str]], subject: str, row: Row) -> Row:
    mark = marks.get(subject)
    if mark is None:
        return row
    return msgspec.structs.replace(row, new=mark[0], acknowledged_by=mark[1])


def _became_new(held: float, now: float, connected: float | None) -> float:
    """When a problem that held at `held` became new: then, or, if that was before this
    monitor connected, when it did (it could not know before); never after `now`."""
    return min(now, max(held, connected if connected is not None else held))


def _text(state: str, cause: str) -> str:
    return state.upper().replace("_", " ") + (f": {cause}" if cause else "")


def _problem(record: ProblemRecord) -> Problem:
    ack = record.ack
    return Problem(
        subject=record.subject, kind=record.kind, id=record.id, state=record.state,
        severity=SEVERITY[record.state], since=record.since, text=record.text,
        new=ack is None, alert=record.alert, new_at=record.new_at,
        acknowledged_by=ack.by if ack else "", acknowledged_at=ack.at if ack else None,
        acknowledged_until=ack.until if ack else None,
        acknowledgement=ack.note if ack else "", recovering_since=record.recovering_since,
        group=record.group,
    )
