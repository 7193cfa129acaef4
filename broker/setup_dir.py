"""The directory `ketenwacht broker init` writes: where each file lives, the manifest that
records what was made, and writing files with the right modes from the first byte.

    ketenwacht-broker.toml   the manifest: engine, root, host names, ports, nodes, users, roles
    broker/                  Mosquitto: for the broker host (mosquitto.conf, passwords, acl,
                             certificates)
    nodes/<node>/            NATS: one folder per node, for its host (nats.conf, certificates)
    ca/                      the CA's key: keep it offline; needed again only for --rotate
    agents/<org>/            one ready agent config per organisation, with its credentials
    clients/<user>/          credentials of the screens (tui), the recorder and replay
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Final, Literal

import msgspec
from msgspec import Meta

from broker.acl import Role
from chain.errors import ConfigError
from chain.validation import decode_toml

MANIFEST: Final = "ketenwacht-broker.toml"
SECRET_MODE: Final = 0o600
PUBLIC_MODE: Final = 0o644

Port = Annotated[int, Meta(ge=0, le=65_535)]


class User(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    name: str
    role: Role


Engine = Literal["mosquitto", "nats"]


class Node(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One NATS server of a setup: its name, the host name clients and the other nodes reach
    it by, and its ports."""

    name: str
    host: str
    mqtt_port: Port
    cluster_port: Port
    monitor_port: Port
    """Health checks and monitoring, on 127.0.0.1 only."""
    bind: str = "0.0.0.0"

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"mqtts://{host}:{self.mqtt_port}"


class Manifest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    engine: Engine = "mosquitto"
    """Absent in setups made before NATS: those are Mosquitto's."""
    root: str
    hostnames: tuple[str, ...]
    tls_port: Port
    cert_port: Port
    local_port: Port
    """0: no plaintext listener at all."""
    installed_at: str
    """Where the broker/ files live on the broker host, as mosquitto.conf names them."""
    users: tuple[User, ...] = msgspec.field(name="user", default=())
    nodes: tuple[Node, ...] = msgspec.field(name="node", default=())
    store_dir: str = ""
    """NATS: where each node keeps JetStream (sessions, retained and held messages)."""

    @property
    def urls(self) -> tuple[str, ...]:
        """Where clients connect: every node of a NATS setup, Mosquitto's TLS listener."""
        if self.engine == "nats":
            return tuple(node.url for node in self.nodes)
        host = self.hostnames[0]
        host = f"[{host}]" if ":" in host else host
        return (f"mqtts://{host}:{self.tls_port}",)

    def role_of(self, name: str) -> Role | None:
        return next((user.role for user in self.users if user.name == name), None)

    def render(self) -> str:
        quote = json.dumps  # a JSON string is a valid TOML basic string
        lines = [
            "# What `ketenwacht broker init` made; read by --rotate and `ketenwacht broker "
            "--config`.",
            f"engine = {quote(self.engine)}",
            f"root = {quote(self.root)}",
            f"hostnames = [{', '.join(quote(h) for h in self.hostnames)}]",
            f"tls_port = {self.tls_port}",
            f"cert_port = {self.cert_port}",
            f"local_port = {self.local_port}",
            f"installed_at = {quote(self.installed_at)}",
        ]
        if self.store_dir:
            lines.append(f"store_dir = {quote(self.store_dir)}")
        for user in self.users:
            lines += ["", "[[user]]", f"name = {quote(user.name)}",
                      f"role = {quote(user.role.value)}"]
        for node in self.nodes:
            lines += ["", "[[node]]", f"name = {quote(node.name)}", f"host = {quote(node.host)}",
                      f"mqtt_port = {node.mqtt_port}", f"cluster_port = {node.cluster_port}",
                      f"monitor_port = {node.monitor_port}", f"bind = {quote(node.bind)}"]
        return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Layout:
    out: Path

    @property
    def manifest(self) -> Path:
        return self.out / MANIFEST

    @property
    def broker(self) -> Path:
        return self.out / "broker"

    @property
    def ca(self) -> Path:
        return self.out / "ca"

    def node(self, name: str) -> Path:
        return self.out / "nodes" / name

    def client(self, user: User) -> Path:
        return self.out / ("agents" if user.role is Role.ORG else "clients") / user.name

    def read_manifest(self) -> Manifest:
        try:
            text = self.manifest.read_bytes()
        except OSError as error:
            raise ConfigError(
                f"{self.manifest}: cannot read: {error.strerror} (is {self.out} a directory "
                "made by `ketenwacht broker init`?)"
            ) from None
        return decode_toml(text, Manifest, origin=str(self.manifest))


def write_file(path: Path, data: bytes | str, *, secret: bool = False) -> None:
    """Replace `path` atomically; a secret is 0600 before a byte of it is written."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700 if secret else 0o755)
    content = data.encode() if isinstance(data, str) else data
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(handle, SECRET_MODE if secret else PUBLIC_MODE)
        with os.fdopen(handle, "wb") as file:
            file.write(content)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def read_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror}") from None
