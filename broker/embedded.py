"""The embedded amqtt broker, so one command runs the whole chain on a laptop."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from types import TracebackType
from typing import Any

from broker.address import BrokerAddress
from chain.errors import BrokerUnavailable, UsageError

STOP_NUDGE_INTERVAL = 0.5

for _noisy in ("amqtt", "transitions"):
    logging.getLogger(_noisy).setLevel(logging.ERROR)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class EmbeddedBroker:
    """An in-process amqtt broker; `async with EmbeddedBroker() as broker: broker.address`.

    It allows anonymous clients, so it only ever binds to loopback.
    """

    def __init__(self, host: str = "127.0.0.1", port: int | None = None) -> None:
        if not is_loopback(host):
            raise UsageError(
                f"embedded broker: refusing to listen on {host}: without credentials and ACLs "
                "it binds loopback only (use 127.0.0.1)"
            )
        self.address = BrokerAddress(host=host, port=port or free_port(host))
        self._broker: Any = None

    def _config(self) -> dict[str, Any]:
        return {
            "listeners": {
                "default": {"type": "tcp", "bind": f"{self.address.host}:{self.address.port}"}
            },
            "plugins": {
                "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True},
            },
        }

    async def start(self) -> None:
        from amqtt.broker import Broker  # imported late: amqtt is slow to import

        self._broker = Broker(self._config())
        startup_log = logging.getLogger("amqtt.broker")
        level = startup_log.level
        startup_log.setLevel(logging.CRITICAL)  # we report a failed start in one line ourselves
        try:
            await self._broker.start()
        except Exception as error:
            self._broker = None
            cause = error.__cause__ or error.__context__ or error
            reason = cause.strerror if isinstance(cause, OSError) and cause.strerror else cause
            raise BrokerUnavailable(
                f"embedded broker: cannot listen on {self.address.url}: {reason}"
                " (is another broker using that port? choose one with --port)"
            ) from None
        finally:
            startup_log.setLevel(level)

    async def stop(self) -> None:
        if self._broker is None:
            return
        broker, self._broker = self._broker, None
        # Stop accepting first: amqtt would otherwise take new connections while it shuts
        # down and leave them open, untracked, after it has stopped.
        for server in broker._servers.values():
            server.instance.close()
        readers = [
            getattr(handler, "_reader_task", None) for _, handler in broker._sessions.values()
        ]
        shutdown = asyncio.ensure_future(broker.shutdown())
        while True:
            done, _ = await asyncio.wait({shutdown}, timeout=STOP_NUDGE_INTERVAL)
            if done:
                shutdown.result()
                return
            # On Python 3.11, asyncio.wait_for can swallow a cancellation that coincides with
            # incoming data; amqtt's reader loop then never ends and shutdown waits forever.
            # Cancelling the readers again lets it finish.
            for reader in readers:
                if isinstance(reader, asyncio.Task) and not reader.done():
                    reader.cancel()

    async def __aenter__(self) -> EmbeddedBroker:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
