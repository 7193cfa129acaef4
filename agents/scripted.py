"""The simulated chain following an exercise scenario: at any moment of the exercise, who is
dark, which channel is down, how fast each flow runs and where each backlog stands.

Pure and deterministic: every figure is a function of the moment, so an exercise can be
paused, sped up or skipped ahead and still agree with itself.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Generic, TypeVar
from zoneinfo import ZoneInfo

from agents.simulator import TRANSIT_SECONDS
from agents.traffic import counted, expected
from chain.scenario import (
    BacklogEvent,
    ChannelEvent,
    FlowEvent,
    Inject,
    ReportEvent,
    Scenario,
    StatusEvent,
)
from chain.topology import Backlog, Link, Topology
from chain.wire import BacklogGauge, ChannelReading, FlowCounter, Message

T = TypeVar("T")
ZONE = ZoneInfo("Europe/Amsterdam")
"""Day 0 of a scenario starts at midnight in the Netherlands."""


class _Steps(Generic[T]):
    """A value that changes at given moments: (moment, value) pairs, looked up by time."""

    def __init__(self) -> None:
        self.moments: list[float] = []
        self.values: list[T] = []

    def add(self, at: float, value: T) -> None:
        index = bisect.bisect_right(self.moments, at)
        self.moments.insert(index, at)
        self.values.insert(index, value)

    def at(self, moment: float, default: T) -> T:
        index = bisect.bisect_right(self.moments, moment)
        return self.values[index - 1] if index else default

    def changes_before(self, moment: float) -> int:
        return bisect.bisect_right(self.moments, moment)


class ScriptedChain:
    def __init__(self, topology: Topology, scenario: Scenario) -> None:
        self.topology = topology
        self.scenario = scenario
        header = scenario.scenario
        self.start = datetime.fromisoformat(header.start).replace(tzinfo=ZONE).timestamp()
        self.end = self.start + header.days * 86_400
        self._online: dict[str, _Steps[bool]] = {}
        self._channels: dict[tuple[str, str], _Steps[tuple[bool, str | None]]] = {}
        self._rates: dict[str, _Steps[float]] = {}
        self._growth: dict[str, _Steps[float]] = {}
        reports: list[ReportEvent] = []
        for event in scenario.events:
            at = self.moment(event.day)
            match event:
                case StatusEvent(org=org, online=online):
                    self._online.setdefault(org, _Steps()).add(at, online)
                case ChannelEvent(org=org, channel=channel, up=up, detail=detail):
                    self._channels.setdefault((org, channel), _Steps()).add(at, (up, detail))
                case FlowEvent(link=link, rate=rate):
                    self._rates.setdefault(link, _Steps()).add(at, rate)
                case BacklogEvent(backlog=backlog, per_day=per_day):
                    self._growth.setdefault(backlog, _Steps()).add(at, per_day)
                case ReportEvent():
                    reports.append(event)
        self._injects = sorted(scenario.injects, key=lambda i: i.day)
        self._reports = sorted(reports, key=lambda r: r.day)
        self._born = {link: born for link, steps in self._rates.items()
                      if (born := self._birth(steps)) is not None}

    def moment(self, day: float) -> float:
        return self.start + day * 86_400

    def day(self, at: float) -> float:
        return (at - self.start) / 86_400

    # ----------------------------------------------------------------- organisations

    def online(self, org: str, at: float) -> bool:
        steps = self._online.get(org)
        return True if steps is None else steps.at(at, True)

    def session(self, org: str, at: float) -> int:
        """A new agent run each time the organisation comes back."""
        steps = self._online.get(org)
        if steps is None:
            return 1
        index = steps.changes_before(at)
        return 1 + sum(1 for value in steps.values[:index] if value)

    def readings(self, org: str, at: float) -> list[Message]:
        """The organisation's readings at `at` (unstamped: the publisher numbers them)."""
        ts = datetime.fromtimestamp(at, UTC)
        readings: list[Message] = []
        for channel in self.topology.by_org[org].channels:
            up, detail = self._channel(org, channel, at)
            readings.append(ChannelReading(org=org, session=0, seq=0, ts=ts, channel=channel,
                                           up=up, latency_ms=25.0 if up else None,
                                           detail=detail))
        for link in self.topology.links_of(org):
            if link.sender == org and self.exists(link, at):
                readings.append(FlowCounter(org=org, session=0, seq=0, ts=ts, link=link.id,
                                            direction="sent", count=self.flow_count(link, at)))
            if link.receiver == org and self.exists(link, at - TRANSIT_SECONDS):
                count = self.flow_count(link, at - TRANSIT_SECONDS)
                readings.append(FlowCounter(org=org, session=0, seq=0, ts=ts, link=link.id,
                                            direction="received", count=count))
        for backlog in self.topology.backlogs_of(org):
            readings.append(BacklogGauge(org=org, session=0, seq=0, ts=ts, process=backlog.id,
                                         items=self.backlog(backlog, at)))
        return readings

    def _channel(self, org: str, channel: str, at: float) -> tuple[bool, str]:
        steps = self._channels.get((org, channel))
        up, detail = (True, None) if steps is None else steps.at(at, (True, None))
        return up, detail or ("" if up else "down (exercise)")

    # ----------------------------------------------------------------- flows and backlogs

    def _birth(self, steps: _Steps[float]) -> float | None:
        """When a link the scenario stops from day 0 first carries anything: a link that does
        not exist before the outage (the emergency police feed) says nothing until then, as
        no agent counts a flow that is not there. None for a link that exists from the start."""
        if not steps.moments or steps.moments[0] > self.start or steps.values[0] > 0:
            return None
        return next((m for m, v in zip(steps.moments, steps.values, strict=True) if v > 0),
                    float("inf"))

    def exists(self, link: Link, at: float) -> bool:
        """Whether the link is there to be counted at `at` (see `_birth`)."""
        born = self._born.get(link.id)
        return born is None or at >= born

    def flow_count(self, link: Link, at: float) -> int:
        """Messages counted on the link from day 0 to `at`: its profile's expectation, each
        stretch times the scenario's rate for it, with the simulator's irregularity."""
        carried = sum(rate * (expected(self.topology, link, stop)
                              - expected(self.topology, link, start))
                      for start, stop, rate in self._stretches(self._rates.get(link.id), at, 1.0))
        return counted(link.id, carried)

    def backlog(self, backlog: Backlog, at: float) -> int:
        items = float(backlog.typical)
        for start, stop, per_day in self._stretches(self._growth.get(backlog.id), at, 0.0):
            items = max(0.0, items + per_day * (stop - start) / 86_400)
        return round(items)

    def _stretches(self, steps: _Steps[float] | None, at: float,
                   default: float) -> Iterator[tuple[float, float, float]]:
        """(from, to, value) for each stretch between day 0 and `at`."""
        moments = [] if steps is None else steps.moments
        values = [] if steps is None else steps.values
        current, value = self.start, default
        for moment, new in zip(moments, values, strict=True):
            if moment >= at:
                break
            if moment > current:
                yield current, moment, value
                current = moment
            value = new
        if at > current:
            yield current, at, value

    # ----------------------------------------------------------------- injects

    def injects_between(self, after: float, until: float) -> list[tuple[int, Inject]]:
        """(number in the scenario, inject) of those due after `after`, up to `until`."""
        return [(n, i) for n, i in enumerate(self._injects)
                if after < self.moment(i.day) <= until]

    def reports_between(self, after: float, until: float) -> list[tuple[int, ReportEvent]]:
        """(number among the scenario's reports, report) of those due after `after`, up to
        `until`."""
        return [(n, r) for n, r in enumerate(self._reports)
                if after < self.moment(r.day) <= until]
