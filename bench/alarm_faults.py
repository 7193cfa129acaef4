"""The simulated chain fed into a real engine, with one fault injected: what the engine
declares, how soon, and how soon it could have (bench/alarm_quality.py reports it).

A fault run feeds only the organisations and links the fault touches (a link is judged
from its two counters and its two ends alone), from WARM_UP before the fault, and judges at
every reading round, so a delay is measured to within one cadence. An organisation that
dies stops its agent (no heartbeat, no Will) and its systems: what it sends stops (its
partners receive nothing more), what it is sent its partners go on counting (unanswered).

The traffic is agents.traffic's (shuffled within blocks of 6 expected messages, so a
healthy silence never exceeds 12) unless a SimChain is given another, such as
PoissonTraffic: a true seeded Poisson stream at the same expected rate, whose silences are
as long as chance makes them.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final, Literal

from agents.simulator import TRANSIT_SECONDS
from agents.traffic import count
from chain.engine import ChainEngine
from chain.orgs import STALE_AFTER_INTERVALS
from chain.profiles import hour_of_week
from chain.topology import Link, Topology
from chain.views import ChainView, LinkState, OrgState
from chain.wire import ChannelReading, FlowCounter, Heartbeat, Status

INTERVAL: Final = 60.0
"""Heartbeat and reading cadence of every simulated agent (s)."""
WARM_UP: Final = 6 * 3600.0
"""Healthy traffic before a fault."""
ORG_WINDOW: Final = 3600.0
"""How long a dead organisation is watched at the least; and for what its links become,
1.5 times the longest of their theoretical delays (up to LONGEST_WINDOW)."""
LONGEST_WINDOW: Final = 7 * 86_400.0

Traffic = Callable[[Link, float], int]
"""What a link's counters show at a moment (the receiver is asked TRANSIT_SECONDS back)."""

Kind = Literal["sender stops", "receiver stops", "org dies", "channel down"]
KINDS: Final[tuple[Kind, ...]] = ("sender stops", "receiver stops", "org dies", "channel down")
EXPECTED: Final[dict[str, str]] = {"sender stops": LinkState.STALLED.value,
                                    "receiver stops": LinkState.STUCK.value,
                                    "org dies": f"{OrgState.STALE.value}/{OrgState.OFFLINE.value}",
                                    "channel down": OrgState.DEGRADED.value}


@dataclass(frozen=True)
class Fault:
    kind: Kind
    at: float
    subject: str
    """The link (sender/receiver stops) or the organisation (org dies, channel down)."""
    channel: str = ""


@dataclass
class Outcome:
    fault: Fault
    delay: float | None = None
    """Fault to the first judgement showing the expected state; None if it never did."""
    theory: float | None = None
    """For STALLED and STUCK: fault to when the silence became improbable, plus a cadence."""
    links: dict[str, tuple[str, float]] = field(default_factory=dict)
    """For a dead organisation: link -> (first state other than FLOWING/UNKNOWN, delay)."""
    link_theory: dict[str, float] = field(default_factory=dict)
    """For a dead organisation: link -> theoretical delay of its STALLED or STUCK."""


class SimChain:
    """Agents of `orgs` reporting `links` (traffic from agents.traffic) into an engine."""

    def __init__(self, topology: Topology, orgs: Sequence[str], links: Sequence[Link],
                 fault: Fault | None = None, traffic: Traffic | None = None) -> None:
        self.topology = topology
        self.traffic: Traffic = traffic or (lambda link, t: count(topology, link, t))
        self.engine = ChainEngine(topology)
        self.orgs = tuple(orgs)
        self.links = tuple(links)
        self.fault = fault
        self._seq = dict.fromkeys(self.orgs, 0)
        self.last: dict[tuple[str, str], int] = {}
        """The latest count each end reported."""
        self.moved: dict[tuple[str, str], float] = {}
        """When each end's reported count last went up (receive time)."""

    def start(self, at: float) -> None:
        self.engine.monitor_connected(at)
        ts = datetime.fromtimestamp(at, UTC)
        for org in self.orgs:
            self.engine.apply(Status(org=org, session=1, seq=self._next(org), ts=ts,
                                     state="online", interval=INTERVAL), received_at=at)

    def tick(self, at: float) -> None:
        """One reading round: every live agent's heartbeat, channels and counters."""
        ts = datetime.fromtimestamp(at, UTC)
        apply = self.engine.apply
        for org in self.orgs:
            if self._dead(org, at):
                continue
            apply(Heartbeat(org=org, session=1, seq=self._next(org), ts=ts, interval=INTERVAL),
                  received_at=at)
            for channel in self.topology.by_org[org].channels:
                up = not self._hit("channel down", org, at) or channel != self._channel()
                apply(ChannelReading(org=org, session=1, seq=self._next(org), ts=ts,
                                     channel=channel, up=up, latency_ms=20.0 if up else None),
                      received_at=at)
        for link in self.links:
            stopped = self._hit("sender stops", link.id, at) or self._dead(link.sender, at)
            sent = min(at, self._fault_at()) if stopped else at
            received = min(at - TRANSIT_SECONDS, sent)
            if self._hit("receiver stops", link.id, at):
                received = min(at, self._fault_at()) - TRANSIT_SECONDS
            for org, direction, when in ((link.sender, "sent", sent),
                                         (link.receiver, "received", received)):
                if self._dead(org, at):
                    continue
                reading = self.traffic(link, when)
                key = (link.id, direction)
                if reading > self.last.get(key, reading):
                    self.moved[key] = at
                self.last[key] = reading
                apply(FlowCounter(org=org, session=1, seq=self._next(org), ts=ts, link=link.id,
                                  direction="sent" if direction == "sent" else "received",
                                  count=reading), received_at=at)

    def _next(self, org: str) -> int:
        self._seq[org] += 1
        return self._seq[org]

    def _hit(self, kind: Kind, subject: str, at: float) -> bool:
        f = self.fault
        return f is not None and f.kind == kind and f.subject == subject and at >= f.at

    def _dead(self, org: str, at: float) -> bool:
        return self._hit("org dies", org, at)

    def _fault_at(self) -> float:
        return self.fault.at if self.fault is not None else math.inf

    def _channel(self) -> str:
        return self.fault.channel if self.fault is not None else ""


class PoissonTraffic:
    """A true Poisson stream per link at its prior's rate (`topology.expected_per_hour`,
    per local hour of the week by `hour_of_week`, piecewise constant per hour), seeded.

    Arrivals are unit-rate exponential gaps in expected-count space, mapped to time
    through the cumulative expectation: an inhomogeneous Poisson process exactly (the
    same as drawing Poisson(expected) per round and placing the arrivals uniformly in it).
    A count is a function of the moment, so both ends agree: the receiver, asked
    TRANSIT_SECONDS back, counts what the sender had sent by then. Gaps of at least
    `level` expected messages are noted (`long_gaps`): the silences the design expects
    to be declared, e^(-level) of all gaps."""

    def __init__(self, topology: Topology, seed: int, origin: float,
                 level: float = math.inf) -> None:
        self.topology = topology
        self.level = level
        self._origin_hour = int(origin // 3600)
        self._rates = {link.id: topology.expected_per_hour(link) for link in topology.links}
        self._cumulative: dict[str, list[float]] = {}
        """Per link: expected messages from the origin hour to each hour boundary."""
        self._arrivals: dict[str, list[float]] = {}
        """Per link: arrival positions in expected-count space, ascending."""
        self._rng = {link.id: random.Random(f"{seed}/{link.id}") for link in topology.links}
        self.long_gaps: list[tuple[str, float, float]] = []
        """(link, when the gap began, its length in expected messages)."""

    def expected(self, link: Link, t: float) -> float:
        """Messages expected on `link` from the origin hour to `t` (0 before it)."""
        hour = int(t // 3600) - self._origin_hour
        if hour < 0:
            return 0.0
        sums = self._sums(link, hour + 1)
        return sums[hour] + (sums[hour + 1] - sums[hour]) * (t / 3600 - (self._origin_hour + hour))

    def __call__(self, link: Link, t: float) -> int:
        x = self.expected(link, t)
        arrivals = self._arrivals.get(link.id)
        if arrivals is None:
            arrivals = self._arrivals[link.id] = [self._rng[link.id].expovariate(1.0)]
        rng = self._rng[link.id]
        while arrivals[-1] <= x:
            gap = rng.expovariate(1.0)
            if gap >= self.level:
                self.long_gaps.append((link.id, self._time_of(link, arrivals[-1]), gap))
            arrivals.append(arrivals[-1] + gap)
        return bisect_right(arrivals, x)

    def _sums(self, link: Link, hours: int) -> list[float]:
        sums = self._cumulative.setdefault(link.id, [0.0])
        rates = self._rates[link.id]
        zone = self.topology.timezone
        while len(sums) <= hours:
            slot = hour_of_week(self._origin_hour + len(sums) - 1, zone)
            sums.append(sums[-1] + rates[slot])
        return sums

    def _time_of(self, link: Link, x: float) -> float:
        """The moment `expected` reaches `x` (within the hours summed so far)."""
        sums = self._cumulative[link.id]
        hour = max(0, min(bisect_right(sums, x) - 1, len(sums) - 2))
        rate = sums[hour + 1] - sums[hour]
        into = (x - sums[hour]) / rate if rate > 0 else 0.0
        return (self._origin_hour + hour + into) * 3600


def plan(topology: Topology, rng: random.Random, faults: int, start: float,
         end: float) -> list[Fault]:
    """`faults` faults, the kinds in turn, each at a random moment of [start, end)."""
    orgs = [org for org in topology.org_ids if topology.links_of(org)]
    planned: list[Fault] = []
    for index in range(faults):
        kind = KINDS[index % len(KINDS)]
        at = round(rng.uniform(start, end))
        if kind in ("sender stops", "receiver stops"):
            planned.append(Fault(kind, at, rng.choice(topology.links).id))
        elif kind == "org dies":
            planned.append(Fault(kind, at, rng.choice(orgs)))
        else:
            org = rng.choice(orgs)
            planned.append(Fault(kind, at, org, rng.choice(topology.by_org[org].channels)))
    return planned


def reach(topology: Topology, link: Link, start: float, level: float) -> float:
    """When `level` messages were expected since `start` under the link's prior, integrated
    hour by hour straight off `topology.expected_per_hour` (not the engine's code)."""
    rates = topology.expected_per_hour(link)
    total, t = 0.0, start
    while t - start < LONGEST_WINDOW:
        hour_end = (t // 3600 + 1) * 3600
        per_second = rates[hour_of_week(int(t // 3600), topology.timezone)] / 3600
        if total + per_second * (hour_end - t) >= level:
            return t + (level - total) / per_second
        total += per_second * (hour_end - t)
        t = hour_end
    return math.inf


def run(topology: Topology, fault: Fault, level: float) -> Outcome:
    """Feed the chain around `fault` until the engine declares it or its window closes."""
    by_id = {link.id: link for link in topology.links}
    link = by_id.get(fault.subject)
    if link is not None:
        orgs: list[str] = [link.sender, link.receiver]
        links = [link]
    elif fault.kind == "org dies":
        links = list(topology.links_of(fault.subject))
        orgs = sorted({fault.subject} | {o for k in links for o in (k.sender, k.receiver)})
    else:
        orgs, links = [fault.subject], []
    chain = SimChain(topology, orgs, links, fault)
    at = (fault.at - WARM_UP) // INTERVAL * INTERVAL  # readings on the minute, faults not
    chain.start(at - INTERVAL)
    outcome = Outcome(fault)
    end = fault.at + ORG_WINDOW
    theory_set = False
    while at <= end:
        chain.tick(at)
        if at >= fault.at:
            if not theory_set:
                theory_set = True
                if link is not None:
                    outcome.theory = _theory(chain, topology, link, fault, level)
                    end = fault.at + min(LONGEST_WINDOW, 3 * max(outcome.theory, 0) + 3600)
                elif fault.kind == "org dies":
                    outcome.link_theory = {k.id: _theory(chain, topology, k, fault, level)
                                           for k in links}
                    longest = max(outcome.link_theory.values(), default=0.0)
                    end = fault.at + min(LONGEST_WINDOW, max(ORG_WINDOW, 1.5 * longest))
            view = chain.engine.evaluate(at)
            if _judge(view, fault, outcome, at, links):
                break
        at += INTERVAL
    return outcome


def _theory(chain: SimChain, topology: Topology, link: Link, fault: Fault,
            level: float) -> float:
    """Fault to when the silence it causes on `link` became improbable, plus a cadence:
    STALLED counts from the later end's last movement, STUCK from the receiver's."""
    if fault.kind == "org dies" and fault.subject == link.receiver:
        # What it received is unknown once its agent is STALE: three intervals, a cadence.
        return (STALE_AFTER_INTERVALS + 1) * INTERVAL
    stalls = fault.kind == "sender stops" or (
        fault.kind == "org dies" and fault.subject == link.sender)
    ends = ("sent", "received") if stalls else ("received",)
    moved = max((chain.moved[(link.id, end)] for end in ends if (link.id, end) in chain.moved),
                default=fault.at - WARM_UP)
    return reach(topology, link, moved, level) + INTERVAL - fault.at


def _judge(view: ChainView, fault: Fault, outcome: Outcome, at: float,
           links: Sequence[Link]) -> bool:
    """Note what the view shows of the fault; True once there is nothing more to wait for."""
    delay = at - fault.at
    if fault.kind in ("sender stops", "receiver stops"):
        state = next(v.state for v in view.links if v.id == fault.subject)
        if state.value == EXPECTED[fault.kind]:
            outcome.delay = delay
        return outcome.delay is not None
    org = next(o for o in view.orgs if o.id == fault.subject)
    if fault.kind == "channel down":
        if org.state is OrgState.DEGRADED:
            outcome.delay = delay
        return outcome.delay is not None
    if outcome.delay is None and org.state in (OrgState.STALE, OrgState.OFFLINE):
        outcome.delay = delay
    for v in view.links:
        unheard = v.state is LinkState.UNKNOWN and v.id in {k.id for k in links} and (
            v.cause.endswith("not reporting") or v.cause.startswith("no counts from"))
        if v.id not in outcome.links and (
            unheard or v.state not in (LinkState.FLOWING, LinkState.UNKNOWN)
        ):
            outcome.links[v.id] = ("not reporting" if unheard else v.state.value,
                                   delay)
    return outcome.delay is not None and len(outcome.links) == len(links)

