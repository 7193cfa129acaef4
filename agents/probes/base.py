"""What every probe shares: the reading it makes, the context it runs in, the errors it raises."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import httpx

from agents.config import LoadedConfig, ProbeSettings, ValueProbe
from agents.manual import manual_file
from chain.errors import KetenwachtError
from chain.wire import BacklogGauge, ChannelName, ChannelReading, FlowCounter, Message

_EPOCH = datetime.fromtimestamp(0, UTC)
"""Placeholder envelope time; the agent stamps session, seq and ts when it sends."""


class ProbeError(KetenwachtError):
    """A probe could not produce a value; the message says what it tried and what failed."""


@dataclass
class ProbeContext:
    """Shared by all probes of one agent: the organisation, where manual values live, HTTP."""

    config: LoadedConfig
    state_dir: Path
    _http: httpx.AsyncClient | None = field(default=None, init=False)

    @property
    def org(self) -> str:
        return self.config.org

    @property
    def http(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(follow_redirects=False)
        return self._http

    @property
    def manual_file(self) -> Path:
        return manual_file(self.state_dir, self.org)

    async def close(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None


class Probe(Protocol):
    @property
    def settings(self) -> ProbeSettings: ...

    async def measure(self, context: ProbeContext) -> Message:
        """One reading, or ProbeError. Channel probes report `up: false` instead of raising."""
        ...


def describe_probe(settings: ProbeSettings) -> str:
    if settings.name:
        return settings.name
    tag = type(settings).__struct_config__.tag
    target = f" → {settings.target}" if isinstance(settings, ValueProbe) else ""
    return f"{tag}{target}"


def channel_reading(
    org: str, channel: ChannelName, *, up: bool, latency_ms: float | None, detail: str
) -> ChannelReading:
    return ChannelReading(
        org=org,
        session=0,
        seq=0,
        ts=_EPOCH,
        channel=channel,
        up=up,
        latency_ms=None if latency_ms is None else round(latency_ms, 1),
        detail=detail[:200],
    )


def value_reading(org: str, settings: ValueProbe, value: object) -> FlowCounter | BacklogGauge:
    count = to_count(value)
    if settings.flow is not None and settings.direction is not None:
        return FlowCounter(
            org=org, session=0, seq=0, ts=_EPOCH,
            link=settings.flow, direction=settings.direction, count=count,
        )
    assert settings.backlog is not None
    return BacklogGauge(org=org, session=0, seq=0, ts=_EPOCH, process=settings.backlog, items=count)


def to_count(value: object) -> int:
    """A non-negative whole number from what a source reported (int, float or text)."""
    if isinstance(value, bool):
        raise ProbeError(f"expected a number, got {value!r}")
    if isinstance(value, str):
        text = value.strip()
        try:
            value = float(text)
        except ValueError:
            raise ProbeError(f"expected a number, got {text[:40]!r}") from None
    if not isinstance(value, int | float):
        raise ProbeError(f"expected a number, got {type(value).__name__}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ProbeError(f"expected a finite number, got {value}")
    if value < 0:
        raise ProbeError(f"expected a count of 0 or more, got {value}")
    return round(value)


def dig(document: object, path: str) -> object:
    """Follow a dotted path (`a.b.0.c`) into parsed JSON."""
    here = document
    for step in path.split("."):
        if isinstance(here, dict) and step in here:
            here = here[step]
        elif isinstance(here, list) and step.isdigit() and int(step) < len(here):
            here = here[int(step)]
        else:
            raise ProbeError(f"field {path!r}: no {step!r} there")
    return here


def parse_json(text: str | bytes, where: str) -> object:
    try:
        return json.loads(text)
    except ValueError as error:
        raise ProbeError(f"{where}: not JSON: {error}") from None
