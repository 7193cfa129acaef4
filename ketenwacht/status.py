"""`ketenwacht status`: a one-shot, headless snapshot of the chain."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Sequence

import aiomqtt
import msgspec

from chain import vocabulary
from chain.engine import ChainEngine
from chain.errors import BrokerUnavailableError
from chain.inbox import EngineSink
from chain.printable import inert_json, visible
from chain.topics import Topics
from chain.topology import Topology
from chain.views import ChainView, OrgState
from mqtt.address import BrokerAddress, as_brokers
from mqtt.connection import make_client
from mqtt.monitor import Monitor
from playback.following import ExerciseFollower, FollowingSink
from tui import format as fmt


async def snapshot(
    topology: Topology, brokers: BrokerAddress | Sequence[BrokerAddress], topics: Topics, *,
    wait: float,
) -> ChainView:
    """Listen for `wait` seconds (retained state arrives at once, heartbeats as they come),
    on the first of `brokers` that answers."""
    failures = []
    for address in as_brokers(brokers):
        try:
            return await _snapshot(topology, address, topics, wait=wait)
        except aiomqtt.MqttError as error:
            failures.append(f"{address.url}: {error}")
    raise BrokerUnavailableError(f"status: cannot reach broker {'; '.join(failures)}")


async def _snapshot(
    topology: Topology, address: BrokerAddress, topics: Topics, *, wait: float
) -> ChainView:
    engine = ChainEngine(topology)
    # An exercise's state is in the exercise's time, on its clock, as its players see it.
    follower = ExerciseFollower(topics.root) if topics.is_exercise else None
    sink = EngineSink(engine) if follower is None else FollowingSink(engine, follower)
    clock = time.time if follower is None else follower.now
    monitor = Monitor(address, topics, clock=clock)
    client = make_client(address, identifier=f"ketenwacht-status-{uuid.uuid4().hex[:8]}")
    async with client:
        sink.connection_changed(True, clock())
        await client.subscribe(topics.everything, qos=1)

        async def listen() -> None:
            async for received in client.messages:
                monitor.dispatch(sink, received.topic.value, received.payload, received.retain)

        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(wait):
                await listen()
    return engine.view(clock())


def as_json(view: ChainView) -> str:
    """The exact strings agents and operators sent (a JSON reader gets them back), written
    so that printing the document to a terminal sends it no control or bidi character."""
    return inert_json(msgspec.json.format(msgspec.json.encode(view), indent=2).decode())


def as_text(view: ChainView) -> str:
    """One line per organisation; causes come from agents and operators, so `visible`."""
    lines = [
        f"{'organisation':<14} {'state':<11} {'since':<13} {'heartbeat':>9}  "
        f"{'email':<9} {'phone':<9} {'backlog':>8}  cause"
    ]
    for org in view.orgs:
        lines.append(
            f"{visible(org.id):<14} {vocabulary.label(org.state):<11} "
            f"{fmt.clock_time(org.since, view.at):<13} {fmt.age(org.heartbeat_age):>9}  "
            f"{fmt.channel(org.channel('email')):<9} {fmt.channel(org.channel('phone')):<9} "
            f"{fmt.count(org.backlog_total):>8}  {visible(org.cause)}"
        )
    # The totals keep the lower-case value, as `--json` and the agents' messages spell it.
    totals = ", ".join(f"{view.count(s)} {s.value}" for s in OrgState if view.count(s))
    unattributed = f" ({view.unattributed} on no organisation's topic)" if view.unattributed else ""
    unknown = f"; {visible(view.unknown_senders)}" if view.unknown_senders else ""
    lines.append(f"{len(view.orgs)} organisations: {totals}; {view.rejected} payloads rejected"
                 + unattributed + unknown)
    return "\n".join(lines)
