"""Attention on the screen (docs/attention.md): which problems a screen rings its bell and
shows a notification for, and how a problem is described to the operator.

Once for each alert number: a problem is announced when it is new and its `alert` is
greater than the greatest this screen has announced. The first view a screen sees counts as
announced (a screen started with its history does not ring for the morning's problems), and
so does every view while it is `quiet` (a replay played flat out or seeking), so a replay
coming back to its own pace does not ring for what it skipped. A BLOCKED process shares its
organisation's number: one outage, one announcement, the organisation's.

Pure: no widgets, so it tests plainly; the app rings and notifies. Texts are plain: whoever
shows them escapes them (`tui/untrusted.py`), as a problem's text and an acknowledgement's
author and note come from agents and operators.
"""

from __future__ import annotations

from datetime import tzinfo
from typing import Final, NamedTuple

from textual.notifications import SeverityLevel

from chain.views import ChainView, Problem
from tui import format as fmt

NOTICES: Final = 3
"""New problems notified one by one at a time; any more in one notification."""
SEVERITY_LEVEL: Final[dict[int, SeverityLevel]] = {
    0: "error", 1: "error", 2: "error", 3: "warning", 4: "warning"}
"""A new problem's notification by its severity: OFFLINE, BLOCKED, STALLED and STUCK as
errors, STALE and INVALID as warnings, an inject as information."""


class Notice(NamedTuple):
    title: str
    text: str
    """Plain: the app escapes it."""
    severity: SeverityLevel


class Announcer:
    def __init__(self) -> None:
        self.announced: int | None = None
        """The greatest alert number announced (or taken as announced); None before the
        first view."""

    def fresh(self, view: ChainView, *, quiet: bool = False) -> list[Problem]:
        """The problems of `view` to announce now, most severe first: one per alert number."""
        top = max((p.alert for p in view.problems), default=0)
        seen, self.announced = self.announced, top
        if seen is None or quiet:
            return []
        chosen: dict[int, Problem] = {}
        for problem in view.problems:
            if not problem.new or problem.alert <= seen:
                continue
            known = chosen.get(problem.alert)
            if known is None or (known.group and not problem.group):
                chosen[problem.alert] = problem  # the organisation rather than its process
        return sorted(chosen.values(), key=lambda p: p.sort_key)


def notices(fresh: list[Problem]) -> list[Notice]:
    """The notifications for problems that became new: one each, the first NOTICES of them,
    then one for the rest."""
    said = [Notice("New problem", headline(p), SEVERITY_LEVEL.get(p.severity, "information"))
            for p in fresh[:NOTICES]]
    if len(fresh) > NOTICES:
        said.append(Notice("New problems", f"and {len(fresh) - NOTICES} more", "error"))
    return said


def headline(problem: Problem) -> str:
    """What a notification says, before escaping: `om OFFLINE: stopped`, or an inject's
    own text."""
    if problem.kind == "inject":
        return f"inject: {problem.text}"
    return f"{problem.id} {problem.text}"


def standing(problem: Problem | None, now: float, zone: tzinfo | None = None) -> str:
    """Where a problem stands, in one line: `NEW since 11:55:00, nobody has acknowledged
    it`, or `acknowledged by Anna at 11:58:00 until 14:30:00: calling them`."""
    if problem is None:
        return "no problem now: marks nothing, unless a trouble on the screen is about to be one"
    if problem.new:
        since = problem.new_at if problem.new_at is not None else problem.since
        said = f"NEW since {fmt.clock_time(since, now, zone)}, nobody has acknowledged it"
    else:
        said = f"acknowledged by {problem.acknowledged_by}"
        if problem.acknowledged_at is not None:
            said += f" at {fmt.clock_time(problem.acknowledged_at, now, zone)}"
        if problem.acknowledged_until is not None:
            said += f" until {fmt.clock_time(problem.acknowledged_until, now, zone)}"
        if problem.acknowledgement:
            said += f": {problem.acknowledgement}"
    if problem.group:
        said += f" (part of {problem.group}'s problem)"
    return said
