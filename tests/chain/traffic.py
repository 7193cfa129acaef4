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
                 seed: int | None = None) -> None:
        self.engine = engine
        self.link = next(link for link in engine.topology.links if link.id == link_id)
        self.orgs = sorted({self.link.sender, self.link.receiver, "justis"})
        self.seq = dict.fromkeys(self.orgs, 1)
        self.session = dict.fromkeys(self.orgs, 1)
        self.sent = self.received = 1000
        self.owed = 0.0
        self.scale = 1.0
        """What fraction of the expected rate the link carries."""
        self.random = random.Random(seed) if seed is not None else None
        """With a seed, a Poisson stream at the expected rate; without, exactly that rate."""

    def start(self, at: float) -> None:
        for org in self.orgs:
            self.engine.apply(f.online(org=org, seq=1, interval=INTERVAL), received_at=at)

    def tick(self, at: float, *, send: bool = True, receive: bool = True) -> None:
        """One reading round at `at`: what the last INTERVAL carried, and heartbeats."""
        carried = self._carried(at)
        if send:
            self.sent += carried
        if receive and send:
            self.received += carried
        for org in self.orgs:
            self.seq[org] += 1
            self.engine.apply(f.heartbeat(org=org, session=self.session[org],
                                          seq=self.seq[org], interval=INTERVAL), received_at=at)
        for org, direction, count in ((self.link.sender, "sent", self.sent),
                                      (self.link.receiver, "received", self.received)):
            self.seq[org] += 1
            self.engine.apply(f.flow(count, org=org, link=self.link.id, direction=direction,
                                     session=self.session[org], seq=self.seq[org]),
                              received_at=at)

    def _carried(self, at: float) -> int:
        expected = (self.scale * expected_rate(self.engine, self.link, at - INTERVAL / 2)
                    * INTERVAL / 3600)
        if self.random is None:
            self.owed += expected
            carried = math.floor(self.owed)
            self.owed -= carried
            return carried
        return _poisson(self.random, expected)

    def run(self, start: float, end: float, **flags: bool) -> float:
        at = start
        while at < end:
            self.tick(at, **flags)
            at += INTERVAL
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
