"""A late Last Will on an agent's retained status topic is answered with its birth again, so
that a monitor starting afterwards never reads a live agent as OFFLINE; its own birth and
stop, and garbage on the topic, start nothing."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import aiomqtt
import pytest

from chain.errors import PayloadError
from chain.topics import Topics
from chain.views import OrgState
from chain.wire import WILL_SEQ, Message, Status, decode, encode
from mqtt.address import BrokerAddress
from mqtt.connection import make_client
from tests.conftest import until
from tests.e2e.faults import AckedAgent, Watch, acked_agent
from tests.e2e.test_broker_restarts import states_seen

SESSION = 2
INTERVAL = 30.0
"""Far beyond each test: no heartbeat after the first can be what brings om back."""
STATUS = Topics().status("om")


class Silent:
    """No readings: nothing retained of the agent's session but its status, which is what a
    monitor starting late has to go by."""

    async def read(self, now: float) -> Sequence[Message]:
        return []


def will(session: int) -> bytes:
    return encode(Status(org="om", session=session, seq=WILL_SEQ, ts=datetime.now(UTC),
                         state="offline", cause="lost"))


@asynccontextmanager
async def running_agent(address: BrokerAddress, tmp_path: Path) -> AsyncIterator[AckedAgent]:
    """om's agent, session 2, connected and born."""
    async with acked_agent(address, tmp_path / "outbox.db", session=SESSION, interval=INTERVAL,
                           keepalive=5, source=Silent()) as (agent, _):
        await until(lambda: agent.connected, within=10)
        yield agent


@asynccontextmanager
async def status_log(address: BrokerAddress) -> AsyncIterator[list[bytes]]:
    """Every payload on om's status topic, from now on (after any retained one)."""
    seen: list[bytes] = []

    async def collect(client: aiomqtt.Client) -> None:
        async for message in client.messages:
            assert isinstance(message.payload, bytes)
            if not message.retain:
                seen.append(message.payload)

    async with make_client(address, identifier="status-log") as client:
        await client.subscribe(STATUS, qos=1)
        task = asyncio.create_task(collect(client))
        try:
            yield seen
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def births(payloads: list[bytes]) -> list[Status]:
    """The online statuses of session 2 among `payloads`."""
    found = []
    for payload in payloads:
        with contextlib.suppress(PayloadError):
            message = decode(payload)
            if isinstance(message, Status) and message.state == "online" and (
                message.session == SESSION
            ):
                found.append(message)
    return found


async def publish(address: BrokerAddress, payload: bytes) -> None:
    """Someone (a broker sending a Will late, an operator) puts `payload` on om's status."""
    async with make_client(address, identifier="someone") as client:
        await client.publish(STATUS, payload, qos=1, retain=True)


async def retained_status(address: BrokerAddress) -> bytes:
    """What a client subscribing now gets as om's retained status."""
    async with make_client(address, identifier="fresh") as client:
        await client.subscribe(STATUS, qos=1)
        async with asyncio.timeout(5):
            async for message in client.messages:
                assert isinstance(message.payload, bytes)
                return message.payload
    raise AssertionError("no retained status")


@pytest.mark.parametrize("will_session", [SESSION - 1, SESSION])
async def test_a_late_will_is_answered_with_one_birth(
    any_broker: BrokerAddress, tmp_path: Path, will_session: int
) -> None:
    """After a late Will (older session or own) a new monitor shows om ONLINE only; one rebirth."""
    async with running_agent(any_broker, tmp_path) as agent, status_log(any_broker) as log:
        await publish(any_broker, will(will_session))
        async with Watch(any_broker) as latecomer:

            def online() -> bool:
                """the monitor that started after the Will shows om ONLINE"""
                return latecomer.org().state is OrgState.ONLINE

            await until(online, within=3)
            with states_seen(latecomer) as seen:
                await asyncio.sleep(1.5)
            assert seen == {OrgState.ONLINE}
            assert latecomer.org().session == SESSION
        retained = decode(await retained_status(any_broker))
        assert isinstance(retained, Status)
        assert (retained.session, retained.state) == (SESSION, "online")
        assert retained.seq > 1, "the retained status is the first birth, not a new one"
        assert len(births(log)) == 1
        assert agent.connections == 1


async def test_the_agents_own_birth_and_stop_start_no_other_birth(
    any_broker: BrokerAddress, tmp_path: Path
) -> None:
    """Left alone, and through its planned stop, om publishes exactly one birth."""
    async with status_log(any_broker) as log:
        async with running_agent(any_broker, tmp_path):
            await asyncio.sleep(2)
        await asyncio.sleep(0.5)
        assert len(births(log)) == 1
        stop = decode(log[-1])
        assert isinstance(stop, Status) and stop.cause == "stopped"


async def test_a_newer_sessions_will_or_garbage_on_the_topic_changes_nothing(
    any_broker: BrokerAddress, tmp_path: Path
) -> None:
    """Garbage, no payload or a newer session's Will: no birth, no crash; a late Will still is."""
    async with running_agent(any_broker, tmp_path) as agent, status_log(any_broker) as log:
        for payload in (b"\xff not json", b'{"kind":"status"}', b"", will(SESSION + 1)):
            await publish(any_broker, payload)
        await asyncio.sleep(1)
        assert births(log) == []
        await publish(any_broker, will(SESSION - 1))

        def born_again() -> bool:
            """om published its birth again"""
            return len(births(log)) == 1

        await until(born_again, within=2)
        assert agent.connected and agent.connections == 1
