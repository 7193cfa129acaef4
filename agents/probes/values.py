"""Value probes: flow counters and backlog gauges from what organisations' systems expose."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

import aiosqlite
import httpx
from prometheus_client.parser import text_string_to_metric_families

from agents.config import (
    CommandProbe,
    FileProbe,
    HttpJsonProbe,
    ManualProbe,
    PrometheusProbe,
    SqlProbe,
)
from agents.manual import read_manual
from agents.probes.base import ProbeContext, ProbeError, dig, parse_json, value_reading
from chain.wire import BacklogGauge, FlowCounter

Value = FlowCounter | BacklogGauge


async def _get(context: ProbeContext, url: str) -> httpx.Response:
    """GET within the probe's own deadline (set by the scheduler), so no httpx timeout."""
    try:
        response = await context.http.get(url, timeout=None)
    except httpx.HTTPError as error:
        raise ProbeError(f"{url}: {type(error).__name__}: {error}") from None
    if response.status_code != 200:
        raise ProbeError(f"{url}: HTTP {response.status_code} {response.reason_phrase}")
    return response


@dataclass
class HttpJson:
    settings: HttpJsonProbe

    async def measure(self, context: ProbeContext) -> Value:
        s = self.settings
        response = await _get(context, s.url)
        document = parse_json(response.content, s.url)
        return value_reading(context.org, s, dig(document, s.field))


@dataclass
class Prometheus:
    """One sample of a Prometheus text exposition, chosen by metric name and labels."""

    settings: PrometheusProbe

    async def measure(self, context: ProbeContext) -> Value:
        s = self.settings
        response = await _get(context, s.url)
        try:
            families = list(text_string_to_metric_families(response.text))
        except ValueError as error:
            raise ProbeError(f"{s.url}: not Prometheus text format: {error}") from None
        matches = [
            sample.value
            for family in families
            for sample in family.samples
            if sample.name == s.metric
            and all(sample.labels.get(k) == v for k, v in s.labels.items())
        ]
        labels = ",".join(f'{k}="{v}"' for k, v in s.labels.items())
        series = f"{s.metric}{{{labels}}}" if labels else s.metric
        if not matches:
            raise ProbeError(f"{s.url}: no series {series}")
        if len(matches) > 1:
            raise ProbeError(f"{s.url}: {len(matches)} series match {series}; add labels")
        return value_reading(context.org, s, matches[0])


@dataclass
class Sql:
    """A query on an SQLite database, opened read-only; the first column of the first row."""

    settings: SqlProbe

    async def measure(self, context: ProbeContext) -> Value:
        s = self.settings
        path = context.config.resolve(s.database)
        if not path.exists():
            raise ProbeError(f"{path}: no such database")
        try:
            async with (
                aiosqlite.connect(f"file:{path}?mode=ro", uri=True) as db,
                db.execute(s.query) as cursor,
            ):
                row = await cursor.fetchone()
        except aiosqlite.Error as error:
            raise ProbeError(f"{path}: {error}") from None
        if row is None or not row:
            raise ProbeError(f"{path}: the query returned no row")
        return value_reading(context.org, s, row[0])


@dataclass
class File:
    """A file that the organisation's own systems write: one number, or JSON and a field."""

    settings: FileProbe

    async def measure(self, context: ProbeContext) -> Value:
        s = self.settings
        path = context.config.resolve(s.path)
        try:
            text = await asyncio.to_thread(path.read_text)
        except OSError as error:
            raise ProbeError(f"{path}: {error.strerror}") from None
        value = dig(parse_json(text, str(path)), s.field) if s.field else text
        return value_reading(context.org, s, value)


@dataclass
class Command:
    """A command's standard output, one number. Run without a shell, killed at the timeout."""

    settings: CommandProbe

    async def measure(self, context: ProbeContext) -> Value:
        s = self.settings
        try:
            process = await asyncio.create_subprocess_exec(
                *s.argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
        except OSError as error:
            raise ProbeError(f"{s.argv[0]}: {error.strerror}") from None
        try:
            out, err = await process.communicate()
        except asyncio.CancelledError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
            raise
        if process.returncode != 0:
            why = err.decode(errors="replace").strip().splitlines()
            raise ProbeError(
                f"{s.argv[0]}: exit {process.returncode}" + (f": {why[0]}" if why else "")
            )
        return value_reading(context.org, s, out.decode(errors="replace"))


@dataclass
class Manual:
    settings: ManualProbe

    async def measure(self, context: ProbeContext) -> Value:
        values = read_manual(context.manual_file)
        target = self.settings.target
        if target not in values:
            raise ProbeError(
                f"{target}: not set yet (ketenwacht agent set --config FILE {target} VALUE)"
            )
        return value_reading(context.org, self.settings, values[target].value)
