"""Runs each probe on its own cadence, concurrently, each within its timeout."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from agents.config import (
    ChannelProbe,
    CommandProbe,
    FileProbe,
    HttpJsonProbe,
    HttpStatusProbe,
    ManualProbe,
    ProbeSettings,
    PrometheusProbe,
    SipProbe,
    SmtpProbe,
    SqlProbe,
)
from agents.probes import channels, values
from agents.probes.base import Probe, ProbeContext, ProbeError, channel_reading, describe_probe
from chain.wire import Message


def build_probe(settings: ProbeSettings) -> Probe:
    match settings:
        case SmtpProbe():
            return channels.Smtp(settings)
        case SipProbe():
            return channels.Sip(settings)
        case HttpStatusProbe():
            return channels.HttpStatus(settings)
        case HttpJsonProbe():
            return values.HttpJson(settings)
        case PrometheusProbe():
            return values.Prometheus(settings)
        case SqlProbe():
            return values.Sql(settings)
        case FileProbe():
            return values.File(settings)
        case CommandProbe():
            return values.Command(settings)
        case ManualProbe():
            return values.Manual(settings)


@dataclass(frozen=True)
class Outcome:
    name: str
    reading: Message | None
    error: str | None


async def run_once(probe: Probe, context: ProbeContext) -> Outcome:
    """Run one probe within its timeout; failures become an Outcome, never an exception."""
    name = describe_probe(probe.settings)
    try:
        async with asyncio.timeout(probe.settings.timeout):
            return Outcome(name, await probe.measure(context), None)
    except TimeoutError:
        silence = f"no answer within {probe.settings.timeout:g}s"
        if isinstance(probe.settings, ChannelProbe):
            # Silence is itself the measurement: the channel is down.
            down = channel_reading(
                context.org, probe.settings.channel, up=False, latency_ms=None, detail=silence
            )
            return Outcome(name, down, None)
        return Outcome(name, None, silence.replace("answer", "result"))
    except ProbeError as error:
        return Outcome(name, None, str(error))


class ProbeSet:
    """The agent's reading source: on each tick, the probes that are due, run side by side.

    The next run of a probe is scheduled from the start of its last one, and a tick never
    starts a probe that is still running, so slow probes never pile up.
    """

    def __init__(self, probes: Sequence[Probe], context: ProbeContext, every: Sequence[float],
                 *, logger: logging.Logger | logging.LoggerAdapter[logging.Logger]) -> None:
        self.probes = list(probes)
        self._every = list(every)
        self._due = [0.0] * len(self.probes)
        self._failing = [False] * len(self.probes)
        self.context = context
        self._log = logger

    async def read(self, now: float) -> Sequence[Message]:
        due = [i for i, at in enumerate(self._due) if at <= now]
        for i in due:
            self._due[i] = now + self._every[i]
        outcomes = await asyncio.gather(
            *(run_once(self.probes[i], self.context) for i in due)
        )
        readings: list[Message] = []
        for i, outcome in zip(due, outcomes, strict=True):
            if outcome.reading is not None:
                readings.append(outcome.reading)
                if self._failing[i]:
                    self._log.info("probe %s works again", outcome.name)
            elif not self._failing[i]:
                # One warning when a probe starts failing, not one per tick.
                self._log.warning("probe %s failed: %s", outcome.name, outcome.error)
            self._failing[i] = outcome.reading is None
        return readings
