"""The embedded amqtt broker, so one command runs the whole chain on a laptop."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from broker.acl import parse_acl
from broker.address import BrokerAddress
from broker.limits import EXPIRY
from broker.passwords import parse_password_file
from broker.setup_dir import Layout, Manifest, read_file
from chain.errors import BrokerUnavailable, UsageError

STOP_NUDGE_INTERVAL = 0.5

for _noisy in ("amqtt", "transitions"):
    logging.getLogger(_noisy).setLevel(logging.ERROR)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def wait_for_port(port: int, timeout: float = 10.0, host: str = "127.0.0.1") -> None:
    """Until something listens on `port` (a broker started as another process)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex((host, port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout:g} s")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class BrokerAccess:
    """What `ketenwacht broker init` made, for the embedded broker: the same password file
    and ACL as Mosquitto's, and the server certificate for its TLS listener."""

    password_file: Path
    acl_file: Path
    cert_file: Path
    key_file: Path
    ca_file: Path
    local_port: int | None = None
    """A plaintext listener on loopback besides the TLS one (passwords still apply)."""

    @classmethod
    def from_setup(cls, directory: Path) -> tuple[BrokerAccess, Manifest]:
        """The files in a directory made by `ketenwacht broker init`, checked before use."""
        layout = Layout(directory)
        manifest = layout.read_manifest()
        access = cls(
            password_file=layout.broker / "passwords", acl_file=layout.broker / "acl",
            cert_file=layout.broker / "server.crt", key_file=layout.broker / "server.key",
            ca_file=layout.broker / "ca.crt", local_port=manifest.local_port or None,
        )
        access.check()
        return access, manifest

    def check(self) -> None:
        """Read both access files now, so a mistake is one line naming the file and line,
        not a plugin failure deep inside amqtt."""
        parse_password_file(read_file(self.password_file).decode(), str(self.password_file))
        parse_acl(read_file(self.acl_file).decode(), str(self.acl_file))
        for path in (self.cert_file, self.key_file, self.ca_file):
            read_file(path)


class EmbeddedBroker:
    """An in-process amqtt broker; `async with EmbeddedBroker() as broker: broker.address`.

    Without `access` it lets anyone in, so it binds loopback only. With `access` it checks
    passwords and the ACL, listens with TLS (1.2 or newer) and may bind any address.
    """

    def __init__(
        self, host: str = "127.0.0.1", port: int | None = None, *,
        access: BrokerAccess | None = None, sessions: Path | None = None,
    ) -> None:
        """`sessions`: a file where persistent sessions are kept across restarts (see
        broker.session_store); without it they last as long as this broker."""
        if access is None and not is_loopback(host):
            raise UsageError(
                f"embedded broker: refusing to listen on {host}: without credentials it binds "
                "loopback only (use 127.0.0.1, or --config DIR from `ketenwacht broker init`)"
            )
        self.access = access
        self.sessions = sessions
        self.address = BrokerAddress(
            host=host, port=port or free_port(host), tls=access is not None
        )
        self.local_address = (
            BrokerAddress("127.0.0.1", access.local_port)
            if access is not None and access.local_port else None
        )
        self._broker: Any = None

    def _config(self) -> dict[str, Any]:
        config = self._access_config()
        config["session_expiry_interval"] = int(EXPIRY)
        if self.sessions is not None:
            config["plugins"]["broker.session_store.PersistentSessions"] = {
                "file": str(self.sessions)
            }
        return config

    def _access_config(self) -> dict[str, Any]:
        bind = f"{self.address.host}:{self.address.port}"
        if self.access is None:
            return {
                "listeners": {"default": {"type": "tcp", "bind": bind}},
                "plugins": {"broker.access_plugin.LoopbackAuth": {}},
            }
        access = self.access
        # Python's server context already refuses anything below TLS 1.2; with the CA given,
        # a client certificate that is offered must verify, or the handshake fails.
        listeners: dict[str, Any] = {"default": {
            "type": "tcp", "bind": bind, "ssl": True, "certfile": str(access.cert_file),
            "keyfile": str(access.key_file), "cafile": str(access.ca_file),
        }}
        if self.local_address is not None:
            listeners["local"] = {"type": "tcp", "bind": f"127.0.0.1:{access.local_port}"}
        return {
            "listeners": listeners,
            "plugins": {
                "broker.access_plugin.AccessControlPlugin": {
                    "password_file": str(access.password_file),
                    "acl_file": str(access.acl_file),
                },
            },
        }

    async def start(self) -> None:
        # imported late: amqtt is slow to import
        from broker.amqtt_broker import CheckedBroker

        if self.access is not None:
            self.access.check()

        self._broker = CheckedBroker(self._config())
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
                f"embedded broker: cannot listen on {self._urls}: {reason}"
                " (is another broker using that port? choose one with --port)"
            ) from None
        finally:
            startup_log.setLevel(level)

    @property
    def _urls(self) -> str:
        if self.local_address is None:
            return self.address.url
        return f"{self.address.url} and {self.local_address.url}"

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
