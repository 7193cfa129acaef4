"""The demo's own incidents: when which simulated organisation has which fault.

Pure: the schedule is a function of the seed, the topology, the pace and the moment, so a
`--seed` replays the same demo. What an incident does to an agent is `agents.faults`: real
faults through the real broker, never a state put on the screen.

The incidents come in rounds. A round has one incident of every kind, a few tens of seconds
apart, so that they overlap a little, on organisations that keep out of each other's way
(an end of the stalled link that went OFFLINE would show the link DOWN, not STALLED); the
first round puts the stall first, as it takes longest to be declared. Then the chain is
calm for a while, and the next round starts. With the default timing the first round has
begun every kind within four minutes, and shown every state within five.
"""

from __future__ import annotations

import bisect
import enum
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Final

from chain.flows import STALL_MINIMUM, stall_level
from chain.topology import Link, Topology

DEFAULT_SEED: Final = 17
STALL_SHOWN_WITHIN: Final = 90.0
"""A link is stalled only if its quietest hour has it declared within this many seconds."""


class Kind(enum.StrEnum):
    STALL = "stall"
    """A flow stops at both ends, its agents alive: the link STALLED, processes AT RISK."""
    LOST = "lost"
    """The agent's connection drops and stays down: its Last Will, OFFLINE, processes
    BLOCKED and links DOWN; then it connects again."""
    HANG = "hang"
    """The agent hangs, its connection up: no heartbeats, STALE."""
    CHANNEL = "channel"
    """A channel of the organisation stops answering: DEGRADED."""
    INVALID = "invalid"
    """The agent sends readings the screen must refuse: INVALID (for 5 minutes after)."""


@dataclass(frozen=True)
class Incident:
    kind: Kind
    org: str
    start: float
    """Seconds from the schedule's origin."""
    end: float
    target: str = ""
    """The stalled link, or the channel that is down."""

    def describe(self) -> str:
        what = {
            Kind.STALL: f"flow {self.target} stops",
            Kind.LOST: f"{self.org}'s agent loses its connection",
            Kind.HANG: f"{self.org}'s agent hangs",
            Kind.CHANNEL: f"{self.org}'s {self.target} stops answering",
            Kind.INVALID: f"{self.org}'s agent sends readings that cannot be accepted",
        }[self.kind]
        return f"{what} for {self.end - self.start:.0f}s"


Span = tuple[float, float]


@dataclass(frozen=True)
class Timing:
    """Seconds; every span is (shortest, longest), drawn from by the seed."""

    first: float = 20.0
    """Calm before the first incident: the screen has seen every flow move first."""
    apart: Span = (35.0, 50.0)
    """Between the starts of two incidents of a round."""
    calm: Span = (90.0, 180.0)
    """Between the end of a round and the next."""
    lasting: dict[Kind, Span] = field(default_factory=lambda: {
        Kind.STALL: (STALL_MINIMUM + 60.0, STALL_MINIMUM + 90.0),
        Kind.LOST: (70.0, 110.0),
        Kind.HANG: (60.0, 90.0),
        Kind.CHANNEL: (60.0, 100.0),
        # Short: the screen keeps an organisation INVALID 5 minutes after the last one.
        Kind.INVALID: (15.0, 30.0),
    })

    def scaled(self, factor: float) -> Timing:
        """Every span `factor` times as long: a test's accelerated demo."""
        def times(span: Span) -> Span:
            return span[0] * factor, span[1] * factor

        return Timing(first=self.first * factor, apart=times(self.apart),
                      calm=times(self.calm),
                      lasting={kind: times(span) for kind, span in self.lasting.items()})


class Schedule:
    """The incidents from `origin` on (a time of the agents' clock), generated as needed."""

    def __init__(self, incidents: Iterator[Incident], *, origin: float) -> None:
        self.origin = origin
        self._pending = incidents
        self._known: list[Incident] = []
        self._starts: list[float] = []
        self._longest = 0.0

    @classmethod
    def of(cls, incidents: Sequence[Incident], *, origin: float) -> Schedule:
        """Given incidents, for a test."""
        return cls(iter(sorted(incidents, key=lambda i: i.start)), origin=origin)

    def until(self, at: float) -> list[Incident]:
        """Every incident that starts before `at` (seconds from the origin)."""
        while not self._starts or self._starts[-1] < at:
            incident = next(self._pending, None)
            if incident is None:
                break
            self._known.append(incident)
            self._starts.append(incident.start)
            self._longest = max(self._longest, incident.end - incident.start)
        return self._known[:bisect.bisect_left(self._starts, at)]

    def active(self, at: float, org: str | None = None) -> list[Incident]:
        """The incidents going on at `at` (the agents' clock), of `org` if given."""
        into = at - self.origin
        self.until(into + 1)
        first = bisect.bisect_left(self._starts, into - self._longest)
        return [i for i in self._known[first:bisect.bisect_right(self._starts, into)]
                if i.start <= into < i.end and (org is None or i.org == org)]

    def reached(self, link: str, at: float) -> float:
        """For agents.simulator: a stalled link has carried nothing since its stall began."""
        for incident in self.active(at):
            if incident.kind is Kind.STALL and incident.target == link:
                return self.origin + incident.start
        return at


def planned(topology: Topology, *, pace: float, seed: int = DEFAULT_SEED,
            timing: Timing | None = None) -> Iterator[Incident]:
    """The demo's incidents, round after round, for ever; in order of their start."""
    timing = timing or Timing()
    stallable = stall_links(topology, pace)
    start, resting = timing.first, frozenset[str]()
    for number in range(1_000_000):
        rng = random.Random(f"{seed}/{number}")
        round_ = _round(rng, topology, stallable, timing, start, resting, first=number == 0)
        yield from round_
        if not round_:
            return
        start = max(i.end for i in round_) + rng.uniform(*timing.calm)
        # The screen keeps an INVALID one so for 5 minutes: none of the next round's.
        resting = frozenset(i.org for i in round_ if i.kind is Kind.INVALID)


def stall_links(topology: Topology, pace: float) -> list[Link]:
    """Links whose stall the screen declares soon at any hour of the week (by their prior
    at `pace`); or else the one whose quietest hour is busiest."""
    level = stall_level(topology.messages_per_year * pace)
    quietest = {link.id: min(topology.expected_per_hour(link)) * pace for link in topology.links}
    soon = [link for link in topology.links
            if quietest[link.id] * STALL_SHOWN_WITHIN / 3600 >= level]
    if soon or not topology.links:
        return soon
    return [max(topology.links, key=lambda link: quietest[link.id])]


def _round(rng: random.Random, topology: Topology, stallable: list[Link], timing: Timing,
           start: float, resting: frozenset[str], *, first: bool) -> list[Incident]:
    dependent = {dep for process in topology.processes for dep in process.depends_on}
    # The first round shows impact: a stalled link that processes depend on, if any.
    choices = [link for link in stallable if link.id in dependent] if first else stallable
    rested = [link for link in choices if not {link.sender, link.receiver} & resting]
    link = rng.choice(rested or choices or stallable) if stallable else None
    busy = {link.sender, link.receiver} if link else set()
    free = [org for org in topology.org_ids if org not in busy | resting]
    if len(free) < 4:
        free = [org for org in topology.org_ids if org not in busy] or list(topology.org_ids)
    # An organisation that processes are its own shows them BLOCKED when it is lost.
    owners = {process.org for process in topology.processes}
    lost = rng.choice([org for org in free if org in owners] or free) if free else None
    others = [org for org in free if org != lost]
    rng.shuffle(others)
    with_channels = [org for org in others if topology.by_org[org].channels]
    channel_org = with_channels[0] if with_channels else None
    rest = [org for org in others if org != channel_org] or others
    kinds: list[tuple[Kind, str, str]] = []
    if link is not None:
        kinds.append((Kind.STALL, link.sender, link.id))
    if lost is not None:
        kinds.append((Kind.LOST, lost, ""))
    if channel_org is not None:
        channel = rng.choice(topology.by_org[channel_org].channels)
        kinds.append((Kind.CHANNEL, channel_org, channel))
    for index, kind in enumerate((Kind.HANG, Kind.INVALID)):
        if rest:
            kinds.append((kind, rest[index % len(rest)], ""))
    head = kinds[:1] if first and link is not None else []
    tail = kinds[len(head):]
    rng.shuffle(tail)
    incidents, at = [], start
    for kind, org, target in head + tail:
        incidents.append(Incident(kind, org, at, at + rng.uniform(*timing.lasting[kind]),
                                  target))
        at += rng.uniform(*timing.apart)
    return incidents
