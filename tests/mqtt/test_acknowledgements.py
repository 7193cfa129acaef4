"""Acknowledgements are `_ops` messages: one published by a screen reaches every monitor on
the broker, and each marks the same problem alike, until the same moment."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime

from chain.crisislog import EntryKind
from chain.engine import ChainEngine
from chain.inbox import EngineSink
from chain.topics import Topics
from chain.views import OrgState
from chain.wire import Acknowledgement, encode
from ketenwacht.startup import load_topology
from mqtt.address import BrokerAddress
from mqtt.connection import make_client
from mqtt.monitor import Monitor
from tests.chain.factory import T0_EPOCH, offline, online
from tests.conftest import until

T0 = T0_EPOCH


async def test_an_acknowledgement_reaches_two_screens_alike(mosquitto: BrokerAddress) -> None:
    """om stops: OFFLINE and new on two monitors; one screen acknowledges it until T0 + 600
    over the broker: both show it acknowledged by the same person, and both new again at
    T0 + 600, with the same alert; a repeated delivery changes nothing."""
    topics = Topics()
    now = [T0]
    engines = [ChainEngine(load_topology(None)) for _ in range(2)]
    monitors = [Monitor(mosquitto, topics, clock=lambda: now[0]) for _ in engines]
    tasks = [asyncio.create_task(m.run(EngineSink(e))) for m, e in zip(monitors, engines,
                                                                        strict=True)]
    try:
        await until(lambda: all(m.subscribed for m in monitors), within=10)
        async with make_client(mosquitto, identifier="ack-om") as om:
            await om.publish(topics.status("om"), encode(online()), qos=1)
            await asyncio.sleep(0.2)
            now[0] = T0 + 10
            await om.publish(topics.status("om"), encode(offline(seq=9, cause="stopped")),
                             qos=1)

        def both_offline() -> bool:
            """om is OFFLINE on both monitors."""
            return all(e.view(T0 + 10).org("om").state is OrgState.OFFLINE for e in engines)

        await until(both_offline, within=10)
        views = [e.evaluate(T0 + 11) for e in engines]
        assert [v.new_problems for v in views] == [1, 1]
        assert views[0].problems == views[1].problems
        now[0] = T0 + 60
        ack = Acknowledgement(id="k-1", author="duty officer", ts=datetime.fromtimestamp(
            T0 + 60, UTC), subject="org:om", until=datetime.fromtimestamp(T0 + 600, UTC))
        await monitors[0].publish_op(ack)
        await monitors[0].publish_op(ack)

        def both_acknowledged() -> bool:
            """Both monitors logged the acknowledgement."""
            return all(e.log.filtered(kinds=[EntryKind.ACK]) for e in engines)

        await until(both_acknowledged, within=10)
        await asyncio.sleep(0.3)  # the repeated delivery too
        views = [e.evaluate(T0 + 61) for e in engines]
        for view in views:
            problem = view.problem("org:om")
            assert problem is not None and not problem.new
            assert (problem.acknowledged_by, problem.acknowledged_until) == (
                "duty officer", T0 + 600)
            assert (view.new_problems, view.org("om").acknowledged_by) == (0, "duty officer")
        assert views[0].problems == views[1].problems
        assert [len(e.log.filtered(kinds=[EntryKind.ACK])) for e in engines] == [1, 1]
        later = [e.evaluate(T0 + 600) for e in engines]
        assert [v.new_problems for v in later] == [1, 1]
        assert later[0].problems == later[1].problems
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
