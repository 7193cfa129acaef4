"""Connecting to a broker, and staying connected: reconnect with jittered exponential backoff."""

from __future__ import annotations

import asyncio
import logging
import random
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import aiomqtt

from broker.address import BrokerAddress

ConnectionListener = Callable[[bool, float], None]
"""Called with (connected, wall-clock time) on every change of connection state."""


@dataclass
class Backoff:
    """Full-jitter exponential backoff, so a fleet of agents does not reconnect in lockstep."""

    initial: float = 0.25
    maximum: float = 4.0
    """Kept low so that agents are back within seconds of the broker's return."""
    _attempt: int = field(default=0, init=False)
    _random: random.Random = field(default_factory=random.Random, repr=False)

    def next_delay(self) -> float:
        ceiling = min(self.maximum, self.initial * 2**self._attempt)
        self._attempt += 1
        return self._random.uniform(ceiling / 2, ceiling)

    def reset(self) -> None:
        self._attempt = 0


def make_client(
    address: BrokerAddress,
    *,
    identifier: str,
    will: aiomqtt.Will | None = None,
    keepalive: int = 30,
    timeout: float = 10.0,
    tls_context: ssl.SSLContext | None = None,
) -> aiomqtt.Client:
    if address.tls and tls_context is None:
        tls_context = ssl.create_default_context()
    return aiomqtt.Client(
        address.host,
        address.port,
        username=address.username,
        password=address.password,
        identifier=identifier,
        will=will,
        keepalive=keepalive,
        timeout=timeout,
        clean_session=True,
        tls_context=tls_context,
        logger=logging.getLogger("ketenwacht.mqtt"),
    )


async def run_connected(
    connect: Callable[[], aiomqtt.Client],
    work: Callable[[aiomqtt.Client], Awaitable[None]],
    *,
    logger: logging.Logger,
    on_connection: ConnectionListener | None = None,
    backoff: Backoff | None = None,
) -> None:
    """Run `work` on a fresh connection, reconnecting whenever the broker goes away.

    Returns when `work` returns. An aiomqtt client is reusable but not reentrant, so each
    attempt builds a new one through `connect`.
    """
    backoff = backoff or Backoff()
    failures = 0
    while True:
        client = connect()
        connected = False
        try:
            async with client:
                connected = True
                failures = 0
                backoff.reset()
                if on_connection:
                    on_connection(True, time.time())
                await work(client)
                return
        except aiomqtt.MqttError as error:
            _retrieve_disconnect_error(client)
            failures += 1
            if on_connection and (connected or failures == 1):
                on_connection(False, time.time())
            delay = backoff.next_delay()
            # One warning per outage; the retries after it only at info level.
            level = logging.WARNING if failures == 1 else logging.INFO
            what = "connection lost" if connected else "cannot connect"
            logger.log(level, "broker %s: %s; retrying in %.1fs", what, error, delay)
            await asyncio.sleep(delay)


async def until_disconnected(client: aiomqtt.Client) -> None:
    """Return nothing, ever: raise MqttError once the connection drops. For clients that only
    publish (and so never iterate messages themselves)."""
    async for _ in client.messages:
        pass
    raise aiomqtt.MqttError("message iteration ended")


def _retrieve_disconnect_error(client: aiomqtt.Client) -> None:
    """aiomqtt stores an unexpected disconnection on a future that only its message iterator
    awaits; a publishing-only client never does, and asyncio then logs "Future exception was
    never retrieved" at shutdown. We have handled the error, so mark it retrieved."""
    disconnected = getattr(client, "_disconnected", None)
    if isinstance(disconnected, asyncio.Future) and disconnected.done():
        if not disconnected.cancelled():
            disconnected.exception()
