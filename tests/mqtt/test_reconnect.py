"""Connections survive the broker going away: jittered backoff, then reconnect by themselves."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time

from agents.runtime import Agent
from broker.embedded import EmbeddedBroker
from chain.engine import ChainEngine
from chain.inbox import EngineSink
from chain.topics import Topics
from chain.views import OrgState
from chain.wire import Message
from ketenwacht.startup import load_topology
from mqtt.address import BrokerAddress
from mqtt.connection import Backoff, make_client
from mqtt.monitor import Monitor
from tests.conftest import until
from tests.proxy import Proxy


def test_backoff_grows_with_full_jitter_and_resets() -> None:
    """Delays double up to the cap, each drawn from [ceiling/2, ceiling]; reset starts over."""
    backoff = Backoff(initial=1.0, maximum=8.0)
    delays = [backoff.next_delay() for _ in range(6)]
    for delay, ceiling in zip(delays, [1, 2, 4, 8, 8, 8], strict=True):
        assert ceiling / 2 <= delay <= ceiling
    backoff.reset()
    assert backoff.next_delay() <= 1.0


class NoReadings:
    """Heartbeats only: the simulator's channel outages would make om DEGRADED at times."""

    async def read(self, now: float) -> list[Message]:
        return []


async def test_agent_and_monitor_reconnect_after_a_broker_restart() -> None:
    """Broker down: the monitor shows UNKNOWN; back on the same port: om is ONLINE again."""
    topology = load_topology(None)
    first = EmbeddedBroker()
    await first.start()
    address = first.address
    agent = Agent("om", address, session=1, interval=0.3, source=NoReadings())
    engine = ChainEngine(topology)
    sink = EngineSink(engine)
    fast = Backoff(initial=0.1, maximum=0.5)
    tasks = [
        asyncio.create_task(agent.run()),
        asyncio.create_task(Monitor(address, Topics()).run(sink, backoff=fast)),
    ]

    def om(state: OrgState) -> bool:
        return engine.view(time.time()).org("om").state is state

    second = EmbeddedBroker(port=address.port)
    try:
        await until(lambda: om(OrgState.ONLINE), within=5)
        await first.stop()
        await until(lambda: om(OrgState.UNKNOWN), within=5)
        await asyncio.sleep(1.0)
        await second.start()
        restarted_at = time.time()

        def reborn() -> bool:
            """om ONLINE since a birth published after the restart"""
            view = engine.view(time.time()).org("om")
            return view.state is OrgState.ONLINE and (view.since or 0) >= restarted_at

        await until(reborn, within=10)
        assert engine.view(time.time()).org("om").session == 1
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await first.stop()
        await second.stop()


class ConnectionLog:
    """A monitor sink that keeps only when the connection went up and down."""

    def __init__(self) -> None:
        self.changes: list[tuple[bool, float]] = []

    def connection_changed(self, connected: bool, at: float) -> None:
        self.changes.append((connected, time.monotonic()))

    def message_received(self, *_: object, **__: object) -> None: ...
    def message_rejected(self, *_: object, **__: object) -> None: ...
    def op_received(self, *_: object, **__: object) -> None: ...
    def control_received(self, *_: object, **__: object) -> None: ...


async def test_monitor_notices_a_link_lost_while_it_subscribes(any_broker: BrokerAddress) -> None:
    """The link dies after CONNACK, before SUBACK: the monitor says "disconnected" within a
    second, not after aiomqtt's 10 s wait for a SUBACK that cannot come (a broker killed
    just as a recorder returned showed "connected" that long)."""
    proxy = Proxy(any_broker)
    proxy.latency = 0.5  # CONNACK after ~1 s; SUBACK would come ~1 s after that
    log = ConnectionLog()
    task = asyncio.create_task(
        Monitor(await proxy.start(), Topics()).run(log, backoff=Backoff(initial=5, maximum=5))
    )
    try:
        await until(lambda: bool(log.changes) and log.changes[-1][0], within=5)
        proxy.cut()
        cut_at = time.monotonic()
        await until(lambda: not log.changes[-1][0], within=5)
        assert log.changes[-1][1] - cut_at < 1.0, log.changes
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await proxy.stop()


async def test_a_socket_closed_before_its_writer_is_registered_is_no_traceback(
    mosquitto: BrokerAddress,
) -> None:
    """paho asks for a writer; the connection is gone by the time the loop gets to it:
    nothing reaches asyncio's exception handler (it printed a traceback per drop)."""
    loop = asyncio.get_running_loop()
    errors: list[dict[str, object]] = []
    loop.set_exception_handler(lambda _, context: errors.append(context))
    try:
        async with make_client(mosquitto, identifier="writer-race") as client:
            with socket.socket() as doomed:
                client._on_socket_register_write(client._client, None, doomed)
            await asyncio.sleep(0.05)  # the registration runs, on a closed socket
            await client.publish("keten/v1/_probe", b"still works", qos=1)
    finally:
        loop.set_exception_handler(None)
    assert errors == []
