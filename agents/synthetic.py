"""A recording of the whole simulated chain, made without a broker: what the recorder would
have stored had every simulated agent run for the given span at its interval.

For replay benchmarks and tests that need weeks of recorded traffic in seconds.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import msgspec

from agents.simulator import SimulatedOrg
from chain.topics import Topics
from chain.topology import Topology
from chain.wire import Heartbeat, Message, Status, encode

RecordedRow = tuple[float, str, bytes, int, bool, None]
"""As `Recorder.record` takes it: received_at, topic, payload, qos, retain, problem."""


def chain_rows(
    topology: Topology, *, start: float, seconds: float, interval: float = 5.0,
    topics: Topics | None = None, transit: float = 0.05,
) -> Iterator[RecordedRow]:
    """Rows in arrival order: each organisation's birth, then every `interval` a heartbeat
    and all its readings, arriving `transit` seconds after they were stamped. None is marked
    retained: a broker sets that flag only on what it hands a subscriber as it subscribes."""
    topics = topics or Topics()
    orgs = [SimulatedOrg(topology, org) for org in topology.org_ids]
    seqs = dict.fromkeys(topology.org_ids, 0)

    def stamped(message: Message, at: float) -> Message:
        seqs[message.org] += 1
        return msgspec.structs.replace(message, session=1, seq=seqs[message.org],
                                       ts=datetime.fromtimestamp(at, UTC))

    steps = int(seconds // interval)
    for step in range(steps + 1):
        at = start + step * interval
        stamp = datetime.fromtimestamp(at, UTC)
        for index, org in enumerate(orgs):
            received = at + transit * (1 + index / len(orgs))
            if step == 0:
                birth = stamped(Status(org=org.org, session=1, seq=0, ts=stamp,
                                       state="online", interval=interval), at)
                yield received, topics.of(birth), encode(birth), 1, False, None
            beat = stamped(Heartbeat(org=org.org, session=1, seq=0, ts=stamp,
                                     interval=interval), at)
            yield received, topics.of(beat), encode(beat), 0, False, None
            for reading in org.readings(at):
                message = stamped(reading, at)
                yield received, topics.of(message), encode(message), 1, False, None
