"""Faults between agent and broker (a proxy in between): latency and 1-byte fragments raise
no false alarm; a half-open connection or a reset is detected by keepalive and recovered
from without a restart, buffered readings delivered."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from chain.views import OrgState
from mqtt.address import BrokerAddress
from tests.conftest import until
from tests.e2e.faults import AckedAgent, AckedOutbox, CountingSource, Key, Watch, acked_agent
from tests.e2e.test_broker_restarts import states_seen
from tests.proxy import Proxy

pytestmark = pytest.mark.xdist_group("heavy")
"""On one worker, one after another with the other heavy tests: each loads the machine as a
crisis room would; side by side they would measure the machine, not the code."""

INTERVAL = 0.5
"""Heartbeat interval: STALE after 1.5 s without one."""
KEEPALIVE = 1
WATCHED = 4.0
STALL = 2.5
"""Longer than a publish waits for its PUBACK in the stall test, far below its keepalive."""


@pytest.mark.parametrize("fault", ["latency", "fragments"])
async def test_slow_or_fragmented_link_raises_no_false_alarm(
    any_broker: BrokerAddress, tmp_path: Path, fault: str
) -> None:
    """300 ms each way, or every byte its own write, five readings a tick: om stays ONLINE
    (heartbeats keep time), one connection, every reading recorded."""
    proxy = Proxy(any_broker)
    agent_side = await proxy.start()
    try:
        async with (
            Watch(any_broker) as watch,
            acked_agent(agent_side, tmp_path / "om.outbox", interval=INTERVAL,
                        keepalive=KEEPALIVE, source=CountingSource(per_tick=5)) as (agent, outbox),
        ):
            await until(lambda: watch.org().state is OrgState.ONLINE, within=10)
            if fault == "latency":
                proxy.latency = 0.3
            else:
                proxy.fragment = 1
            with states_seen(watch) as seen:
                await asyncio.sleep(WATCHED)
            assert seen == {OrgState.ONLINE}, f"om was shown {seen}"
            assert agent.connections == 1, "the agent never had to reconnect"

            def recorded() -> bool:
                """every acknowledged reading recorded"""
                return acknowledged(agent, outbox) <= watch.keys()

            await until(recorded, within=3)
            assert len(acknowledged(agent, outbox)) >= 20, (
                f"acknowledged live {len(agent.acknowledged)}, from the outbox "
                f"{len(outbox.acknowledged)}, still buffered {outbox.size}")
            await until(lambda: outbox.size == 0, within=3)
    finally:
        await proxy.stop()


def acknowledged(agent: AckedAgent, outbox: AckedOutbox) -> set[Key]:
    """What the broker acknowledged, whether it went live or from the outbox."""
    return set(agent.acknowledged) | set(outbox.acknowledged)


async def test_readings_buffered_while_connected_go_without_a_reconnect(
    any_broker: BrokerAddress, tmp_path: Path
) -> None:
    """The link stalls for longer than a publish waits for its PUBACK (1 s here) but not for
    long enough to be declared dead: the readings whose publish timed out wait in the outbox,
    and leave it as soon as the link flows again, on the same connection."""
    proxy = Proxy(any_broker)
    agent_side = await proxy.start()
    try:
        async with (
            Watch(any_broker) as watch,
            acked_agent(agent_side, tmp_path / "om.outbox", interval=INTERVAL, keepalive=30,
                        publish_timeout=1.0) as (agent, outbox),
        ):
            await until(lambda: watch.org().state is OrgState.ONLINE, within=10)
            proxy.stall()

            def buffered() -> bool:
                """a reading whose publish timed out went into the outbox"""
                return outbox.size > 0

            await until(buffered, within=5 + STALL)
            await asyncio.sleep(STALL)
            proxy.resume()

            def delivered() -> bool:
                """the outbox emptied on the connection it was filled on"""
                return outbox.size == 0 and bool(outbox.acknowledged)

            await until(delivered, within=10)
            assert agent.connections == 1, "the agent reconnected"

            def recorded() -> bool:
                """every acknowledged reading recorded"""
                return acknowledged(agent, outbox) <= watch.keys()

            await until(recorded, within=5)
    finally:
        await proxy.stop()


@pytest.mark.parametrize("fault", ["half-open", "reset"])
async def test_dead_connection_detected_and_recovered_without_restart(
    any_broker: BrokerAddress, tmp_path: Path, fault: str
) -> None:
    """Proxy stops forwarding (no FIN) or sends RST: the agent reconnects by itself, om is
    ONLINE again, readings buffered meanwhile arrive, nothing acknowledged is lost."""
    proxy = Proxy(any_broker)
    agent_side = await proxy.start()
    try:
        async with (
            Watch(any_broker) as watch,
            acked_agent(agent_side, tmp_path / "om.outbox", interval=INTERVAL,
                        keepalive=KEEPALIVE) as (agent, outbox),
        ):
            await until(lambda: watch.org().state is OrgState.ONLINE, within=10)
            await asyncio.sleep(1.0)
            faulted_at = time.monotonic()
            if fault == "half-open":
                proxy.stall()
            else:
                proxy.reset()

            def reconnected() -> bool:
                """the agent made a new connection through the proxy"""
                return agent.connections >= 2

            await until(reconnected, within=3 * KEEPALIVE + 2)
            reconnect = time.monotonic() - faulted_at
            birth = time.time()

            def recovered() -> bool:
                """om ONLINE on a heartbeat since the reconnect, and the outbox delivered"""
                org = watch.org()
                return (org.state is OrgState.ONLINE and org.heartbeat_age is not None
                        and time.time() - org.heartbeat_age > birth and outbox.size == 0)

            await until(recovered, within=5)
            recovery = time.monotonic() - faulted_at
            with states_seen(watch) as seen:
                await asyncio.sleep(2 * INTERVAL)
            assert seen == {OrgState.ONLINE}, f"after recovery om was shown {seen}"

            def recorded() -> bool:
                """every acknowledged reading recorded"""
                acknowledged = set(agent.acknowledged) | set(outbox.acknowledged)
                return acknowledged <= watch.keys()

            await until(recorded, within=3)
            assert agent.session == 1
            print(f"\nFIGURES {fault} reconnect={reconnect:.2f}s recovery={recovery:.2f}s "
                  f"buffered_delivered={len(outbox.acknowledged)}")
    finally:
        await proxy.stop()


async def test_reconnect_while_the_broker_still_holds_the_old_connection(
    any_broker: BrokerAddress, tmp_path: Path
) -> None:
    """The agent's side drops but the broker's lives on: the agent reconnects with the same
    client id, the broker drops the old connection (and may send its Will, same session),
    then the proxy lets go of it: om is never shown OFFLINE once the agent is back."""
    proxy = Proxy(any_broker)
    proxy.hold_open = True
    agent_side = await proxy.start()
    try:
        async with (
            Watch(any_broker) as watch,
            acked_agent(agent_side, tmp_path / "om.outbox", interval=INTERVAL,
                        keepalive=KEEPALIVE) as (agent, _),
        ):
            await until(lambda: watch.org().state is OrgState.ONLINE, within=10)
            proxy.drop_clients()
            await until(lambda: agent.connections >= 2, within=5)
            await until(lambda: watch.org().state is OrgState.ONLINE, within=5)
            with states_seen(watch) as seen:
                await asyncio.sleep(0.5 * KEEPALIVE)
                proxy.release_dropped()
                await asyncio.sleep(2 * KEEPALIVE)
            wills = [s for s in watch.statuses() if s.cause == "lost"]
            print(f"\nFIGURES takeover: Wills seen {len(wills)}, states {sorted(seen)}")
            assert OrgState.OFFLINE not in seen, f"om was shown {seen} (Wills: {wills})"
    finally:
        await proxy.stop()
