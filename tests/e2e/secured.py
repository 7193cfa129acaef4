"""Brokers with credentials for tests: one `broker init` setup, run by a real Mosquitto and by
the embedded amqtt broker, and clients that log in to them over real TLS."""

from __future__ import annotations

import ssl
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import aiomqtt

from broker.address import BrokerAddress
from broker.connection import make_client
from broker.embedded import free_port
from broker.passwords import hash_password
from broker.provision import init_setup
from broker.setup_dir import Layout, Manifest, User
from broker.tls import client_context
from ketenwacht.setup import load_topology
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
        return self.layout.broker / "ca.crt"

    def password(self, user: str) -> str:
        if user == ADMIN:
            return ADMIN_PASSWORD
        return (self.folder(user) / "password").read_text().strip()

    def folder(self, user: str) -> Path:
        role = self.manifest.role_of(user)
        assert role is not None, user
        return self.layout.client(User(user, role))


def provision(out: Path) -> Setup:
    """`broker init` on free ports, plus the test-only admin in the password file and ACL."""
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
    """Where a broker with credentials listens with TLS (and passwords)."""

    name: str
    address: BrokerAddress
    setup: Setup
    reload: Callable[[], None] = lambda: None
    """Make the broker read its password file and ACL again (amqtt notices by itself)."""
    cert_port: int | None = None
    """Mosquitto's listener where the client certificate is the identity; amqtt has none (it
    verifies a certificate a client offers, but the password is the identity)."""

    def tls(self, *, ca_file: Path | None = None, cert: Path | None = None,
            key: Path | None = None) -> ssl.SSLContext:
        return client_context(ca_file=ca_file or self.setup.ca_file, cert_file=cert,
                              key_file=key, origin="test")

    def client(self, user: str | None, password: str | None = None, *,
               will: aiomqtt.Will | None = None, identifier: str | None = None,
               tls: ssl.SSLContext | None = None, timeout: float = 5.0) -> aiomqtt.Client:
        """A client of `user`, with its provisioned password unless one is given."""
        if user is not None and password is None:
            password = self.setup.password(user)
        address = replace(self.address, username=user, password=password)
        return make_client(address, identifier=identifier or f"test-{uuid.uuid4().hex}",
                           will=will, timeout=timeout, tls_context=tls or self.tls())


    def certificate_client(
        self, user: str, cert: Path, key: Path, *, timeout: float = 2.0
    ) -> aiomqtt.Client:
        """Log in with a client certificate: on Mosquitto the certificate alone; on amqtt the
        certificate beside the user's password. A refused handshake can leave the client
        waiting for its whole connect timeout, hence a short one (loopback takes ms)."""
        tls = self.tls(cert=cert, key=key)
        if self.cert_port is None:
            return self.client(user, tls=tls, timeout=timeout)
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
    return mosquitto, SecuredBroker("mosquitto", address, setup, mosquitto.reload,
                                    setup.manifest.cert_port)
