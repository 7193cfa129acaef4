"""Every problem of a recording, as the fold's evaluations saw it (docs/attention.md): when it
was new, when and by whom it was acknowledged, how long nobody had.

A problem is known by its subject and its `since`, which it keeps while it lasts. The fold
evaluates just after every operator action, so every acknowledgement is seen.
"""

from __future__ import annotations

from typing import Final

import msgspec

from chain.views import ChainView, Problem, ProblemKind

MAX_PROBLEMS: Final = 100_000
"""Problems kept for the report; an organisation flapping for weeks is cut off here."""


class Acknowledged(msgspec.Struct, frozen=True, kw_only=True):
    at: float
    by: str
    until: float | None
    note: str


class ProblemHistory(msgspec.Struct, frozen=True, kw_only=True):
    subject: str
    kind: ProblemKind
    id: str
    states: tuple[str, ...]
    """The states it was in, in order (`stale`, then `offline`)."""
    since: float
    text: str
    """What it was when it began: `OFFLINE: lost`, an inject's text."""
    ended: float | None
    """When it recovered (its subject out of trouble since, for good); None: it lasted to
    the end of the recording."""
    group: str
    """The subject whose problem it was part of (a BLOCKED process: its organisation)."""
    new_at: tuple[float, ...]
    """Each time it became new: when it began, when an acknowledgement expired, when it got
    worse than what was acknowledged. Empty if acknowledged before it began."""
    acknowledgements: tuple[Acknowledged, ...]
    unacknowledged: float
    """Seconds it was new, all told."""

    @property
    def time_to_acknowledge(self) -> float | None:
        """From when it first became new to its first acknowledgement (None: never either)."""
        if not self.new_at or not self.acknowledgements:
            return None
        return max(0.0, self.acknowledgements[0].at - self.new_at[0])


class _Open:
    __slots__ = ("acks", "first", "new_at", "new_since", "recovering", "states", "unacked")

    def __init__(self, first: Problem) -> None:
        self.first = first
        self.states: list[str] = []
        self.new_at: list[float] = []
        self.acks: list[Acknowledged] = []
        self.new_since: float | None = None
        self.unacked = 0.0
        self.recovering: float | None = None

    def seen(self, problem: Problem) -> None:
        if not self.states or self.states[-1] != problem.state:
            self.states.append(problem.state)
        if problem.new and problem.new_at is not None and (
                not self.new_at or self.new_at[-1] != problem.new_at):
            self.new_at.append(problem.new_at)
            self.new_since = problem.new_at
        if not problem.new and problem.acknowledged_at is not None and (
                not self.acks or (self.acks[-1].at, self.acks[-1].by) != (
                    problem.acknowledged_at, problem.acknowledged_by)):
            self.acks.append(Acknowledged(at=problem.acknowledged_at, by=problem.acknowledged_by,
                                          until=problem.acknowledged_until,
                                          note=problem.acknowledgement))
            self._settle(problem.acknowledged_at)
        self.recovering = problem.recovering_since

    def _settle(self, at: float) -> None:
        if self.new_since is not None:
            self.unacked += max(0.0, at - self.new_since)
            self.new_since = None

    def close(self, ended: float | None, end: float) -> ProblemHistory:
        self._settle(end if ended is None else ended)
        first = self.first
        return ProblemHistory(
            subject=first.subject, kind=first.kind, id=first.id, states=tuple(self.states),
            since=first.since, text=first.text, ended=ended, group=first.group,
            new_at=tuple(self.new_at), acknowledgements=tuple(self.acks),
            unacknowledged=self.unacked)


class AttentionTracker:
    """Fed every evaluation of a fold; `histories` at the end."""

    def __init__(self, *, limit: int = MAX_PROBLEMS) -> None:
        self._open: dict[tuple[str, float], _Open] = {}
        self._closed: list[ProblemHistory] = []
        self._limit = limit
        self._dropped: set[tuple[str, float]] = set()
        """Problems that began after the first `limit` (left out)."""

    def evaluated(self, view: ChainView) -> None:
        seen: set[tuple[str, float]] = set()
        for problem in view.problems:
            key = (problem.subject, problem.since)
            tracked = self._open.get(key)
            if tracked is None:
                if len(self._open) + len(self._closed) >= self._limit:
                    self._dropped.add(key)
                    continue
                tracked = self._open[key] = _Open(problem)
            seen.add(key)
            tracked.seen(problem)
        recovered = {(p.subject, p.since): p.recovering_since for p in view.recovered}
        for key in [key for key in self._open if key not in seen]:
            tracked = self._open.pop(key)
            ended = recovered.get(key) or tracked.recovering or view.at
            self._closed.append(tracked.close(ended, view.at))

    @property
    def dropped(self) -> int:
        return len(self._dropped)

    def histories(self, end: float) -> tuple[ProblemHistory, ...]:
        """Every problem, in the order they began; those still open lasted to `end`."""
        still = [tracked.close(None, end) for tracked in self._open.values()]
        return tuple(sorted([*self._closed, *still], key=lambda p: (p.since, p.subject)))
