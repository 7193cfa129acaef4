"""Assemble an agent from its config file: broker address, TLS, state, outbox, probes."""

from __future__ import annotations

import dataclasses
import logging
import ssl
from pathlib import Path

from agents.config import LoadedConfig
from agents.outbox import Outbox
from agents.probes.base import ProbeContext
from agents.probes.schedule import ProbeSet, build_probe
from agents.runtime import Agent
from agents.session import default_state_dir, next_session
from chain.errors import ConfigError, KetenwachtError
from chain.topics import Topics
from mqtt.address import BrokerAddress, Brokers, as_brokers, parse_brokers
from mqtt.tls import client_context


def state_dir_of(config: LoadedConfig) -> Path:
    configured = config.settings.state_dir
    return config.resolve(configured) if configured else default_state_dir()


def broker_addresses(config: LoadedConfig) -> Brokers:
    """Every node the config names, each with the organisation's username and password."""
    settings = config.settings.broker
    try:
        brokers = parse_brokers(settings.url)
    except KetenwachtError as error:
        raise ConfigError(f"{config.path}: broker.url: {error}") from None
    return tuple(
        dataclasses.replace(
            address,
            username=settings.username or address.username or config.org,
            password=config.password or address.password,
        )
        for address in brokers
    )


def broker_address(config: LoadedConfig) -> BrokerAddress:
    """The first node: what a one-broker setup has."""
    return broker_addresses(config)[0]


def tls_context(
    config: LoadedConfig, address: BrokerAddress | Brokers
) -> ssl.SSLContext | None:
    settings = config.settings.broker
    brokers = as_brokers(address)
    wants_tls = any(a.tls for a in brokers) or settings.ca_file or settings.cert_file
    if not wants_tls:
        return None
    if not all(a.tls for a in brokers):
        raise ConfigError(
            f"{config.path}: broker.url: TLS files are configured, so use mqtts://, not mqtt://"
        )

    def path(value: str | None) -> Path | None:
        return config.resolve(value) if value else None

    return client_context(
        ca_file=path(settings.ca_file),
        cert_file=path(settings.cert_file),
        key_file=path(settings.key_file),
        origin=str(config.path),
    )


def topics_of(config: LoadedConfig) -> Topics:
    try:
        return Topics(config.settings.broker.root)
    except KetenwachtError as error:
        raise ConfigError(f"{config.path}: broker.root: {error}") from None


def probe_set(config: LoadedConfig) -> ProbeSet:
    probes = [build_probe(p) for p in config.settings.probes]
    context = ProbeContext(config=config, state_dir=state_dir_of(config))
    log = logging.LoggerAdapter(logging.getLogger("ketenwacht.probe"), {"org": config.org})
    return ProbeSet(probes, context, [config.every(p) for p in config.settings.probes], logger=log)


def outbox_of(config: LoadedConfig) -> Outbox:
    path = state_dir_of(config) / f"{config.org}.outbox.sqlite"
    return Outbox(path, max_messages=config.settings.buffer.max_messages)


def build_agent(config: LoadedConfig, outbox: Outbox, probes: ProbeSet) -> Agent:
    brokers = broker_addresses(config)
    return Agent(
        config.org,
        brokers,
        session=next_session(state_dir_of(config), config.org),
        source=probes,
        outbox=outbox,
        topics=topics_of(config),
        interval=config.settings.interval,
        keepalive=config.settings.broker.keepalive,
        tls_context=tls_context(config, brokers),
    )
