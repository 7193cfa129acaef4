"""Every organisation's, link's and process's state through a recording, as the fold's
evaluations saw it: the screen a replay shows at any moment is the latest change before it.

A change is noted when a subject's state differs from the one it had at the previous
evaluation; its cause and `since` are those of that evaluation.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from chain.views import ChainView

Kind = Literal["org", "link", "process"]


class StateChange(msgspec.Struct, frozen=True, kw_only=True):
    at: float
    """The evaluation that first saw the state (recorded time)."""
    state: str
    since: float | None
    """When the engine dates the state's beginning, if it does."""
    cause: str


class SubjectStates(msgspec.Struct, frozen=True, kw_only=True):
    kind: Kind
    id: str
    changes: tuple[StateChange, ...]
    """The first is the state at the starting point; each later one a change."""

    def at(self, moment: float) -> StateChange | None:
        """The state a screen looking at `moment` showed (None: before the first)."""
        shown = None
        for change in self.changes:
            if change.at > moment:
                break
            shown = change
        return shown


class StateTracker:
    """Fed every evaluation of a fold (from its starting point on); `timelines` at the end."""

    def __init__(self) -> None:
        self._last: dict[tuple[Kind, str], str] = {}
        self._changes: dict[tuple[Kind, str], list[StateChange]] = {}

    def evaluated(self, view: ChainView) -> None:
        for kind, subject, state, since, cause in _subjects(view):
            key = (kind, subject)
            if self._last.get(key) != state:
                self._last[key] = state
                self._changes.setdefault(key, []).append(
                    StateChange(at=view.at, state=state, since=since, cause=cause))

    def timelines(self) -> tuple[SubjectStates, ...]:
        order: dict[Kind, int] = {"org": 0, "link": 1, "process": 2}
        return tuple(SubjectStates(kind=kind, id=subject, changes=tuple(changes))
                     for (kind, subject), changes in sorted(
                         self._changes.items(), key=lambda item: (order[item[0][0]], item[0][1])))


def _subjects(view: ChainView) -> list[tuple[Kind, str, str, float | None, str]]:
    return [
        *(("org", o.id, o.state.value, o.since, o.cause) for o in view.orgs),
        *(("link", k.id, k.state.value, k.since, k.cause) for k in view.links),
        *(("process", p.id, p.state.value, p.since, "; ".join(p.causes))
          for p in view.processes),
    ]
