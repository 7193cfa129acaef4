"""What mqtt/connection.py takes from aiomqtt's and paho's private parts, pinned: an upgrade
that moves them fails here, by name, instead of silently bringing back the bug each one fixes."""

from __future__ import annotations

import asyncio

import aiomqtt
from paho.mqtt.enums import MQTTErrorCode

from mqtt.address import BrokerAddress
from mqtt.connection import Client, make_client


async def test_the_private_parts_we_use_are_still_there() -> None:
    """aiomqtt: the misc task, the disconnect future and the two callbacks we override."""
    client = aiomqtt.Client("127.0.0.1", 1)
    for name in ("_misc_task", "_disconnected", "_loop"):
        assert hasattr(client, name), f"aiomqtt.Client lost {name}"
    for name in ("_on_connect", "_on_socket_register_write", "_misc_loop"):
        assert callable(getattr(aiomqtt.Client, name, None)), f"aiomqtt.Client lost {name}()"
    assert issubclass(Client, aiomqtt.Client)


async def test_leaving_stops_the_keepalive_check_before_the_disconnect_is_queued(
    nats: BrokerAddress,
) -> None:
    """paho's keepalive check, falling due between DISCONNECT queued and written, closes the
    socket without it and the broker sends our Will after a planned stop (1 in 200 agent
    stops under load): by the time DISCONNECT is queued the check no longer runs."""
    client = make_client(nats, identifier="leaving", keepalive=1,
                         will=aiomqtt.Will("test/leaving", b"lost", qos=1))
    await client.__aenter__()
    await asyncio.sleep(0.05)  # the misc task has started
    misc = client._misc_task
    assert misc is not None and not misc.done()
    seen: list[bool] = []
    queue_disconnect = client._client.disconnect

    def disconnect(*args: object, **kwargs: object) -> MQTTErrorCode:
        seen.append(misc.cancelling() > 0 or misc.done())
        return queue_disconnect()

    client._client.disconnect = disconnect  # type: ignore[method-assign]
    await client.__aexit__(None, None, None)
    assert seen == [True]
