"""Exercise scenarios: a scripted timeline of what happens to the chain, with its sources.

Pure: the text comes from the caller. Errors name the file, the line and the field, as an
exercise leader editing a scenario the night before needs.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated

import msgspec
from msgspec import Meta

from chain.errors import ConfigError
from chain.moments import FIRST_SCENARIO_DAY, LAST_SCENARIO_DAY
from chain.topology import Source, Topology
from chain.validation import describe, toml
from chain.wire import ChannelName, Id

Day = Annotated[float, Meta(ge=0, le=366)]
"""Days after the scenario's start; fractions are times of day (0.5 is noon)."""
Text = Annotated[str, Meta(min_length=1, max_length=300)]


class _Strict(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    pass


class Header(_Strict, frozen=True, kw_only=True):
    name: Id
    title: Text
    start: Annotated[str, Meta(pattern=r"^\d{4}-\d{2}-\d{2}$")]
    """Day 0, as a date."""
    days: Day
    scale: Annotated[float, Meta(gt=0)] = 1440.0
    """Simulated seconds per wall-clock second by default (1440: one day a minute)."""


class _Event(_Strict, frozen=True, kw_only=True, tag_field="kind"):
    day: Day
    source: Text
    note: Text | None = None
    placeholder: bool = False
    """True when the magnitude or timing is invented for the exercise, not from a source."""


class StatusEvent(_Event, frozen=True, kw_only=True, tag="status"):
    org: Id
    online: bool


class ChannelEvent(_Event, frozen=True, kw_only=True, tag="channel"):
    org: Id
    channel: ChannelName
    up: bool
    detail: Text | None = None


class FlowEvent(_Event, frozen=True, kw_only=True, tag="flow"):
    link: Id
    rate: Annotated[float, Meta(ge=0, le=10)]
    """Fraction of the link's normal rate from now on: 0 stops it, 0.25 is a quarter."""


class BacklogEvent(_Event, frozen=True, kw_only=True, tag="backlog"):
    backlog: Id
    per_day: float
    """Change per day from now on: growth when positive, draining when negative."""


class ReportEvent(_Event, frozen=True, kw_only=True, tag="report"):
    """What the crisis room hears by hand (a phone call, a liaison officer), published as an
    operator's report: an organisation that is dark publishes nothing, so this is how the
    room learns of it. With `channel` and `up` the report also sets that channel."""

    org: Id
    text: Text
    author: Annotated[str, Meta(min_length=1, max_length=64)]
    channel: ChannelName | None = None
    up: bool | None = None


Event = StatusEvent | ChannelEvent | FlowEvent | BacklogEvent | ReportEvent


class Inject(_Strict, frozen=True, kw_only=True):
    day: Day
    text: Text
    source: Text


class Scenario(_Strict, frozen=True, kw_only=True):
    scenario: Header
    sources: tuple[Source, ...] = msgspec.field(name="source", default=())
    events: tuple[Event, ...] = msgspec.field(name="event", default=())
    injects: tuple[Inject, ...] = msgspec.field(name="inject", default=())


def parse_scenario(text: str, topology: Topology, *, origin: str) -> Scenario:
    """Decode and check a scenario against the topology; errors give file, line and field."""
    try:
        scenario = toml(text, Scenario)
    except msgspec.ValidationError as error:
        path, problem = describe(error)
        raise ConfigError(f"{origin}:{_line_of(text, path)}: {path}: {problem}") from None
    except msgspec.DecodeError as error:
        raise ConfigError(f"{origin}: not valid TOML: {error}") from None
    for path, problem in _check(scenario, topology):
        raise ConfigError(f"{origin}:{_line_of(text, path)}: {path}: {problem}")
    return scenario


def _check(scenario: Scenario, topology: Topology) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    if (problem := _start_problem(scenario.scenario.start)) is not None:
        problems.append(("scenario.start", problem))
    sources = {s.id for s in scenario.sources}
    orgs, links = set(topology.org_ids), {link.id for link in topology.links}
    backlogs = {b.id for b in topology.backlogs}
    for index, event in enumerate(scenario.events):
        where = f"event[{index}]"
        problems += [(f"{where}.source", f"{s!r} is not a [[source]] id")
                     for s in event.source.split(",") if s.strip() not in sources]
        if event.day > scenario.scenario.days:
            problems.append((f"{where}.day", f"after the scenario's last day "
                                             f"({scenario.scenario.days:g})"))
        match event:
            case StatusEvent(org=org) | ChannelEvent(org=org) | ReportEvent(org=org) if (
                org not in orgs
            ):
                problems.append((f"{where}.org", f"unknown organisation {org!r}"))
            case ReportEvent(channel=channel, up=up) if (channel is None) != (up is None):
                problems.append((f"{where}.channel", "a channel without `up`: say whether "
                                                     "it works (up = true or false)")
                                if up is None else
                                (f"{where}.up", "`up` without a `channel`: name the channel "
                                                "the report is about"))
            case FlowEvent(link=link) if link not in links:
                problems.append((f"{where}.link", f"unknown link {link!r}"))
            case BacklogEvent(backlog=backlog) if backlog not in backlogs:
                problems.append((f"{where}.backlog", f"unknown backlog {backlog!r}"))
            case _:
                pass
    for index, inject in enumerate(scenario.injects):
        problems += [(f"inject[{index}].source", f"{s!r} is not a [[source]] id")
                     for s in inject.source.split(",") if s.strip() not in sources]
    return problems


def _start_problem(start: str) -> str | None:
    """Why `start` (already YYYY-MM-DD) is no day an exercise can start on, or None."""
    try:
        day = date.fromisoformat(start)
    except ValueError as error:  # 2025-02-30
        return f"{start!r} is not a date ({error})"
    if not FIRST_SCENARIO_DAY <= day <= LAST_SCENARIO_DAY:
        return (f"{start!r} is outside the years an exercise can be set in "
                f"({FIRST_SCENARIO_DAY} to {LAST_SCENARIO_DAY})")
    return None


_STEP = re.compile(r"^(?P<table>\w+)(?:\[(?P<index>\d+)\])?(?:\.(?P<key>\w+))?")


def _line_of(text: str, path: str) -> int:
    """The line a key path (`event[3].rate`, `scenario.start`) stands on; its table's header
    if the key is missing; 1 when it cannot be told."""
    step = _STEP.match(path)
    if step is None:
        return 1
    table, key = step["table"], step["key"]
    index = 0 if step["index"] is None else int(step["index"])
    brackets = r"\[" if step["index"] is None else r"\[\["  # [table] or [[table]]
    header = re.compile(rf"^\s*{brackets}\s*{table}\s*\]")
    seen = -1
    start = None
    lines = text.splitlines()
    for number, line in enumerate(lines, 1):
        if header.match(line):
            seen += 1
            if seen == index:
                start = number
                continue
        if start is not None:
            if line.lstrip().startswith("["):
                break
            if key and re.match(rf"^\s*{key}\s*=", line):
                return number
    return start or 1
