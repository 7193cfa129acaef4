"""One clock: a monitor given a clock (an exercise's) dates its own connection by it, as it
dates the messages, so an organisation that falls silent in exercise time turns STALE."""

from __future__ import annotations

import asyncio
import contextlib

from chain.engine import ChainEngine
from chain.inbox import EngineSink
from chain.topics import Topics, exercise_root
from chain.views import OrgState
from chain.wire import encode
from ketenwacht.startup import load_topology
from mqtt.address import BrokerAddress
from mqtt.connection import make_client
from mqtt.monitor import Monitor
from tests.chain.factory import T0_EPOCH, heartbeat, online
from tests.conftest import until


async def test_an_exercise_monitor_dates_its_connection_by_the_exercise_clock(
    nats: BrokerAddress,
) -> None:
    """Connected on the exercise's clock (17 Jul 2025), om's last heartbeat then, and 20
    exercise seconds later (4 intervals of 5 s) om is STALE, not kept alive by a connection
    dated by the wall clock, more than a year later."""
    topics = Topics(exercise_root("one-clock"))
    engine = ChainEngine(load_topology(None))
    watch = Monitor(nats, topics, clock=lambda: T0_EPOCH)
    watching = asyncio.create_task(watch.run(EngineSink(engine, dated_by_sender=True)))
    try:
        await until(lambda: watch.subscribed, within=10)
        async with make_client(nats, identifier="one-clock-om") as om:
            await om.publish(topics.status("om"), encode(online()), qos=1)
            await om.publish(topics.heartbeat("om"), encode(heartbeat()), qos=1)
        await until(lambda: engine.view(T0_EPOCH).org("om").state is OrgState.ONLINE,
                    within=10)
        assert engine.view(T0_EPOCH + 20).org("om").state is OrgState.STALE
    finally:
        watching.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watching
