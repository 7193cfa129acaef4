"""`ketenwacht agent --check`: validate the config, run every probe once, try the broker."""

from __future__ import annotations

import asyncio
import uuid

import aiomqtt

from agents.config import LoadedConfig
from agents.daemon import broker_addresses, probe_set, tls_context
from agents.probes.schedule import Outcome, run_once
from chain.wire import ChannelReading, Message
from mqtt.connection import make_client


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
