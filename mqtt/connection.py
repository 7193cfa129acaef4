"""Connecting to a broker, and staying connected: reconnect with jittered exponential backoff."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import ssl
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import aiomqtt

from mqtt.address import BrokerAddress
from mqtt.aiomqtt_internals import (
    PatchedClient,
    disconnection,
    stop_keepalive_check,
    tolerate_hostile_topics,
)
from mqtt.tls import client_context

DISCONNECT_TIMEOUT = 2.0
CANCEL_NUDGE_INTERVAL = 0.1

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


class Client(PatchedClient):
    """aiomqtt's client, noting whether the broker still had our session (`session_present`)
    and leaving without a keepalive check in the way."""

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # A keepalive check falling due while we leave would cost us our Will: none by now.
        stop_keepalive_check(self)
        await super().__aexit__(exc_type, exc, tb)


def make_client(
    address: BrokerAddress,
    *,
    identifier: str,
    will: aiomqtt.Will | None = None,
    keepalive: int = 30,
    timeout: float = 10.0,
    tls_context: ssl.SSLContext | None = None,
    clean_session: bool = True,
) -> Client:
    """`clean_session=False`: the broker keeps this client id's subscriptions while it is
    away and queues its QoS 1 messages for it."""
    if address.tls and tls_context is None:
        identity = address.identity
        tls_context = ssl.create_default_context() if identity is None else client_context(
            ca_file=identity.ca_file, cert_file=identity.cert_file,
            key_file=identity.key_file, origin=f"--identity {identity.folder}",
        )
    client = Client(
        address.host,
        address.port,
        username=address.username,
        password=address.password,
        identifier=identifier,
        will=will,
        keepalive=keepalive,
        timeout=timeout,
        clean_session=clean_session,
        tls_context=tls_context,
        logger=logging.getLogger("ketenwacht.mqtt"),
    )
    tolerate_hostile_topics(client)
    return client


async def run_connected(
    connect: Callable[[BrokerAddress], aiomqtt.Client],
    brokers: Sequence[BrokerAddress],
    work: Callable[[aiomqtt.Client], Awaitable[None]],
    *,
    logger: logging.Logger,
    on_connection: ConnectionListener | None = None,
    backoff: Backoff | None = None,
    first: int = 0,
    clock: Callable[[], float] = time.time,
) -> None:
    """Run `work` on a fresh connection, reconnecting whenever the broker goes away.

    Each attempt after a failure or a lost connection goes to the next of `brokers` (the
    nodes of a cluster; one broker is tried again), after the same backoff. Returns when
    `work` returns. Each attempt builds its client through `connect`: it may be for another
    node, and an aiomqtt client whose leaving timed out stays locked, not reusable.
    `clock` dates the connection events: an exercise's or a replay's, where messages carry
    that time too, so the engine is told one clock.
    """
    backoff = backoff or Backoff()
    failures = 0
    index = first % len(brokers)
    while True:
        address = brokers[index]
        client = connect(address)
        connected = False
        ended: BaseException | None = None
        try:
            async with client:
                connected = True
                try:
                    failures = 0
                    backoff.reset()
                    if on_connection:
                        on_connection(True, clock())
                    await work(client)
                except BaseException as error:
                    ended = error
                    raise
                finally:
                    _prepare_to_leave(client)
            return
        except aiomqtt.MqttError as error:
            if not connected:
                failures += 1
                index = (index + 1) % len(brokers)
                if on_connection and failures == 1:
                    on_connection(False, clock())
                await _pause(logger, backoff, failures,
                             f"{_name(address, brokers)}cannot connect: {error}")
                continue
            lost = _what_ended(ended)
            if lost is None:
                return
        finally:
            _retrieve_disconnect_error(client)
        failures += 1
        index = (index + 1) % len(brokers)
        if on_connection:
            on_connection(False, clock())
        await _pause(logger, backoff, failures,
                     f"{_name(address, brokers)}connection lost: {lost}")


def _prepare_to_leave(client: aiomqtt.Client) -> None:
    """Never wait long for a broker that does not answer: aiomqtt waits up to `timeout` for
    the socket to close after our DISCONNECT, and raises MqttError if it does not."""
    client.timeout = DISCONNECT_TIMEOUT
    _retrieve_disconnect_error(client)


def _what_ended(ended: BaseException | None) -> aiomqtt.MqttError | None:
    """The MqttError that ended a connection, or None when `work` returned; `ended` is what
    `work` raised. Called when `async with client` let an MqttError out: if not `ended`, it
    came from leaving (see _prepare_to_leave), which is no news, the connection being over
    either way, and must not hide what ended it: least of all a planned stop's cancellation."""
    if ended is None or isinstance(ended, aiomqtt.MqttError):
        return ended
    raise ended


def _name(address: BrokerAddress, brokers: Sequence[BrokerAddress]) -> str:
    return f"{address.url}: " if len(brokers) > 1 else ""


async def _pause(logger: logging.Logger, backoff: Backoff, failures: int, why: str) -> None:
    delay = backoff.next_delay()
    # One warning per outage; the retries after it only at info level.
    level = logging.WARNING if failures == 1 else logging.INFO
    logger.log(level, "broker %s; retrying in %.1fs", why, delay)
    await asyncio.sleep(delay)


async def cancel_and_wait(*tasks: asyncio.Task[None]) -> None:
    """Cancel tasks and wait until they have ended, cancelling again while they have not.

    On Python 3.11, asyncio.wait_for (used inside aiomqtt) can swallow a cancellation that
    coincides with its result, so one cancel() is not always enough.
    """
    pending = {task for task in tasks if not task.done()}
    while pending:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=CANCEL_NUDGE_INTERVAL)
    for task in tasks:
        if not task.cancelled():
            task.exception()


async def subscribe(client: aiomqtt.Client, topic_filter: str, *, qos: int) -> None:
    """Subscribe, and raise MqttError as soon as the connection drops meanwhile: aiomqtt
    would wait out its whole timeout for a SUBACK that cannot come, and a monitor would
    say "connected" all that time about a broker that is gone."""
    subscribing = asyncio.ensure_future(client.subscribe(topic_filter, qos=qos))
    disconnected = disconnection(client)
    if disconnected is None:
        await subscribing
        return
    racing: set[asyncio.Future[Any]] = {subscribing, disconnected}
    try:
        await asyncio.wait(racing, return_when=asyncio.FIRST_COMPLETED)
    finally:
        if not subscribing.done():
            subscribing.cancel()
            with contextlib.suppress(asyncio.CancelledError, aiomqtt.MqttError):
                await subscribing
    if subscribing.cancelled():
        raise aiomqtt.MqttError(f"connection lost while subscribing to {topic_filter}")
    subscribing.result()


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
    disconnected = disconnection(client)
    if disconnected is not None and disconnected.done() and not disconnected.cancelled():
        disconnected.exception()
