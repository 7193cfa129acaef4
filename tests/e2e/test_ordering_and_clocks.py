"""Crafted messages through a real broker: seq gaps, duplicates and reordering counted right;
an agent clock 10 minutes off is flagged in the drill-down and never decides freshness."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import msgspec

from chain.topics import Topics
from chain.views import OrgState
from chain.wire import Message, encode
from mqtt.address import BrokerAddress
from mqtt.connection import make_client
from tests.chain import factory as f
from tests.conftest import until
from tests.e2e.faults import Watch
from tui.rows import org_rows
from tui.screens.org import describe

INTERVAL = 0.3


async def send(address: BrokerAddress, *messages: Message) -> None:
    """Publish in this order, one connection, QoS 1: the broker keeps the order."""
    async with make_client(address, identifier="crafted") as client:
        for message in messages:
            await client.publish(Topics().of(message), encode(message), qos=1)


def at(message: Message, ts: datetime) -> Message:
    return msgspec.structs.replace(message, ts=ts)


async def test_gaps_duplicates_and_reordering_counted_end_to_end(
    any_broker: BrokerAddress,
) -> None:
    """seq 1 2 3 5 3 7 6: one gap (4), one duplicate; 4 late closes the gap; a newer session
    starts afresh and keeps the earlier session's figures."""
    now = datetime.now(UTC)
    async with Watch(any_broker) as watch:
        await until(lambda: watch.connected, within=5)
        beats = [at(f.heartbeat(seq=n, interval=60), now) for n in (2, 3, 5, 3, 7, 6)]
        await send(any_broker, at(f.online(seq=1, interval=60), now), *beats)
        await until(lambda: len(watch.received) == 1 + len(beats), within=5)
        org = watch.org()
        assert (org.seq_gaps, org.duplicates, org.state) == (1, 1, OrgState.ONLINE)
        await send(any_broker, at(f.heartbeat(seq=4, interval=60, hist=True), now))
        await until(lambda: watch.org().seq_gaps == 0, within=5)
        await send(any_broker, at(f.heartbeat(session=2, seq=1, interval=60), now),
                   at(f.heartbeat(session=2, seq=3, interval=60), now))
        await until(lambda: watch.org().session == 2 and watch.org().seq_gaps == 1, within=5)
        assert watch.org().duplicates == 1, "the earlier session's duplicate still counted"


async def test_clock_ten_minutes_off_is_flagged_and_never_decides_freshness(
    any_broker: BrokerAddress,
) -> None:
    """ts 10 min ahead: skew +600 s flagged in table and drill-down; om goes STALE by
    arrival time all the same. ts 10 min behind: ONLINE while heartbeats arrive."""
    async with Watch(any_broker) as watch:
        await until(lambda: watch.connected, within=5)
        for offset, session in ((600, 1), (-600, 2)):
            skewed = datetime.now(UTC) + timedelta(seconds=offset)
            await send(any_broker, at(f.online(session=session, seq=1, interval=INTERVAL),
                                      skewed))
            for seq in range(2, 8):
                skewed = datetime.now(UTC) + timedelta(seconds=offset)
                await send(any_broker, at(f.heartbeat(session=session, seq=seq,
                                                      interval=INTERVAL), skewed))
                await asyncio.sleep(INTERVAL / 2)
                assert watch.org().state is OrgState.ONLINE, "fresh by arrival, whatever ts"
            org = watch.org()
            assert org.clock_skew is not None and abs(org.clock_skew - offset) < 5
            view = watch.engine.view(time.time())
            assert "⚠ agent clock off" in describe(org, view.at)
            cause = next(row for row in org_rows(view) if row.key == "om").cells["cause"]
            assert f"agent clock off by {offset:+d}s" in cause.replace("+-", "-"), cause
            stopped = time.monotonic()
            await until(lambda: watch.org().state is OrgState.STALE, within=3 * INTERVAL + 2)
            assert time.monotonic() - stopped >= 2 * INTERVAL, "stale by arrival, not by ts"
