"""Judging a link from the cumulative counters at both of its ends."""

from __future__ import annotations

from typing import Final

from chain.counters import CumulativeCounter
from chain.topology import Link
from chain.views import LinkState, LinkView, OrgState, OrgView

STALL_AFTER_GAPS: Final = 5.0
"""A link is STALLED after this many of its usual gaps between movements without one."""
STALL_MINIMUM: Final = 60.0
"""...and never sooner than this many seconds, whatever its rate."""
SLOW_FRACTION: Final = 0.5
UNREACHABLE = (OrgState.OFFLINE, OrgState.ISOLATED)


def stall_after(
    link: Link, sent: CumulativeCounter | None, recv: CumulativeCounter | None
) -> float:
    """Seconds without movement that count as a standstill for this link."""
    usual = max(
        (c.usual_per_hour() or 0.0 for c in (sent, recv) if c is not None), default=0.0
    ) or link.per_hour
    gap = 3600.0 / usual if usual > 0 else float("inf")
    return max(STALL_MINIMUM, STALL_AFTER_GAPS * gap)


def judge_link(
    link: Link,
    sent: CumulativeCounter | None,
    recv: CumulativeCounter | None,
    ends: tuple[OrgView | None, OrgView | None],
    now: float,
) -> LinkView:
    sent_rate = sent.per_hour(now) if sent else None
    recv_rate = recv.per_hour(now) if recv else None
    usual = max((c.usual_per_hour() or 0.0 for c in (sent, recv) if c), default=0.0) or None
    moves = [c.moved_at for c in (sent, recv) if c is not None and c.moved_at is not None]
    last_movement = max(moves) if moves else None
    quiet = [c.quiet_since for c in (sent, recv) if c is not None and c.quiet_since is not None]
    state, since, cause = _state(link, sent, recv, ends, now, max(quiet) if quiet else None)
    if state is LinkState.FLOWING and usual:
        current = recv_rate if recv_rate is not None else sent_rate
        if current is not None and current < SLOW_FRACTION * usual:
            state, since, cause = LinkState.SLOW, None, f"{current:.0f}/h, usually {usual:.0f}/h"
    return LinkView(
        id=link.id,
        sender=link.sender,
        receiver=link.receiver,
        sent_total=sent.latest if sent else None,
        received_total=recv.latest if recv else None,
        sent_per_hour=sent_rate,
        received_per_hour=recv_rate,
        state=state,
        since=since,
        cause=cause,
        last_movement=last_movement,
        usual_per_hour=usual,
    )


def _state(
    link: Link,
    sent: CumulativeCounter | None,
    recv: CumulativeCounter | None,
    ends: tuple[OrgView | None, OrgView | None],
    now: float,
    quiet_since: float | None,
) -> tuple[LinkState, float | None, str]:
    for end in ends:
        if end is not None and end.state in UNREACHABLE:
            why = f"{end.id} {end.state.value}" + (f" ({end.cause})" if end.cause else "")
            return LinkState.DOWN, end.since, why
    if sent is None and recv is None:
        return LinkState.UNKNOWN, None, "no counts yet"
    limit = stall_after(link, sent, recv)
    if quiet_since is None:
        return LinkState.UNKNOWN, None, "only retained counts so far"
    if now - quiet_since > limit:
        return LinkState.STALLED, quiet_since + limit, f"no movement for over {_duration(limit)}"
    if sent is not None and recv is not None and recv.quiet_since is not None:
        sender_moving = sent.moved_at is not None and now - sent.moved_at <= limit
        if sender_moving and now - recv.quiet_since > limit:
            since = recv.quiet_since + limit
            return LinkState.STUCK, since, f"{link.receiver} receives nothing of what is sent"
    return LinkState.FLOWING, None, ""


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.0f} h"
