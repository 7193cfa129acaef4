"""Traffic on one link for engine tests: both ends counting what the link carries, both
organisations (and justis) beating their hearts, on a clock the test moves."""

from __future__ import annotations

import math
import random

from chain.engine import ChainEngine
from chain.profiles import hour_of_week
from chain.topology import Link
from tests.chain import factory as f

INTERVAL = 60.0
"""Heartbeat and reading cadence of the agents here (s)."""


def expected_rate(engine: ChainEngine, link: Link, at: float) -> float:
    """The prior's messages per hour at `at`, read straight off the topology."""
    slot = hour_of_week(int(at // 3600), engine.topology.timezone)
    return engine.topology.expected_per_hour(link)[slot]


def declared_by(engine: ChainEngine, link: Link, start: float, level: float) -> float:
    """When `level` messages were expected since `start`, summed second by second: an
    oracle written apart from the engine's own integration."""
    total, at = 0.0, start
    while total < level:
        total += expected_rate(engine, link, at) / 3600.0
        at += 1.0
    return at


class Feed:
    """Both ends of `link` counting, on the engine's injected clock."""

    def __init__(self, engine: ChainEngine, link_id: str = "om-justid", *,
                 seed: int | None = None, interval: float = INTERVAL) -> None:
        self.engine = engine
        self.interval = interval
        """The agents' heartbeat and reading cadence (s)."""
        self.link = next(link for link in engine.topology.links if link.id == link_id)
        self.orgs = sorted({self.link.sender, self.link.receiver, "justis"})
        self.seq = dict.fromkeys(self.orgs, 1)
        self.session = dict.fromkeys(self.orgs, 1)
        self.sent = self.received = 1000
        self.owed = 0.0
        self.scale = 1.0
        """What fraction of the expected rate the link carries."""
        self.silent: set[str] = set()
        """Organisations whose agents send nothing (dead, or cut off)."""
        self.random = random.Random(seed) if seed is not None else None
        """With a seed, a Poisson stream at the expected rate; without, exactly that rate."""

    def start(self, at: float) -> None:
        for org in self.orgs:
            self.engine.apply(f.online(org=org, seq=1, interval=self.interval), received_at=at)

    def tick(self, at: float, *, send: bool = True, receive: bool = True) -> None:
        """One reading round at `at`: what the last interval carried, and heartbeats."""
        carried = self._carried(at)
        if send:
            self.sent += carried
        if receive and send:
            self.received += carried
        for org in self.orgs:
            if org in self.silent:
                continue
            self.seq[org] += 1
            self.engine.apply(f.heartbeat(org=org, session=self.session[org],
                                          seq=self.seq[org], interval=self.interval),
                              received_at=at)
        for org, direction, count in ((self.link.sender, "sent", self.sent),
                                      (self.link.receiver, "received", self.received)):
            if org in self.silent:
                continue
            self.seq[org] += 1
            self.engine.apply(f.flow(count, org=org, link=self.link.id, direction=direction,
                                     session=self.session[org], seq=self.seq[org]),
                              received_at=at)

    def _carried(self, at: float) -> int:
        expected = (self.scale * expected_rate(self.engine, self.link, at - self.interval / 2)
                    * self.interval / 3600)
        if self.random is None:
            self.owed += expected
            carried = math.floor(self.owed)
            self.owed -= carried
            return carried
        return _poisson(self.random, expected)

    def restart(self, org: str, at: float, *, count_from: int) -> None:
        """`org`'s agent starts again on a new session, its counter starting at `count_from`."""
        self.silent.discard(org)
        self.session[org] += 1
        self.seq[org] = 1
        self.engine.apply(f.online(org=org, session=self.session[org], seq=1,
                                   interval=self.interval), received_at=at)
        if org == self.link.sender:
            self.sent = count_from
        if org == self.link.receiver:
            self.received = count_from

    def run(self, start: float, end: float, *, evaluate: bool = False, **flags: bool) -> float:
        """Tick from `start` until `end`; with `evaluate`, the engine is evaluated after each
        tick, as a screen would, so its log fills."""
        at = start
        while at < end:
            self.tick(at, **flags)
            if evaluate:
                self.engine.evaluate(at)
            at += self.interval
        return at


def _poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method, in pieces so that a large mean does not underflow."""
    count = 0
    while mean > 0:
        piece = min(mean, 30.0)
        mean -= piece
        limit, product = math.exp(-piece), rng.random()
        while product > limit:
            count += 1
            product *= rng.random()
    return count
