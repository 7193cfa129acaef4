"""All that Ketenwacht's code takes from aiomqtt's (2.5) and paho's (2.x) private parts.

Each item says why there is no public route. tests/mqtt/test_client_internals.py pins them,
so an upgrade that moves one fails there by name instead of quietly bringing back its bug.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, Final

import aiomqtt
import paho.mqtt.client as mqtt
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

REPLACEMENT: Final = "\ufffd"


class PatchedClient(aiomqtt.Client):
    """aiomqtt's client with two of its paho callbacks overridden. aiomqtt hands paho its own
    bound methods while constructing, and offers no hook of its own for either."""

    session_present = False
    """Whether the broker still had our session, by the last CONNACK."""

    def _on_connect(
        self, client: mqtt.Client, userdata: Any, flags: mqtt.ConnectFlags,
        reason_code: ReasonCode, properties: Properties | None = None,
    ) -> None:
        # The CONNACK flags reach this callback and nothing else; aiomqtt drops them.
        self.session_present = bool(flags.session_present)
        super()._on_connect(client, userdata, flags, reason_code, properties)

    def _on_socket_register_write(self, client: mqtt.Client, userdata: Any, sock: Any) -> None:
        # aiomqtt adds the writer one loop iteration later, with the descriptor read now; a
        # connection dropped in between leaves a closed socket, and asyncio printed the
        # OSError as a traceback. Its own version is a closure, so it cannot be wrapped.
        def write() -> None:
            try:
                client.loop_write()
            except Exception as error:  # what aiomqtt does: the connection is broken
                lost(self, error)

        def register() -> None:
            with contextlib.suppress(OSError, ValueError):
                self._loop.add_writer(sock.fileno(), write)

        # Called from paho's connect, in an executor thread: hence aiomqtt's loop, not ours.
        self._loop.call_soon_threadsafe(register)


def disconnection(client: aiomqtt.Client) -> asyncio.Future[None] | None:
    """The future aiomqtt completes when the connection ends, or None for a client without.

    aiomqtt shows it only through `client.messages`, and waiting on that takes a message:
    neither a subscription's race against a dropped link nor a publishing-only client that
    has to mark the error seen can use it."""
    future = getattr(client, "_disconnected", None)
    return future if isinstance(future, asyncio.Future) else None


def lost(client: aiomqtt.Client, error: Exception) -> None:
    """End the connection with `error`, as aiomqtt's own socket callbacks do."""
    future = disconnection(client)
    if future is not None and not future.done():
        future.set_exception(error)


def stop_keepalive_check(client: aiomqtt.Client) -> None:
    """Stop the task in which aiomqtt runs paho's keepalive check every second.

    aiomqtt starts and stops it on its own and has no switch for it. When the check falls due
    while we leave, paho closes the socket before the DISCONNECT is written, and the broker
    publishes our Will after a planned stop."""
    task = getattr(client, "_misc_task", None)
    if isinstance(task, asyncio.Task):
        task.cancel()


def readable(raw: bytes) -> str:
    """The topic as text that aiomqtt accepts: bad UTF-8, wildcards and emptiness replaced."""
    text = raw.decode("utf-8", errors="replace").replace("+", REPLACEMENT)
    return text.replace("#", REPLACEMENT) or REPLACEMENT


def tolerate_hostile_topics(client: aiomqtt.Client) -> None:
    """Let a topic that no client library accepts through, made readable, instead of dropping
    the connection on it.

    MQTT forbids invalid UTF-8, wildcards and empty names in a published topic. Mosquitto and
    NATS disconnect a client that publishes one, but a broker that forwarded one anyway would
    make paho raise while decoding it (`UnicodeDecodeError`) or aiomqtt while checking it
    (`ValueError`), inside paho's read loop: the connection drops, and a retained one drops
    it again on every resubscribe, leaving the screen UNKNOWN for good. Made readable, with
    U+FFFD for what offends, the monitor refuses it like any other bad topic (unattributed:
    no organisation can be read from it) and stays connected.
    """
    # aiomqtt keeps its paho client to itself and offers no hook before it decodes a topic.
    paho: mqtt.Client = client._client
    deliver = paho.on_message
    if deliver is None:
        return

    def on_message(own: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        try:
            aiomqtt.Topic(message.topic)
        except (UnicodeDecodeError, ValueError):
            # paho's `topic` decodes on every read; only the private field has the bytes.
            message.topic = readable(message._topic).encode()
        deliver(own, userdata, message)

    paho.on_message = on_message
