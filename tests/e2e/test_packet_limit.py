"""The packet limit `broker init` sets, on Mosquitto and on a NATS node, and the embedded
broker's: a payload just within it is delivered; one over it never arrives, and its
publisher loses the connection."""

from __future__ import annotations

import asyncio
import contextlib
import uuid

import aiomqtt
import pytest

from broker.embedded import EmbeddedBroker
from broker.limits import MAX_PACKET_BYTES
from mqtt.connection import make_client
from tests.e2e.secured import ADMIN, SecuredBroker

pytestmark = pytest.mark.asyncio(loop_scope="module")

TOPIC = "keten/v1/om/flow/om-justid"
WITHIN = MAX_PACKET_BYTES - 1024
"""A payload that leaves room for the topic and the packet's own header."""
OVER = MAX_PACKET_BYTES + 1


async def offered(publisher: aiomqtt.Client, watcher: aiomqtt.Client,
                  size: int) -> tuple[list[int], bool]:
    """Publish `size` bytes at QoS 1: the sizes `watcher` received, and whether the
    publisher still has its connection."""
    arrived: list[int] = []

    async def watch() -> None:
        async for message in watcher.messages:
            assert isinstance(message.payload, bytes)
            arrived.append(len(message.payload))

    await watcher.subscribe(TOPIC, qos=1)
    watching = asyncio.create_task(watch())
    try:
        with contextlib.suppress(TimeoutError):  # refused: no PUBACK ever comes
            await asyncio.wait_for(publisher.publish(TOPIC, b"x" * size, qos=1), 3)
        try:
            await asyncio.wait_for(publisher.publish(TOPIC, b"after", qos=1), 3)
            connected = True
        except aiomqtt.MqttError:
            connected = False
        await asyncio.sleep(0.5)
    finally:
        watching.cancel()
        await asyncio.gather(watching, return_exceptions=True)
    return [length for length in arrived if length != len(b"after")], connected


@pytest.mark.parametrize(("size", "delivered"), [(WITHIN, True), (OVER, False)])
async def test_broker_init_setups_refuse_a_packet_over_the_limit(
    secured: SecuredBroker, size: int, delivered: bool
) -> None:
    """om publishes 63 KiB, then 64 KiB + 1 byte, on its own topic: the first is delivered,
    the second never, and om is disconnected for it."""
    async with secured.client(ADMIN) as watcher, secured.client("om") as om:
        arrived, connected = await offered(om, watcher, size)
    assert (arrived, connected) == (([size], True) if delivered else ([], False))


@pytest.mark.parametrize(("size", "delivered"), [(WITHIN, True), (OVER, False)])
async def test_the_embedded_broker_refuses_a_packet_over_the_limit(
    size: int, delivered: bool
) -> None:
    """The same on the embedded broker (`ketenwacht broker`, the demo's)."""
    async with EmbeddedBroker() as broker:
        watcher = make_client(broker.address, identifier=f"watcher-{uuid.uuid4().hex[:8]}")
        om = make_client(broker.address, identifier=f"om-{uuid.uuid4().hex[:8]}")
        async with watcher, om:
            arrived, connected = await offered(om, watcher, size)
    assert (arrived, connected) == (([size], True) if delivered else ([], False))
