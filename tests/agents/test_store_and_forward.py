"""Broker killed mid-run: readings wait in the outbox and arrive exactly once, in order, as hist."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import aiomqtt

from agents.outbox import Outbox
from agents.runtime import Agent
from chain.topics import Topics
from chain.wire import FlowCounter, Message, decode
from mqtt.address import BrokerAddress
from mqtt.connection import Backoff, make_client, run_connected
from tests.conftest import Mosquitto, until
from tests.proxy import Proxy

INTERVAL = 0.1


class CountingSource:
    """Each tick one FlowCounter whose count is 1, 2, 3, ...: every reading is unique."""

    def __init__(self) -> None:
        self.produced = 0

    async def read(self, now: float) -> Sequence[Message]:
        self.produced += 1
        return [
            FlowCounter(
                org="om", session=0, seq=0, ts=datetime.now(UTC),
                link="om-justid", direction="sent", count=self.produced,
            )
        ]


class Recorder:
    """Subscribes to om's flow topic, reconnecting fast; keeps every message it receives."""

    def __init__(self) -> None:
        self.received: list[FlowCounter] = []
        self.connected = False

    def on_connection(self, connected: bool, at: float) -> None:
        self.connected = connected

    async def run(self, mosquitto: Mosquitto) -> None:
        async def work(client: aiomqtt.Client) -> None:
            await client.subscribe("keten/v1/om/flow/#", qos=1)
            async for message in client.messages:
                assert isinstance(message.payload, bytes)
                reading = decode(message.payload)
                assert isinstance(reading, FlowCounter)
                self.received.append(reading)

        def connect(address: BrokerAddress) -> aiomqtt.Client:
            return make_client(address, identifier="recorder")

        await run_connected(
            connect, [mosquitto.address], work, logger=__import__("logging").getLogger("test"),
            on_connection=self.on_connection, backoff=Backoff(initial=0.05, maximum=0.2),
        )


async def test_kill_broker_keep_producing_restart_every_reading_once_in_order(
    mosquitto_process: Mosquitto, tmp_path: Path
) -> None:
    """kill -9 Mosquitto; the agent buffers; after the restart all counts 1..N arrive once."""
    proxy = Proxy(mosquitto_process.address)
    agent_side = await proxy.start()
    source = CountingSource()
    recorder = Recorder()
    async with Outbox(tmp_path / "om.outbox.sqlite", max_messages=10_000) as outbox:
        agent = Agent(
            "om", agent_side, session=1, source=source, outbox=outbox,
            topics=Topics(), interval=INTERVAL,
        )
        tasks = [asyncio.create_task(recorder.run(mosquitto_process)),
                 asyncio.create_task(agent.run())]
        try:
            await until(lambda: len(recorder.received) >= 5, within=10)

            mosquitto_process.kill()
            await proxy.refuse()  # the agent may reconnect only once the recorder is back
            proxy.cut()
            produced_before_outage = source.produced
            await until(lambda: outbox.size >= 10, within=10)

            mosquitto_process.start()
            await until(lambda: recorder.connected, within=10)
            await asyncio.sleep(0.3)  # the recorder's subscription is in place
            await proxy.listen()

            target = source.produced + 5

            def live_again() -> bool:
                """a live (not hist) reading produced after the restart has arrived"""
                return any(r.count >= target and not r.hist for r in recorder.received)

            await until(live_again, within=15)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await proxy.stop()

    unique = {(r.session, r.seq): r for r in recorder.received}
    counts = sorted(r.count for r in unique.values())
    highest = counts[-1]
    assert counts == list(range(1, highest + 1)), "every reading exactly once"

    hist = [r for r in recorder.received if r.hist]
    assert len(hist) >= 10
    hist_counts = {r.count for r in hist}
    during_outage = set(range(produced_before_outage + 1, produced_before_outage + 10))
    assert during_outage <= hist_counts, "what was produced while cut off came as hist"
    assert [r.seq for r in hist] == sorted(r.seq for r in hist), "buffered ones in order"
    live_after = [r for r in recorder.received if not r.hist and r.count > hist[-1].count]
    assert live_after, "live readings resume after the buffer is delivered"
    assert outbox.size == 0
