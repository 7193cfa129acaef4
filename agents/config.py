"""The agent's configuration file: one TOML file per organisation, decoded into typed Structs.

Unknown keys are refused; every error names the file, the key and what was expected.
Secrets may stand in the file, or come from a file (`*_file`) or an environment variable
(`*_env`), so that the TOML itself can be world-readable.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from chain.errors import ConfigError
from chain.topics import DEFAULT_ROOT
from chain.validation import decode_toml
from chain.wire import ChannelName, Direction, Id

Seconds = Annotated[float, Meta(gt=0, le=86_400)]
Port = Annotated[int, Meta(ge=1, le=65_535)]
Text = Annotated[str, Meta(min_length=1)]


class _Strict(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, frozen=True):
    pass


class BrokerSettings(_Strict, frozen=True, kw_only=True):
    url: Text | tuple[Text, ...]
    """One broker, or every node of a cluster (a list): the agent moves to the next node
    when its own goes away."""
    username: Text | None = None
    """Defaults to the organisation id, as the broker's ACLs expect."""
    password: Text | None = None
    password_file: Text | None = None
    password_env: Text | None = None
    ca_file: Text | None = None
    cert_file: Text | None = None
    key_file: Text | None = None
    root: Text = DEFAULT_ROOT
    keepalive: Annotated[int, Meta(ge=5, le=3600)] = 30


class BufferSettings(_Strict, frozen=True, kw_only=True):
    max_messages: Annotated[int, Meta(ge=10, le=10_000_000)] = 100_000


class _Probe(_Strict, frozen=True, kw_only=True, tag_field="type"):
    name: Text | None = None
    timeout: Seconds = 10.0
    every: Seconds | None = None
    """Seconds between runs; default: the heartbeat interval (60 s for channel probes)."""


class _ChannelProbe(_Probe, frozen=True, kw_only=True):
    channel: ChannelName


class _ValueProbe(_Probe, frozen=True, kw_only=True):
    """Reports one number, as a flow counter (`flow` + `direction`) or a backlog gauge."""

    flow: Id | None = None
    direction: Direction | None = None
    backlog: Id | None = None

    @property
    def target(self) -> str:
        return f"flow:{self.flow}" if self.flow else f"backlog:{self.backlog}"


class SmtpProbe(_ChannelProbe, frozen=True, kw_only=True, tag="smtp"):
    channel: ChannelName = "email"
    host: Text
    port: Port = 25
    starttls: bool = False
    tls_verify: bool = True
    ca_file: Text | None = None
    """CA bundle to verify the mail server's certificate with; default: the system's."""
    helo: Text = "ketenwacht.invalid"


class SipProbe(_ChannelProbe, frozen=True, kw_only=True, tag="sip"):
    channel: ChannelName = "phone"
    host: Text
    port: Port = 5060
    transport: Literal["udp", "tcp"] = "udp"
    uri: Text | None = None
    """Request-URI; default sip:<host>."""


class HttpStatusProbe(_ChannelProbe, frozen=True, kw_only=True, tag="http-status"):
    channel: ChannelName = "phone"
    url: Text
    expect_status: tuple[Annotated[int, Meta(ge=100, le=599)], ...] = (200,)


class HttpJsonProbe(_ValueProbe, frozen=True, kw_only=True, tag="http-json"):
    url: Text
    field: Text
    """Dotted path into the JSON document, e.g. `queues.jds.pending` or `items.0.count`."""


class PrometheusProbe(_ValueProbe, frozen=True, kw_only=True, tag="prometheus"):
    url: Text
    metric: Text
    labels: dict[str, str] = {}


class SqlProbe(_ValueProbe, frozen=True, kw_only=True, tag="sql"):
    database: Text
    """Path of an SQLite database file, opened read-only."""
    query: Text
    """Returns one row whose first column is the number."""


class FileProbe(_ValueProbe, frozen=True, kw_only=True, tag="file"):
    path: Text
    field: Text | None = None
    """With a field, the file is JSON and this is a dotted path; without, it holds one number."""


class CommandProbe(_ValueProbe, frozen=True, kw_only=True, tag="command"):
    argv: tuple[Text, ...]
    """Run without a shell; its standard output is one number."""


class ManualProbe(_ValueProbe, frozen=True, kw_only=True, tag="manual"):
    """A value an admin sets with `ketenwacht agent set`."""


ChannelProbe = SmtpProbe | SipProbe | HttpStatusProbe
ValueProbe = HttpJsonProbe | PrometheusProbe | SqlProbe | FileProbe | CommandProbe | ManualProbe
ProbeSettings = ChannelProbe | ValueProbe
CHANNEL_EVERY = 60.0


class AgentConfig(_Strict, frozen=True, kw_only=True):
    org: Id
    interval: Seconds = 5.0
    state_dir: Text | None = None
    broker: BrokerSettings
    buffer: BufferSettings = BufferSettings()
    probes: tuple[ProbeSettings, ...] = msgspec.field(name="probe", default=())


class LoadedConfig(msgspec.Struct, frozen=True, kw_only=True):
    """The config with paths made absolute and secrets resolved."""

    path: Path
    settings: AgentConfig
    password: str | None

    @property
    def org(self) -> str:
        return self.settings.org

    def resolve(self, relative: str) -> Path:
        """Paths in the file are relative to the file's own folder."""
        return (self.path.parent / relative).resolve()

    def every(self, probe: ProbeSettings) -> float:
        if probe.every is not None:
            return probe.every
        return CHANNEL_EVERY if isinstance(probe, _ChannelProbe) else self.settings.interval


def load_config(path: Path) -> LoadedConfig:
    try:
        text = path.read_bytes()
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror}") from None
    settings = decode_toml(text, AgentConfig, origin=str(path))
    for problem in _check(settings):
        raise ConfigError(f"{path}: {problem}")
    return LoadedConfig(path=path, settings=settings, password=_password(path, settings.broker))


def _check(settings: AgentConfig) -> list[str]:
    problems: list[str] = []
    broker = settings.broker
    given = [k for k in ("password", "password_file", "password_env") if getattr(broker, k)]
    if len(given) > 1:
        problems.append(f"broker: give one of {', '.join(given)}, not several")
    if (broker.cert_file is None) != (broker.key_file is None):
        problems.append("broker: cert_file and key_file go together")
    for index, probe in enumerate(settings.probes):
        where = f"probe[{index}]"
        if isinstance(probe, _ValueProbe):
            if (probe.flow is None) == (probe.backlog is None):
                problems.append(f"{where}: give either flow (with direction) or backlog")
            elif probe.flow is not None and probe.direction is None:
                problems.append(f"{where}.direction: required with flow: 'sent' or 'received'")
            elif probe.backlog is not None and probe.direction is not None:
                problems.append(f"{where}.direction: only goes with flow, not backlog")
    return problems


def _password(path: Path, broker: BrokerSettings) -> str | None:
    if broker.password is not None:
        return broker.password
    if broker.password_file is not None:
        secret = (path.parent / broker.password_file).resolve()
        try:
            return secret.read_text().strip()
        except OSError as error:
            raise ConfigError(
                f"{path}: broker.password_file: cannot read {secret}: {error.strerror}"
            ) from None
    if broker.password_env is not None:
        value = os.environ.get(broker.password_env)
        if not value:
            raise ConfigError(
                f"{path}: broker.password_env: environment variable {broker.password_env} "
                "is not set"
            )
        return value
    return None
