"""The directory `ketenwacht broker init` writes: where each file lives, the manifest that
records what was made, and writing files with the right modes from the first byte.

    ketenwacht-broker.toml   the manifest: root, host names, ports, users and their roles
    broker/                  for the broker host: mosquitto.conf, passwords, acl, certificates
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
from typing import Annotated, Final

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


class Manifest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    root: str
    hostnames: tuple[str, ...]
    tls_port: Port
    cert_port: Port
    local_port: Port
    """0: no plaintext listener at all."""
    installed_at: str
    """Where the broker/ files live on the broker host, as mosquitto.conf names them."""
    users: tuple[User, ...] = msgspec.field(name="user", default=())

    def role_of(self, name: str) -> Role | None:
        return next((user.role for user in self.users if user.name == name), None)

    def render(self) -> str:
        quote = json.dumps  # a JSON string is a valid TOML basic string
        lines = [
            "# What `ketenwacht broker init` made; read by --rotate and `ketenwacht broker "
            "--config`.",
            f"root = {quote(self.root)}",
            f"hostnames = [{', '.join(quote(h) for h in self.hostnames)}]",
            f"tls_port = {self.tls_port}",
            f"cert_port = {self.cert_port}",
            f"local_port = {self.local_port}",
            f"installed_at = {quote(self.installed_at)}",
        ]
        for user in self.users:
            lines += ["", "[[user]]", f"name = {quote(user.name)}",
                      f"role = {quote(user.role.value)}"]
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
