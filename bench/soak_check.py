"""The soak's accounting: what the agents published against what the recorder holds.

Definitions (docs/reliability.md, "Load"):
  - published: per organisation, the seqs of its session whose publish completed (QoS 1 on
    PUBACK; heartbeats, QoS 0, once handed to the socket), planned stop included;
  - recorded live: rows whose retain flag is 0. Mosquitto and NATS set the flag only on a
    retained copy sent because of a new subscription, never on a message passed on live, so
    flag-1 rows are re-deliveries at subscribe, counted apart (the recorder subscribes before
    any agent starts, so a clean run has none);
  - rows == published: per organisation, the live rows are exactly the published seqs, each
    once (no message missing, none extra, none twice);
  - no seq gaps: per organisation and session, the distinct seqs the recording holds run
    1, 2, ... without a hole.
"""

from __future__ import annotations

import sqlite3
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import msgspec


class Envelope(msgspec.Struct):
    """The fields every payload carries that the accounting needs; the rest is ignored."""

    org: str
    session: int
    seq: int


@dataclass
class Accounting:
    published: int = 0
    recorded_live: int = 0
    redelivered: int = 0
    """Rows with the retain flag: retained copies sent at subscribe."""
    missing: int = 0
    extra: int = 0
    duplicates: int = 0
    gaps: int = 0
    other_rows: int = 0
    """Rows that are not an agent's message (none expected)."""
    orgs_short: list[str] = field(default_factory=list)
    orgs_with_gaps: list[str] = field(default_factory=list)

    @property
    def rows_equal_published(self) -> bool:
        return self.missing == self.extra == self.duplicates == 0

    def as_dict(self) -> dict[str, object]:
        return {**self.__dict__, "rows_equal_published": self.rows_equal_published}


def expand(ranges: list[list[int]]) -> set[int]:
    return {seq for first, last in ranges for seq in range(first, last + 1)}


def account(recording: Path, published: dict[str, tuple[int, set[int]]]) -> Accounting:
    """`published`: per organisation, its session and the seqs it got onto the broker."""
    decoder = msgspec.json.Decoder(Envelope)
    live: dict[tuple[str, int], Counter[int]] = defaultdict(Counter)
    held: dict[tuple[str, int], set[int]] = defaultdict(set)
    result = Accounting()
    with sqlite3.connect(f"file:{recording}?mode=ro", uri=True) as db:
        for payload, retain in db.execute("SELECT payload, retain FROM messages ORDER BY id"):
            try:
                envelope = decoder.decode(payload)
            except msgspec.DecodeError:
                result.other_rows += 1
                continue
            key = (envelope.org, envelope.session)
            held[key].add(envelope.seq)
            if retain:
                result.redelivered += 1
            else:
                live[key][envelope.seq] += 1
    for org, (session, seqs) in sorted(published.items()):
        rows = live.pop((org, session), Counter())
        result.published += len(seqs)
        result.recorded_live += rows.total()
        missing, extra = len(seqs - rows.keys()), len(rows.keys() - seqs)
        result.missing += missing
        result.extra += extra
        result.duplicates += rows.total() - len(rows)
        if missing or extra:
            result.orgs_short.append(org)
    for rows in live.values():  # sessions no agent of this run published
        result.extra += rows.total()
    for (org, _), seqs in sorted(held.items()):
        ordered = sorted(seqs - {0})  # seq 0 is a Last Will: not part of the sequence
        holes = sum(1 for a, b in zip([0, *ordered], ordered, strict=False) if b != a + 1)
        if holes:
            result.gaps += holes
            result.orgs_with_gaps.append(org)
    return result


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def memory_trend(samples: list[tuple[float, float]]) -> dict[str, float]:
    """RSS samples (seconds since start, MB): the median of the second and last thirds, and
    the slope over the last two thirds in MB/min (the first third is warm-up: imports done,
    caches and the table filling)."""
    third = max(1, len(samples) // 3)
    second = [mb for _, mb in samples[third:2 * third]] or [samples[-1][1]]
    last = [mb for _, mb in samples[2 * third:]] or [samples[-1][1]]
    steady = samples[third:]
    slope = 0.0
    if len(steady) >= 2 and len({t for t, _ in steady}) >= 2:
        slope = statistics.linear_regression([t for t, _ in steady],
                                             [mb for _, mb in steady]).slope * 60
    return {
        "rss_start_mb": samples[0][1],
        "rss_second_third_mb": statistics.median(second),
        "rss_last_third_mb": statistics.median(last),
        "rss_growth_%": 100 * (statistics.median(last) / statistics.median(second) - 1),
        "rss_slope_mb_per_min": slope,
    }
