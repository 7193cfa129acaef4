"""What mqtt/aiomqtt_internals.py takes from aiomqtt's and paho's private parts, pinned: an
upgrade that moves one fails here, by name, instead of silently bringing back the bug it fixes.

Each check names the part; its message says which module to revisit."""

from __future__ import annotations

import asyncio
import inspect
import socket
from importlib import metadata

import aiomqtt
import paho.mqtt.client as mqtt
from paho.mqtt.enums import MQTTErrorCode

from mqtt.address import BrokerAddress
from mqtt.aiomqtt_internals import (
    PatchedClient,
    disconnection,
    lost,
    readable,
    tolerate_hostile_topics,
)
from mqtt.connection import Client, make_client


def changed(name: str, package: str = "aiomqtt") -> str:
    version = ".".join(metadata.version(package).split(".")[:2])
    return f"{package} {version} changed {name}: mqtt/aiomqtt_internals.py must be revisited"


async def test_the_private_parts_we_use_are_still_there() -> None:
    """aiomqtt: its paho client, the misc task, the disconnect future, its loop and the two
    callbacks we override."""
    client = aiomqtt.Client("127.0.0.1", 1)
    for name in ("_misc_task", "_disconnected", "_loop", "_client"):
        assert hasattr(client, name), changed(f"Client.{name}")
    for name in ("_on_connect", "_on_socket_register_write", "_misc_loop"):
        assert callable(getattr(aiomqtt.Client, name, None)), changed(f"Client.{name}()")
    assert issubclass(Client, aiomqtt.Client)


async def test_paho_calls_the_callbacks_we_override() -> None:
    """The overrides only work because aiomqtt hands its own bound methods to paho while
    constructing, and calls them with these parameters."""
    client = PatchedClient("127.0.0.1", 1)
    paho = getattr(client, "_client", None)
    assert isinstance(paho, mqtt.Client), changed("Client._client")
    assert paho.on_connect == client._on_connect, changed("Client._on_connect()")
    assert paho.on_socket_register_write == client._on_socket_register_write, \
        changed("Client._on_socket_register_write()")
    for name in ("_on_connect", "_on_socket_register_write"):
        ours = inspect.signature(getattr(PatchedClient, name)).parameters
        theirs = inspect.signature(getattr(aiomqtt.Client, name)).parameters
        assert list(ours) == list(theirs), changed(f"Client.{name}()'s parameters")
    assert getattr(client, "_loop", None) is asyncio.get_running_loop(), changed("Client._loop")


async def test_on_connect_gets_the_session_flag(mosquitto: BrokerAddress) -> None:
    """The persistent session is new on the first connect and still there on the second."""
    for expected in (False, True):
        client = make_client(mosquitto, identifier="pinned-session", clean_session=False)
        async with client:
            assert client.session_present is expected, changed("Client._on_connect()'s flags")


async def test_the_disconnect_future_is_completed_by_a_dropped_link(
    mosquitto: BrokerAddress,
) -> None:
    """subscribe() races it against a SUBACK; a publishing-only client marks it seen."""
    client = make_client(mosquitto, identifier="pinned-drop")
    async with client:
        future = disconnection(client)
        assert future is not None and not future.done(), changed("Client._disconnected")
        sock = client._client.socket()
        assert isinstance(sock, socket.socket)
        sock.shutdown(socket.SHUT_RDWR)
        await asyncio.wait([future], timeout=5)
        assert future.done() and future.exception() is not None, \
            changed("Client._disconnected (not completed when the link drops)")


async def test_failing_the_disconnect_future_ends_message_iteration() -> None:
    """What a failed write does, as aiomqtt's own callbacks do (lost())."""
    client = aiomqtt.Client("127.0.0.1", 1)
    error = OSError("pinned")
    lost(client, error)
    try:
        async with asyncio.timeout(5):
            await anext(client.messages)
    except aiomqtt.MqttError as ended:
        cause = ended.__cause__
    else:
        cause = None
    assert cause is error, changed("Client._disconnected (message iteration ignores it)")


async def test_a_hostile_topic_is_read_from_pahos_raw_bytes() -> None:
    """paho keeps the undecoded topic in MQTTMessage._topic and delivers through the
    on_message that aiomqtt set on its paho client."""
    raw = b"keten/v1/\xff/+"
    message = mqtt.MQTTMessage(topic=raw)
    assert getattr(message, "_topic", None) == raw, \
        changed("MQTTMessage._topic", package="paho-mqtt")
    client = aiomqtt.Client("127.0.0.1", 1)
    tolerate_hostile_topics(client)
    paho = client._client
    assert paho.on_message is not None, changed("Client._client.on_message")
    paho.on_message(paho, None, message)
    assert len(client.messages) == 1, changed("Client._client.on_message")
    received = await anext(client.messages)
    assert received.topic.value == readable(raw), changed("MQTTMessage._topic", "paho-mqtt")


async def test_leaving_stops_the_keepalive_check_before_the_disconnect_is_queued(
    nats: BrokerAddress,
) -> None:
    """paho's keepalive check, falling due between DISCONNECT queued and written, closes the
    socket without it and the broker sends our Will after a planned stop (1 in 200 agent
    stops under load): by the time DISCONNECT is queued the check no longer runs."""
    client = make_client(nats, identifier="leaving", keepalive=1,
                         will=aiomqtt.Will("test/leaving", b"lost", qos=1))
    seen: list[bool] = []
    async with client:
        await asyncio.sleep(0.05)  # the misc task has started
        misc = getattr(client, "_misc_task", None)
        assert isinstance(misc, asyncio.Task), changed("Client._misc_task")
        assert not misc.done()
        queue_disconnect = client._client.disconnect

        def disconnect(*args: object, **kwargs: object) -> MQTTErrorCode:
            seen.append(misc.cancelling() > 0 or misc.done())
            return queue_disconnect()

        client._client.disconnect = disconnect  # type: ignore[method-assign]
    assert seen == [True]
