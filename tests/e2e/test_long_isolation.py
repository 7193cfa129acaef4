"""An organisation cut off for a (simulated) week comes back with its buffer: the history is
complete and in order, and buffered (`hist`) readings are never shown as live."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from chain.views import OrgState
from chain.wire import ChannelReading, FlowCounter, Message
from mqtt.address import BrokerAddress
from recording.recorder import Recorder
from tests.conftest import until
from tests.e2e.faults import Watch, acked_agent, recorded_flows
from tests.proxy import Proxy

WEEK = 7 * 24 * 3600
READING_EVERY = 300
"""One reading every 5 simulated minutes: 2016 in a week."""
PER_TICK = 12
"""Readings per agent tick: each tick the simulated clock moves an hour."""


class WeekOfReadings:
    """A simulated clock and source: every tick an hour of 5-minute flow counts, and once
    an "email down" reading; after a week, nothing until `go_live`, then one live count."""

    def __init__(self) -> None:
        self.now = time.time() - WEEK
        self.count = 0
        self.live = False

    def clock(self) -> float:
        return self.now

    async def read(self, now: float) -> Sequence[Message]:
        ts = datetime.fromtimestamp(self.now, UTC)
        if self.count >= WEEK // READING_EVERY:
            if not self.live:
                return []
            self.live = False
            self.count += 1
            return [FlowCounter(org="om", session=0, seq=0, ts=ts, link="om-justid",
                                direction="sent", count=self.count)]
        readings: list[Message] = []
        if self.count == 0:
            readings.append(ChannelReading(org="om", session=0, seq=0, ts=ts,
                                           channel="email", up=False, detail="cut off"))
        for _ in range(PER_TICK):
            self.count += 1
            readings.append(FlowCounter(org="om", session=0, seq=0, ts=ts, link="om-justid",
                                        direction="sent", count=self.count))
        self.now += PER_TICK * READING_EVERY
        return readings


async def test_a_week_offline_then_back_history_complete_and_never_live(
    any_broker: BrokerAddress, tmp_path: Path
) -> None:
    """2016 buffered counts (and an email outage) are recorded in order as hist; none makes
    a live count or a DEGRADED state; the first live count after them does."""
    week = WeekOfReadings()
    produced = WEEK // READING_EVERY
    proxy = Proxy(any_broker)
    agent_side = await proxy.start()
    await proxy.refuse()
    try:
        async with (
            Recorder(tmp_path / "rec.sqlite") as recorder,
            Watch(any_broker, recorder=recorder) as watch,
            acked_agent(agent_side, tmp_path / "om.outbox", interval=0.2, source=week,
                        clock=week.clock) as (agent, outbox),
        ):
            await until(lambda: outbox.size == produced + 1, within=30)
            assert agent.connections == 0
            await proxy.listen()
            await until(lambda: outbox.size == 0, within=30)

            def all_recorded() -> bool:
                """the whole week recorded"""
                return len({m.count for m in watch.flows()}) >= produced

            await until(all_recorded, within=10)
            flows = watch.flows()
            assert [m.count for m in flows[:produced]] == list(range(1, produced + 1))
            assert all(m.hist for m in flows[:produced])
            first, last = flows[0].ts.timestamp(), flows[produced - 1].ts.timestamp()
            assert last - first >= WEEK - PER_TICK * READING_EVERY, "a week of history"

            view = watch.engine.view(time.time())
            assert view.link("om-justid").sent_total is None, "no hist count taken as live"
            org = view.org("om")
            assert org.state is OrgState.ONLINE and not org.channels, "hist outage not live"

            week.live = True
            await until(
                lambda: watch.engine.view(time.time()).link("om-justid").sent_total
                == produced + 1,
                within=5,
            )
    finally:
        await proxy.stop()
    stored = [m.count for m in await recorded_flows(tmp_path / "rec.sqlite")]
    assert stored == list(range(1, produced + 2)), "the recording: the week, then the live one"
