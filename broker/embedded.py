"""The embedded broker: a nats-server we start and supervise, so one command runs the whole
chain on a laptop. Without credentials, so it binds loopback only."""

from __future__ import annotations

import ipaddress
import shutil
import socket
import tempfile
import time
from pathlib import Path
from types import TracebackType

from broker.nats_conf import embedded_conf, render
from broker.nats_server import Launch, NatsServer, find_nats_server
from broker.setup_dir import write_file
from chain.errors import BrokerUnavailableError, UsageError
from mqtt.address import BrokerAddress


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


class EmbeddedBroker:
    """`async with EmbeddedBroker() as broker: broker.address`: NATS with MQTT on loopback.

    `store`: where JetStream keeps sessions, retained messages and what is held for absent
    persistent sessions, across restarts; without it, a temporary directory that goes with
    the broker. `log_file`: the server's log (default: beside the store).
    """

    def __init__(
        self, host: str = "127.0.0.1", port: int | None = None, *,
        store: Path | None = None, log_file: Path | None = None,
        nats_server: Path | None = None,
    ) -> None:
        if not is_loopback(host):
            raise UsageError(
                f"embedded broker: refusing to listen on {host}: without credentials it binds "
                "loopback only (use 127.0.0.1, or --config DIR from `ketenwacht broker init "
                "--engine nats`)"
            )
        self.address = BrokerAddress(host=host, port=port or free_port(host))
        self._store = store
        self._log_file = log_file
        self._nats_server = nats_server
        self._home: Path | None = None
        self._server: NatsServer | None = None

    @property
    def log_file(self) -> Path | None:
        return self._server.launch.log_file if self._server is not None else None

    @property
    def pid(self) -> int | None:
        return self._server.pid if self._server is not None else None

    async def start(self) -> None:
        binary = find_nats_server(self._nats_server)
        if self._store is None and self._home is None:
            self._home = Path(tempfile.mkdtemp(prefix="ketenwacht-broker-"))
        store = self._store or self._home_dir() / "jetstream"
        config = store.parent / f"{store.name}.nats.conf"
        monitor_port = free_port()
        try:
            store.mkdir(parents=True, exist_ok=True)
            write_file(config, render(embedded_conf(
                host=self.address.host, port=self.address.port, monitor_port=monitor_port,
                store_dir=store,
            )))
        except OSError as error:
            raise BrokerUnavailableError(
                f"embedded broker: cannot use {store}: {error.strerror or error}"
            ) from None
        self._server = NatsServer(Launch(
            binary=binary, config=config,
            log_file=self._log_file or store.parent / f"{store.name}.log",
            monitor_port=monitor_port, name="embedded broker",
            urls={self.address.port: self.address.url},
        ))
        try:
            await self._server.start()
        except BaseException:
            self._server = None
            self._remove_home()
            raise

    def _home_dir(self) -> Path:
        assert self._home is not None
        return self._home

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            await server.stop()
        self._remove_home()

    async def kill(self) -> None:
        """As a crash: SIGKILL, no Wills sent, no clean shutdown; `start()` brings it back
        on the same port with the same store."""
        server, self._server = self._server, None
        if server is not None:
            await server.kill()

    def _remove_home(self) -> None:
        home, self._home = self._home, None
        if home is not None:
            shutil.rmtree(home, ignore_errors=True)

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
