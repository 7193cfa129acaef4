"""What the fault tests share: a broker that can be killed and restarted (Mosquitto or NATS),
an agent that notes what the broker acknowledged, and a monitor that keeps what it received.

"Acknowledged" means: a live reading whose QoS 1 publish returned (the broker's PUBACK
arrived), or a buffered reading removed from the outbox (after the PUBACKs of its batch).
Only those may the agent forget, so only those must reach the recorder.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import aiomqtt

from agents.outbox import Outbox
from agents.runtime import Agent, ReadingSource
from broker.embedded import EmbeddedBroker
from chain.engine import ChainEngine
from chain.inbox import EngineSink, MonitorSink
from chain.topics import Topics
from chain.views import OrgView
from chain.wire import Direction, FlowCounter, Heartbeat, Message, Status, decode
from ketenwacht.startup import load_topology
from mqtt.address import BrokerAddress
from mqtt.connection import Backoff, make_client
from mqtt.monitor import Monitor
from recording.reader import Recording
from recording.recorder import Recorder
from tests.conftest import Mosquitto

Key = tuple[str, int, int]
"""(org, session, seq): what identifies one reading; QoS 1 redelivery may repeat it."""


def key(message: Message) -> Key:
    return message.org, message.session, message.seq


class RestartableBroker(Protocol):
    address: BrokerAddress

    async def start(self) -> None: ...

    async def kill(self) -> None:
        """Gone at once: no clean shutdown, connections dropped."""


class EmbeddedRestartable:
    """The embedded NATS broker on a fixed port, its JetStream store in `store` as `ketenwacht
    broker` keeps it; `kill` is SIGKILL."""

    def __init__(self, store: Path) -> None:
        self._broker = EmbeddedBroker(store=store)
        self.address = self._broker.address

    async def start(self) -> None:
        await self._broker.start()

    async def kill(self) -> None:
        await self._broker.kill()


class MosquittoRestartable:
    """Mosquitto killed with SIGKILL and started again on the same port (persistent, for
    a recorder's session to outlive it)."""

    def __init__(self, mosquitto: Mosquitto) -> None:
        self._mosquitto = mosquitto
        self.address = mosquitto.address

    async def start(self) -> None:
        await asyncio.to_thread(self._mosquitto.start)

    async def kill(self) -> None:
        await asyncio.to_thread(self._mosquitto.kill)


def own_end(org: str) -> tuple[str, Direction]:
    """A link of the topology with `org` at one end, and which end: the only counts a
    monitor takes from it."""
    for link in load_topology(None).links:
        if link.sender == org:
            return link.id, "sent"
        if link.receiver == org:
            return link.id, "received"
    raise ValueError(f"{org} is at no end of a link")


class CountingSource:
    """Each tick `per_tick` FlowCounters whose counts go 1, 2, 3, ...: every one unique."""

    def __init__(self, org: str = "om", *, per_tick: int = 1) -> None:
        self.org = org
        self.link, self.direction = own_end(org)
        self.per_tick = per_tick
        self.produced = 0
        self.paused = False
        """While set: no readings (heartbeats go on)."""

    async def read(self, now: float) -> Sequence[Message]:
        if self.paused:
            return []
        first = self.produced + 1
        self.produced += self.per_tick
        return [FlowCounter(org=self.org, session=0, seq=0, ts=datetime.now(UTC),
                            link=self.link, direction=self.direction, count=count)
                for count in range(first, self.produced + 1)]


class AckedOutbox(Outbox):
    """The agent's real outbox, noting what it forgets because the broker has it."""

    acknowledged: list[Key]

    async def remove_through(self, last_id: int) -> None:
        async with self.db.execute(
            "SELECT payload FROM outbox WHERE id <= ? ORDER BY id", (last_id,)
        ) as cursor:
            rows = await cursor.fetchall()
        await super().remove_through(last_id)
        self.acknowledged.extend(key(reading(bytes(row[0]))) for row in rows)


def reading(payload: bytes) -> Message:
    """An agent's outbox holds only its readings."""
    decoded = decode(payload)
    assert isinstance(decoded, Message)
    return decoded


class AckedAgent(Agent):
    """An agent that notes which live readings the broker acknowledged."""

    acknowledged: list[Key]
    connections = 0
    publish_timeout: float | None = None
    """How long a publish waits for its PUBACK (aiomqtt's client timeout), when not its 10 s."""

    def _client(self, address: BrokerAddress) -> aiomqtt.Client:
        client = super()._client(address)
        if self.publish_timeout is not None:
            client.timeout = self.publish_timeout
        return client

    @property
    def connected(self) -> bool:
        return self._live is not None

    async def _work(self, client: aiomqtt.Client) -> None:
        self.connections += 1
        await super()._work(client)

    async def publish(self, client: aiomqtt.Client, message: Message) -> None:
        await super().publish(client, message)
        if not isinstance(message, Heartbeat | Status):
            self.acknowledged.append(key(message))


@asynccontextmanager
async def acked_agent(
    address: BrokerAddress, outbox_path: Path, *, session: int = 1, interval: float = 0.1,
    keepalive: int = 1, source: ReadingSource | None = None,
    clock: Callable[[], float] = time.time, publish_timeout: float | None = None,
) -> AsyncIterator[tuple[AckedAgent, AckedOutbox]]:
    """A running agent with an outbox; both note what the broker acknowledged."""
    outbox = AckedOutbox(outbox_path, max_messages=1_000_000)
    outbox.acknowledged = []
    await outbox.open()
    try:
        agent = AckedAgent("om", address, session=session, source=source or CountingSource(),
                           outbox=outbox, interval=interval, keepalive=keepalive, clock=clock)
        agent.acknowledged = []
        agent.publish_timeout = publish_timeout
        task = asyncio.create_task(agent.run())
        try:
            yield agent, outbox
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    finally:
        await outbox.close()


class Watch:
    """A monitor (as the TUI and recorder run it) folding into an engine, keeping every
    message it received as the recorder would store it."""

    def __init__(self, address: BrokerAddress, *, recorder: Recorder | None = None,
                 session: str | None = None, backoff: Backoff | None = None) -> None:
        """With `recorder`, everything received is also stored, as `ketenwacht record` does;
        with `session`, on a persistent session under that client id, as it does too."""
        self.engine = ChainEngine(load_topology(None))
        self.recorder = recorder
        self.monitor = Monitor(address, Topics(), session=session)
        self.backoff = backoff or Backoff(initial=0.05, maximum=0.25)
        """Fast by default, for tests; the bench uses the production one."""
        self.received: list[tuple[float, str, bytes, bool]] = []
        self._task: asyncio.Task[None] | None = None

    def _tap(self, at: float, topic: str, payload: bytes, qos: int, retain: bool,
             problem: str | None) -> None:
        self.received.append((at, topic, payload, retain))
        if self.recorder is not None:
            self.recorder.record(at, topic, payload, qos, retain, problem)

    async def feed(self, sink: MonitorSink) -> None:
        """Deliver into `sink` (e.g. the TUI's), recording as we go, until cancelled."""
        await self.monitor.run(sink, backoff=self.backoff, record=self._tap)

    async def __aenter__(self) -> Watch:
        self._task = asyncio.create_task(self.feed(EngineSink(self.engine)))
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def until_subscribed(self, within: float = 10) -> None:
        """Until the monitor is (again) subscribed: a probe published now reaches it.
        Connected is not enough: it subscribes just after."""
        deadline = time.monotonic() + within
        probe = f"probe {time.monotonic()}".encode()
        while time.monotonic() < deadline:
            with contextlib.suppress(aiomqtt.MqttError):
                async with make_client(self.monitor.address, identifier="probe") as client:
                    # No organisation's topic: refused as unattributed, no org's state changes.
                    await client.publish("keten/v1/_probe", probe, qos=1)
            for _ in range(10):
                if any(payload == probe for _, _, payload, _ in self.received):
                    return
                await asyncio.sleep(0.02)
        raise AssertionError(f"the monitor did not subscribe within {within}s")

    def org(self, org_id: str = "om") -> OrgView:
        return self.engine.view(time.time()).org(org_id)

    @property
    def connected(self) -> bool:
        return self.engine.view(time.time()).monitor_connected

    def flows(self) -> list[FlowCounter]:
        """Every flow reading received, in arrival order, retained copies left out."""
        found = []
        for _, topic, payload, retain in self.received:
            if "/flow/" in topic and not retain:
                message = decode(payload)
                assert isinstance(message, FlowCounter)
                found.append(message)
        return found

    def statuses(self) -> list[Status]:
        """Every status received, in arrival order."""
        found = []
        for _, topic, payload, _ in self.received:
            if topic.endswith("/status") and payload:
                message = decode(payload)
                assert isinstance(message, Status)
                found.append(message)
        return found

    def keys(self) -> set[Key]:
        return {key(m) for m in self.flows()}


async def recorded_flows(path: Path) -> list[FlowCounter]:
    """The flow readings in a recording (retained copies left out), in the order stored."""
    found = []
    with Recording(path) as recording:
        for row in recording.rows():
            if "/flow/" in row.topic and not row.retain:
                message = decode(row.payload)
                assert isinstance(message, FlowCounter)
                found.append(message)
    return found
