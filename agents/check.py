"""`ketenwacht agent --check`: validate the config against the chain's topology, run every
probe once, try the broker."""

from __future__ import annotations

import asyncio
import uuid

import aiomqtt

from agents.config import AgentConfig, ChannelProbe, LoadedConfig, ProbeSettings
from agents.daemon import broker_addresses, probe_set, tls_context
from agents.probes.schedule import Outcome, run_once
from chain.errors import ConfigError
from chain.topology import Topology
from chain.wire import ChannelReading, Message
from mqtt.connection import make_client


def check_against(config: LoadedConfig, topology: Topology) -> None:
    """Raise ConfigError naming the file and the first thing it names that the chain does
    not have. The file parses whatever the organisation is called, but a screen shows no
    row for an organisation outside its topology, and refuses (INVALID) a reading of a link
    or backlog that is not the organisation's own."""
    for problem in _unknown(config.settings, topology):
        raise ConfigError(f"{config.path}: {problem}")


def _unknown(settings: AgentConfig, topology: Topology) -> list[str]:
    org = topology.by_org.get(settings.org)
    if org is None:
        return [f"org: {settings.org!r} is not an organisation of the chain "
                f"({', '.join(topology.org_ids)})"]
    problems = []
    for index, probe in enumerate(settings.probes):
        where = f"probe[{index}]" + (f" ({probe.name})" if probe.name else "")
        if (problem := _probe_problem(probe, settings.org, topology)) is not None:
            problems.append(f"{where}.{problem}")
    return problems


def _probe_problem(probe: ProbeSettings, org: str, topology: Topology) -> str | None:
    if isinstance(probe, ChannelProbe):
        channels = topology.by_org[org].channels
        if probe.channel not in channels:
            return f"channel: {probe.channel!r} is not a channel of {org} ({', '.join(channels)})"
        return None
    if probe.backlog is not None:
        own = [b.id for b in topology.backlogs_of(org)]
        if probe.backlog not in own:
            return (f"backlog: {probe.backlog!r} is not a backlog of {org} "
                    f"({', '.join(own) or 'it has none'})")
        return None
    links = {link.id: link for link in topology.links}
    link = links.get(probe.flow or "")
    if link is None:
        return f"flow: {probe.flow!r} is not a link of the chain"
    end = link.sender if probe.direction == "sent" else link.receiver
    if end != org:
        role = "sender" if probe.direction == "sent" else "receiver"
        return (f"flow: {org} is not the {role} of {link.id} ({link.sender} sends, "
                f"{link.receiver} receives): direction {probe.direction!r} counts for {end}")
    return None


def _describe(reading: Message) -> str:
    match reading:
        case ChannelReading(up=up, latency_ms=latency, detail=detail):
            state = "up" if up else "DOWN"
            timing = f" {latency:.0f}ms" if latency is not None else ""
            return f"{reading.channel} {state}{timing}" + (f" — {detail}" if detail else "")
        case _:
            fields = {k: v for k, v in _fields(reading).items() if k in ("count", "items")}
            return ", ".join(f"{k} {v}" for k, v in fields.items())


def _fields(reading: Message) -> dict[str, object]:
    return {f: getattr(reading, f) for f in reading.__struct_fields__}


def _passed(outcome: Outcome) -> bool:
    if outcome.reading is None:
        return False
    return not isinstance(outcome.reading, ChannelReading) or outcome.reading.up


async def run_check(config: LoadedConfig) -> tuple[list[str], bool]:
    """Lines to print, and whether everything worked."""
    lines = [f"config {config.path}: valid, organisation {config.org}"]
    probes = probe_set(config)
    try:
        outcomes = await asyncio.gather(
            *(run_once(p, probes.context) for p in probes.probes)
        )
    finally:
        await probes.context.close()
    ok = True
    for outcome in outcomes:
        passed = _passed(outcome)
        ok &= passed
        what = _describe(outcome.reading) if outcome.reading else outcome.error
        lines.append(f"{'✓' if passed else '✗'} probe {outcome.name}: {what}")
    if not outcomes:
        lines.append("! no [[probe]] configured: the agent will only send heartbeats")
    brokers = broker_addresses(config)
    context = tls_context(config, brokers)
    for address in brokers:
        client = make_client(
            address,
            identifier=f"ketenwacht-check-{config.org}-{uuid.uuid4().hex[:6]}",
            tls_context=context,
            timeout=10,
        )
        try:
            async with client:
                lines.append(f"✓ broker {address.url}: connected as {address.username}")
        except aiomqtt.MqttError as error:
            ok = False
            lines.append(f"✗ broker {address.url}: {error}")
    return lines, ok
