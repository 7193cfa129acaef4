"""A four-hour exercise, recorded for real by the Recorder, for the after-action report tests.

From 17 July 2025 09:00 UTC (11:00 in Amsterdam), with heartbeats every minute:

- om's email is down from 0:30 to 0:50 (DEGRADED);
- om's agent dies at 1:00 (its Will: OFFLINE, lost) and restarts at 2:00 (a new session),
  then delivers the backlog readings it buffered meanwhile (`hist`);
- om's backlog jds_pending grows from 100 to 900 until 2:00, then drains to 50 at 4:00;
  cjib's execution_orders rises from 310 to 380, read every half hour;
- justid's heartbeats stop from 1:30 to 1:40 (STALE from 1:33);
- an operator annotates at 1:05 (with hostile text), acknowledges om at 1:10, isolates
  cjib from 2:30 to 3:00, and reports cjib's phone working at 2:50;
- two payloads are rejected at 0:10 and 0:11;
- the recorder loses the broker after 3:20 and subscribes again at 3:30: nothing is
  recorded in between, then the retained messages arrive again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from chain.topics import Topics
from chain.wire import (
    Acknowledgement,
    Annotation,
    BacklogGauge,
    ChannelReading,
    Heartbeat,
    Isolation,
    ManualReport,
    Message,
    Op,
    Status,
    encode,
)
from recording.recorder import Recorder

T0: Final = 1_752_742_800.0
"""17 Jul 2025 09:00:00 UTC."""
MINUTE: Final = 60.0
HOSTILE: Final = 'phoned OM <script>alert("x")</script> | no answer'
EMAIL_DOWN: Final = "external mail disconnected"
MALFORMED: Final = "JSON is malformed: object keys must be strings (byte 1)"
WRONG_TOPIC: Final = "topic 'keten/v1/om/heartbeat': a heartbeat of 'justid' belongs on elsewhere"

Recorded = tuple[float, str, bytes, bool, str | None]


def ts(at: float) -> datetime:
    return datetime.fromtimestamp(at, UTC)


@dataclass
class Exercise:
    topics: Topics = field(default_factory=Topics)
    rows: list[Recorded] = field(default_factory=list)
    seqs: dict[tuple[str, int], int] = field(default_factory=dict)
    sessions: dict[str, int] = field(default_factory=lambda: {"om": 1, "justid": 1, "cjib": 1})

    def seq(self, org: str) -> int:
        key = (org, self.sessions[org])
        self.seqs[key] = self.seqs.get(key, 0) + 1
        return self.seqs[key]

    def send(self, at: float, message: Message, *, retain: bool = False) -> None:
        self.rows.append((at, self.topics.of(message), encode(message), retain, None))

    def op(self, at: float, op: Op) -> None:
        self.rows.append((at, self.topics.op(op), encode(op), False, None))

    def birth(self, at: float, org: str, *, retain: bool = False, seq: int | None = None) -> None:
        self.send(at, Status(org=org, session=self.sessions[org], seq=seq or self.seq(org),
                             ts=ts(at), state="online", interval=MINUTE), retain=retain)

    def heartbeat(self, at: float, org: str) -> None:
        self.send(at, Heartbeat(org=org, session=self.sessions[org], seq=self.seq(org),
                                ts=ts(at), interval=MINUTE))

    def email(self, at: float, up: bool, *, retain: bool = False) -> None:
        self.send(at, ChannelReading(org="om", session=self.sessions["om"], seq=self.seq("om"),
                                     ts=ts(at), channel="email", up=up,
                                     detail="" if up else EMAIL_DOWN), retain=retain)

    def backlog(self, at: float, items: int, *, hist: bool = False,
                sent_at: float | None = None) -> None:
        self.send(sent_at or at, BacklogGauge(org="om", session=self.sessions["om"],
                                             seq=self.seq("om"), ts=ts(at),
                                             process="jds_pending", items=items, hist=hist))


def jds_pending(minute: int) -> int:
    """100 growing to 900 at 2:00, then draining to 50 at 4:00."""
    if minute <= 120:
        return 100 + round(800 * minute / 120)
    return 900 - round(850 * (minute - 120) / 120)


def exercise() -> list[Recorded]:
    ex = Exercise()
    for org in ("om", "justid", "cjib"):
        ex.birth(T0, org, retain=True)
    ex.email(T0, True, retain=True)
    ex.backlog(T0, jds_pending(0))
    for minute in range(1, 241):
        at = T0 + minute * MINUTE
        if 200 < minute < 210:
            continue  # the recorder has lost the broker
        if minute == 210:
            for org in ("om", "justid", "cjib"):
                ex.birth(at, org, retain=True, seq=1)
            ex.email(at, True, retain=True)
        om_alive = not 60 <= minute < 120
        for org in ("om", "justid", "cjib"):
            if (org == "om" and not om_alive) or (org == "justid" and 90 <= minute < 100):
                continue
            ex.heartbeat(at, org)
        _events(ex, minute, at)
        if om_alive and minute not in (30, 50):
            ex.email(at, not 30 < minute < 50)  # the probe runs every minute
        if minute % 5 == 0 and om_alive:
            ex.backlog(at, jds_pending(minute))
        if minute % 30 == 0:
            ex.send(at, BacklogGauge(org="cjib", session=1, seq=ex.seq("cjib"), ts=ts(at),
                                     process="execution_orders", items=300 + minute // 3))
    return ex.rows


def _events(ex: Exercise, minute: int, at: float) -> None:
    match minute:
        case 10:
            ex.rows.append((at, "keten/v1/om/heartbeat", b"{not json", False, MALFORMED))
        case 11:
            ex.rows.append((at, "keten/v1/om/heartbeat", b"{}", False, WRONG_TOPIC))
        case 30:
            ex.email(at, False)
        case 50:
            ex.email(at, True)
        case 60:
            ex.send(at, Status(org="om", session=1, seq=0, ts=ts(at), state="offline",
                               cause="lost"))
        case 65:
            ex.op(at, Annotation(id="a1", author="duty officer", ts=ts(at), text=HOSTILE,
                                 org="om"))
        case 70:
            ex.op(at, Acknowledgement(id="c1", author="duty officer", ts=ts(at),
                                      subject="org:om"))
        case 120:
            ex.sessions["om"] = 2
            ex.birth(at, "om")
            for buffered in range(65, 120, 5):
                ex.backlog(T0 + buffered * MINUTE, jds_pending(buffered), hist=True, sent_at=at)
        case 150 | 180:
            ex.op(at, Isolation(id=f"i{minute}", author="duty officer", ts=ts(at), org="cjib",
                                isolated=minute == 150, reason="cut off on purpose"))
        case 170:
            ex.op(at, ManualReport(id="r1", author="liaison", ts=ts(at), org="cjib",
                                   text="phoned the duty desk: phones work", channel="phone",
                                   up=True, observed_at=ts(at - 60)))


async def record(path: Path, rows: list[Recorded] | None = None) -> Path:
    """Write the rows through the real Recorder, as a monitor would have."""
    async with Recorder(path) as recorder:
        for at, topic, payload, retain, problem in exercise() if rows is None else rows:
            recorder.record(at, topic, payload, 1, retain, problem)
    return path
