"""Builders for wire messages with sensible defaults, so tests state only what matters."""

from __future__ import annotations

from datetime import UTC, datetime

from chain.wire import BacklogGauge, ChannelReading, FlowCounter, Heartbeat, Status

TS = datetime(2025, 7, 17, 9, 0, tzinfo=UTC)
T0_EPOCH = 1_752_742_800.0
"""17 Jul 2025 09:00 UTC as receive time: the day the OM disconnected."""


def online(org: str = "om", session: int = 1, seq: int = 1, interval: float = 5.0) -> Status:
    return Status(org=org, session=session, seq=seq, ts=TS, state="online", interval=interval)


def offline(org: str = "om", session: int = 1, seq: int = 0, cause: str = "lost") -> Status:
    return Status(
        org=org,
        session=session,
        seq=seq,
        ts=TS,
        state="offline",
        cause="lost" if cause == "lost" else "stopped",
    )


def heartbeat(
    org: str = "om", session: int = 1, seq: int = 2, interval: float = 5.0, hist: bool = False
) -> Heartbeat:
    return Heartbeat(org=org, session=session, seq=seq, ts=TS, interval=interval, hist=hist)


def channel(
    org: str = "om", channel: str = "email", up: bool = True, session: int = 1, seq: int = 3
) -> ChannelReading:
    return ChannelReading(
        org=org,
        session=session,
        seq=seq,
        ts=TS,
        channel="email" if channel == "email" else "phone",
        up=up,
        latency_ms=20.0 if up else None,
    )


def flow(
    count: int,
    *,
    org: str = "om",
    link: str = "om-justid",
    direction: str = "sent",
    session: int = 1,
    seq: int = 4,
) -> FlowCounter:
    return FlowCounter(
        org=org,
        session=session,
        seq=seq,
        ts=TS,
        link=link,
        direction="sent" if direction == "sent" else "received",
        count=count,
    )


def backlog(
    items: int, *, org: str = "om", process: str = "jds_pending", seq: int = 5
) -> BacklogGauge:
    return BacklogGauge(org=org, session=1, seq=seq, ts=TS, process=process, items=items)
