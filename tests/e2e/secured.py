"""Brokers with credentials for tests: `broker init` setups run by a real Mosquitto (passwords,
or a client certificate on its certificate listener) and by a real NATS node (the client
certificate is the identity), and clients that log in to them over real TLS."""

from __future__ import annotations

import contextlib
import ssl
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from pathlib import Path

import aiomqtt

from broker import certs
from broker.acl import Access, Grant
from broker.embedded import free_port
from broker.nats_conf import NatsUser
from broker.nats_nodes import CONFIG, write_node_configs
from broker.nats_server import Launch, NatsServer, find_nats_server
from broker.passwords import hash_password
from broker.provision import NodePorts, init_setup
from broker.setup_dir import Engine, Layout, Manifest, User, write_file
from ketenwacht.startup import load_topology
from mqtt.address import BrokerAddress, Identity
from mqtt.connection import make_client
from mqtt.tls import client_context
from tests.conftest import Mosquitto

ADMIN = "admin"
"""A test-only superuser, added after `broker init`, that watches and writes everything."""
ADMIN_PASSWORD = "admin-secret"


@dataclass(frozen=True)
class Setup:
    layout: Layout
    manifest: Manifest

    @property
    def ca_file(self) -> Path:
        return self.layout.ca / "ca.crt"

    @property
    def engine(self) -> Engine:
        return self.manifest.engine

    def password(self, user: str) -> str:
        if user == ADMIN:
            return ADMIN_PASSWORD
        return (self.folder(user) / "password").read_text().strip()

    def folder(self, user: str) -> Path:
        if user == ADMIN:
            return self.layout.out / "clients" / ADMIN
        role = self.manifest.role_of(user)
        assert role is not None, user
        return self.layout.client(User(user, role))

    def write_node_configs(self) -> None:
        """The node's nats.conf from the manifest, with the admin's certificate beside."""
        admin = (self.folder(ADMIN) / "client.crt").read_bytes()
        write_node_configs(self.layout, self.manifest, extra=[
            NatsUser(certs.subject_of(admin), [Grant(Access.READWRITE, "#")]),
        ])


def provision(out: Path, engine: Engine = "mosquitto") -> Setup:
    """`broker init` on free ports, plus the test-only admin: Mosquitto, in the password file
    and ACL; NATS, a certificate of the chain's CA and a user with every right."""
    if engine == "nats":
        manifest = init_setup(
            out, load_topology(None), root="keten/v1", hostnames=["localhost"], engine="nats",
            node_ports=NodePorts(mqtt=free_port(), cluster=free_port(), monitor=free_port(),
                                 bind="127.0.0.1"),
        )
        setup = Setup(Layout(out), manifest)
        ca = certs.Issued((setup.layout.ca / "ca.crt").read_bytes(),
                          (setup.layout.ca / "ca.key").read_bytes())
        admin = certs.make_client(ca, ADMIN)
        write_file(setup.folder(ADMIN) / "client.crt", admin.cert_pem)
        write_file(setup.folder(ADMIN) / "client.key", admin.key_pem, secret=True)
        write_file(setup.folder(ADMIN) / "ca.pem", ca.cert_pem)
        setup.write_node_configs()
        return setup
    manifest = init_setup(
        out, load_topology(None), root="keten/v1", hostnames=["localhost"],
        tls_port=free_port(), cert_port=free_port(), local_port=free_port(),
    )
    layout = Layout(out)
    with (layout.broker / "passwords").open("a") as passwords:
        passwords.write(f"{ADMIN}:{hash_password(ADMIN_PASSWORD)}\n")
    with (layout.broker / "acl").open("a") as acl:
        acl.write(f"\nuser {ADMIN}\ntopic readwrite #\n")
    return Setup(layout, manifest)


@dataclass(frozen=True)
class SecuredBroker:
    """Where a broker with credentials listens with TLS."""

    name: str
    address: BrokerAddress
    setup: Setup
    reload: Callable[[], None] = lambda: None
    """Make the broker read its credentials and ACL again."""
    cert_port: int | None = None
    """Mosquitto's listener where the client certificate is the identity (NATS has one
    listener, where it always is)."""
    pid: Callable[[], int | None] = lambda: None
    """The broker's process, for what it costs."""

    @property
    def by_certificate(self) -> bool:
        """Whether the client certificate is the identity on the main listener."""
        return self.setup.engine == "nats"

    def address_of(self, user: str) -> BrokerAddress:
        """How a user's own tools log in: password or certificate, from its folder."""
        identity = Identity.of(self.setup.folder(user))
        if self.by_certificate:
            return replace(self.address, identity=identity)
        return replace(self.address, username=user, password=self.setup.password(user),
                       identity=identity)

    def tls(self, *, ca_file: Path | None = None, cert: Path | None = None,
            key: Path | None = None) -> ssl.SSLContext:
        return client_context(ca_file=ca_file or self.setup.ca_file, cert_file=cert,
                              key_file=key, origin="test")

    def client(self, user: str | None, password: str | None = None, *,
               will: aiomqtt.Will | None = None, identifier: str | None = None,
               tls: ssl.SSLContext | None = None, timeout: float = 5.0,
               clean_session: bool = True) -> aiomqtt.Client:
        """A client of `user`, with its provisioned password unless one is given; on NATS,
        with its certificate (a password is then ignored, as the broker ignores it)."""
        if self.by_certificate:
            if tls is None and user is not None:
                folder = self.setup.folder(user)
                tls = self.tls(cert=folder / "client.crt", key=folder / "client.key")
            address = replace(self.address, username=user, password=password)
        else:
            if user is not None and password is None:
                password = self.setup.password(user)
            address = replace(self.address, username=user, password=password)
        return make_client(address, identifier=identifier or f"test-{uuid.uuid4().hex}",
                           will=will, timeout=timeout, tls_context=tls or self.tls(),
                           clean_session=clean_session)

    def own_tls(self, user: str) -> ssl.SSLContext:
        """TLS as the user's own tools set it up: on NATS with its certificate."""
        if not self.by_certificate:
            return self.tls()
        folder = self.setup.folder(user)
        return self.tls(cert=folder / "client.crt", key=folder / "client.key")


    def certificate_client(
        self, user: str, cert: Path, key: Path, *, timeout: float = 2.0
    ) -> aiomqtt.Client:
        """Log in with a client certificate alone: on Mosquitto's certificate listener, or
        NATS's only one. A refused handshake can leave the client waiting for its whole
        connect timeout, hence a short one (loopback takes ms)."""
        tls = self.tls(cert=cert, key=key)
        if self.cert_port is None:
            return make_client(self.address, identifier=f"test-{uuid.uuid4().hex}",
                               tls_context=tls, timeout=timeout)
        address = replace(self.address, port=self.cert_port)
        return make_client(address, identifier=f"test-{uuid.uuid4().hex}", tls_context=tls,
                           timeout=timeout)


async def connects(client: aiomqtt.Client) -> bool:
    """Whether the broker accepts the connection."""
    try:
        async with client:
            return True
    except aiomqtt.MqttError:
        return False


def start_mosquitto(setup: Setup, workdir: Path) -> tuple[Mosquitto, SecuredBroker]:
    mosquitto = Mosquitto(workdir, include=setup.layout.broker, port=setup.manifest.tls_port)
    mosquitto.start()
    address = BrokerAddress("127.0.0.1", setup.manifest.tls_port, tls=True)
    return mosquitto, SecuredBroker(
        "mosquitto", address, setup, mosquitto.reload, setup.manifest.cert_port,
        pid=lambda: mosquitto.process.pid if mosquitto.process else None,
    )


@contextlib.asynccontextmanager
async def nats_node(setup: Setup, workdir: Path) -> AsyncIterator[SecuredBroker]:
    """The setup's one node, run as `ketenwacht broker --config` runs it."""
    node = setup.manifest.nodes[0]
    server = NatsServer(Launch(
        binary=find_nats_server(), config=setup.layout.node(node.name) / CONFIG,
        log_file=workdir / f"{node.name}.log", monitor_port=node.monitor_port,
        name=f"NATS node {node.name}",
    ))
    await server.start()
    try:
        address = BrokerAddress("localhost", node.mqtt_port, tls=True)
        yield SecuredBroker("nats", address, setup, server.reload, pid=lambda: server.pid)
    finally:
        await server.stop()
