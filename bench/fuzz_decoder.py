"""Mutation fuzzing of the payload decoder: nothing but PayloadError may ever come out.

Every input goes through the one decoder the monitor uses (`chain.wire.decode`). Inputs
are valid payloads of every kind, mutated: bit flips, interesting bytes, truncation,
deletion, duplication, splicing of two payloads, numbers swapped for huge or non-JSON ones,
deep nesting, invalid UTF-8, and oversized payloads. An input that gives a new outcome
(decoded, or refused with a reason not seen before) joins the corpus, so mutations build on
what got furthest. Seeded: the same seed and the same number of executions give the same
inputs.

Run: .venv/bin/python bench/fuzz_decoder.py [--seconds 60] [--seed 1]
Exit 0 when only PayloadError occurred; 1, with the input, when anything else did.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from chain.errors import PayloadError
from chain.wire import (
    MAX_PAYLOAD_BYTES,
    Acknowledgement,
    Annotation,
    BacklogGauge,
    ChannelReading,
    ExerciseClock,
    ExerciseInject,
    FlowCounter,
    Heartbeat,
    Isolation,
    ManualReport,
    Status,
    decode,
    encode,
)

DECODERS: tuple[Callable[[bytes], object], ...] = (decode,)
MAX_CORPUS = 2000
TS = datetime(2025, 7, 17, 9, 0, tzinfo=UTC)
NUMBER = re.compile(rb"-?\d+(\.\d+)?([eE][-+]?\d+)?")
HUGE = [b"1e999", b"-1e999", b"NaN", b"Infinity", b"-Infinity", b"18446744073709551616",
        b"-9223372036854775809", b"1e-999", b"-0", b"0.0", b"99999999999999999999999999999",
        b"1" * 400, b"nan", b"true", b"null", b'"1"']
INTERESTING = b'\x00\xff\xfe"{}[],:\\-+.0123456789eEtfn \n\t\x7f\xc3\x80'


def seeds() -> list[bytes]:
    """One valid payload of every kind the monitor decodes."""
    envelope: dict[str, Any] = {"org": "om", "session": 3, "seq": 7, "ts": TS}
    return [
        encode(Status(**envelope, state="online", interval=30)),
        encode(Status(**envelope, state="offline", cause="lost")),
        encode(Heartbeat(**envelope, interval=5, buffered=2, dropped=1, hist=True)),
        encode(ChannelReading(**envelope, channel="email", up=False, latency_ms=850.5,
                              detail="external mail disconnected")),
        encode(FlowCounter(**envelope, link="om-justid", direction="sent", count=48210)),
        encode(BacklogGauge(**envelope, process="jds_pending", items=1250)),
        encode(Annotation(id="a-1", author="duty officer", ts=TS, text="phoned", org="om")),
        encode(Acknowledgement(id="k-1", author="duty", ts=TS, subject="org:om")),
        encode(ManualReport(id="r-1", author="liaison", ts=TS, org="cjib", text="works",
                               observed_at=TS, channel="phone", up=True)),
        encode(Isolation(id="i-1", author="duty", ts=TS, org="om", isolated=True)),
        encode(ExerciseClock(name="oefening", at=TS, speed=60.0, paused=False,
                                     day_zero=TS)),
        encode(ExerciseInject(id="inj-1", at=TS, text="OM offline", source="x")),
    ]


@dataclass
class Fuzzer:
    rng: random.Random
    corpus: list[bytes] = field(default_factory=seeds)
    seen: set[str] = field(default_factory=set)

    def mutate(self, data: bytes) -> bytes:
        for _ in range(self.rng.randint(1, 4)):
            data = self.rng.choice(self._mutations)(self, data)
        return data

    def _flip(self, data: bytes) -> bytes:
        if not data:
            return data
        at = self.rng.randrange(len(data))
        return data[:at] + bytes([data[at] ^ (1 << self.rng.randrange(8))]) + data[at + 1:]

    def _interesting(self, data: bytes) -> bytes:
        at = self.rng.randint(0, len(data))
        byte = INTERESTING[self.rng.randrange(len(INTERESTING))]
        replace = self.rng.random() < 0.5 and at < len(data)
        return data[:at] + bytes([byte]) + data[at + (1 if replace else 0):]

    def _truncate(self, data: bytes) -> bytes:
        return data[: self.rng.randint(0, len(data))]

    def _delete(self, data: bytes) -> bytes:
        start = self.rng.randint(0, len(data))
        return data[:start] + data[start + self.rng.randint(1, 16):]

    def _duplicate(self, data: bytes) -> bytes:
        start = self.rng.randint(0, len(data))
        chunk = data[start:start + self.rng.randint(1, 32)]
        at = self.rng.randint(0, len(data))
        return data[:at] + chunk * self.rng.randint(1, 8) + data[at:]

    def _splice(self, data: bytes) -> bytes:
        other = self.rng.choice(self.corpus)
        return data[: self.rng.randint(0, len(data))] + other[self.rng.randint(0, len(other)):]

    def _number(self, data: bytes) -> bytes:
        spans = [m.span() for m in NUMBER.finditer(data)]
        if not spans:
            return data
        start, end = self.rng.choice(spans)
        return data[:start] + self.rng.choice(HUGE) + data[end:]

    def _nest(self, data: bytes) -> bytes:
        depth = self.rng.choice([10, 100, 1000, 5000])
        opener = self.rng.choice([b"[", b'{"a":'])
        closer = b"]" if opener == b"[" else b"}"
        nested = opener * depth + b"1" + closer * depth
        at = data.find(b":") + 1
        return data[:at] + nested + b"," + data[at:] if at else nested

    def _bad_utf8(self, data: bytes) -> bytes:
        at = data.find(b'"', self.rng.randint(0, len(data))) + 1
        return data[:at] + self.rng.choice([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\\ud800"]) \
            + data[at:]

    def _oversize(self, data: bytes) -> bytes:
        return data + b" " * (MAX_PAYLOAD_BYTES - len(data) + self.rng.randint(-1, 1))

    _mutations: tuple[Callable[[Fuzzer, bytes], bytes], ...] = (
        _flip, _flip, _interesting, _interesting, _truncate, _delete, _duplicate, _splice,
        _number, _number, _nest, _bad_utf8, _oversize,
    )

    def learn(self, data: bytes, outcome: str) -> None:
        """Keep an input whose outcome is new: later mutations start from it."""
        if outcome not in self.seen and len(self.corpus) < MAX_CORPUS:
            self.seen.add(outcome)
            self.corpus.append(data)


@dataclass
class Result:
    executions: int = 0
    decoded: int = 0
    refused: int = 0
    failures: list[tuple[bytes, str]] = field(default_factory=list)
    seconds: float = 0.0


def fuzz(seconds: float, seed: int) -> Result:
    fuzzer, result = Fuzzer(random.Random(seed)), Result()
    started = time.perf_counter()
    deadline = started + seconds
    while time.perf_counter() < deadline:
        for _ in range(100):  # the clock is read once per batch, not per input
            data = fuzzer.mutate(fuzzer.rng.choice(fuzzer.corpus))
            for decoder in DECODERS:
                result.executions += 1
                try:
                    decoder(data)
                except PayloadError as error:
                    result.refused += 1
                    fuzzer.learn(data, f"{decoder.__name__}: {str(error)[:40]}")
                except Exception as error:  # what this fuzzer is here to find
                    result.failures.append((data, f"{decoder.__name__}: {error!r}"))
                else:
                    result.decoded += 1
                    fuzzer.learn(data, f"{decoder.__name__}: decoded")
    result.seconds = time.perf_counter() - started
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    result = fuzz(args.seconds, args.seed)
    rate = result.executions / result.seconds if result.seconds else 0.0
    print(f"fuzz_decoder: {result.executions} executions in {result.seconds:.1f} s "
          f"({rate:,.0f}/s), seed {args.seed}: {result.decoded} decoded, {result.refused} "
          f"refused with PayloadError, {len(result.failures)} other exceptions")
    for data, problem in result.failures[:5]:
        print(f"  {problem}\n    input ({len(data)} bytes): {data[:200]!r}")
    return 1 if result.failures else 0


if __name__ == "__main__":
    sys.exit(main())
