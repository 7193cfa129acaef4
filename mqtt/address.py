"""Broker addresses as URLs: mqtt://[user[:password]@]host[:port], mqtts:// for TLS; the
nodes of a cluster as several, comma-separated."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import unquote, urlsplit

from chain.errors import UsageError

DEFAULT_PORTS = {"mqtt": 1883, "mqtts": 8883}


@dataclass(frozen=True)
class Identity:
    """A folder `broker init` made for one user (clients/<user>/, agents/<org>/): the chain's
    CA to verify the broker, and the user's client certificate and password where present."""

    folder: Path

    @property
    def ca_file(self) -> Path | None:
        return self._present("ca.pem")

    @property
    def cert_file(self) -> Path | None:
        return self._present("client.crt")

    @property
    def key_file(self) -> Path | None:
        return self._present("client.key")

    def password(self) -> str | None:
        path = self._present("password")
        if path is None:
            return None
        try:
            return path.read_text().strip() or None
        except OSError as error:
            raise UsageError(f"--identity {self.folder}: cannot read password: "
                             f"{error.strerror}") from None

    def _present(self, name: str) -> Path | None:
        path = self.folder / name
        return path if path.exists() else None

    @classmethod
    def of(cls, folder: Path) -> Identity:
        if not folder.is_dir():
            raise UsageError(f"--identity {folder}: not a folder (give one made by `broker "
                             "init`, e.g. clients/tui/)")
        identity = cls(folder)
        if identity.ca_file is None:
            raise UsageError(f"--identity {folder}: no ca.pem in it")
        if (identity.cert_file is None) != (identity.key_file is None):
            raise UsageError(f"--identity {folder}: client.crt and client.key go together")
        return identity


@dataclass(frozen=True)
class BrokerAddress:
    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: str | None = None
    identity: Identity | None = None
    """Where the CA and the client certificate come from, for TLS."""

    @classmethod
    def parse(cls, url: str) -> BrokerAddress:
        parts = urlsplit(url)
        if parts.scheme not in DEFAULT_PORTS:
            raise UsageError(f"broker URL {url!r}: scheme must be mqtt:// or mqtts://")
        if not parts.hostname:
            raise UsageError(f"broker URL {url!r}: no host")
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise UsageError(f"broker URL {url!r}: unexpected path or query")
        try:
            port = parts.port or DEFAULT_PORTS[parts.scheme]
        except ValueError:
            raise UsageError(f"broker URL {url!r}: port must be a number 1-65535") from None
        return cls(
            host=parts.hostname,
            port=port,
            tls=parts.scheme == "mqtts",
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )

    @property
    def url(self) -> str:
        """The address without credentials, safe to show and log."""
        scheme = "mqtts" if self.tls else "mqtt"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.port}"


Brokers = tuple[BrokerAddress, ...]
"""One broker, or the nodes of a cluster, in the order a client tries them."""


def parse_brokers(text: str | Sequence[str]) -> Brokers:
    """`mqtts://a:8883,mqtts://b:8883` (or a list of URLs): every node a client may use."""
    urls = text.split(",") if isinstance(text, str) else list(text)
    addresses = tuple(BrokerAddress.parse(url.strip()) for url in urls if url.strip())
    if not addresses:
        raise UsageError("broker URL: none given")
    seen = set()
    for address in addresses:
        if address.url in seen:
            raise UsageError(f"broker URL {address.url}: given twice")
        seen.add(address.url)
    return addresses


def with_identity(brokers: Brokers, identity: Identity | None) -> Brokers:
    """The same nodes with the identity's TLS files, and its password for a URL that names a
    user but gives no password (so no password need stand in the process list)."""
    if identity is None:
        return brokers
    password = identity.password()
    return tuple(
        replace(address, identity=identity,
                password=address.password or (password if address.username else None))
        for address in brokers
    )


def as_brokers(where: BrokerAddress | Sequence[BrokerAddress]) -> Brokers:
    return (where,) if isinstance(where, BrokerAddress) else tuple(where)


def describe(brokers: Sequence[BrokerAddress]) -> str:
    """The URLs without credentials, safe to show and log."""
    return ", ".join(address.url for address in brokers)
