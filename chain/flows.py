"""Judging a link from the cumulative counters at both of its ends, as statistical decisions.

A silence is STALLED once it is improbable under the link's expected rate: for a Poisson
stream, P(no movement for a while) = e^(-expected), so the link is declared when the
messages expected since its last movement reach `level` = ln(messages the chain carries a
year / STALLS_PER_YEAR): a healthy chain then sees that many false declarations a year.
STUCK is the receiver's silence judged the same way while the sender counts on. SLOW is
a rate far below expectation over a window long enough to tell, held for SLOW_HOLD.
docs/alarms.md gives the arithmetic for each link.
"""

from __future__ import annotations

import math
from typing import Final

from chain.counters import CumulativeCounter
from chain.expectation import improbably_few
from chain.orgs import DEFAULT_INTERVAL, STALE_AFTER_INTERVALS
from chain.topology import Link
from chain.views import LinkState, LinkView, OrgState, OrgView

STALLS_PER_YEAR: Final = 1.0
"""The false-alarm budget: false STALLED or STUCK declarations a year, the whole chain."""
STALL_MINIMUM: Final = 60.0
"""A silence is never declared sooner than this (seconds): the counters' reporting cadence
is of this order, and a busy link would otherwise be judged on one missed report."""
SLOW_FRACTION: Final = 0.5
"""SLOW only if fewer than this fraction of the expected messages came ..."""
SLOW_ALPHA: Final = 1e-6
"""... and that few is this improbable (or less) for a healthy link."""
SLOW_EXPECTED: Final = 100.0
"""The SLOW window is as long as it takes to expect this many messages ..."""
SLOW_WINDOW_SHORTEST: Final = 600.0
SLOW_WINDOW_LONGEST: Final = 6 * 3600.0
"""... but no shorter or longer than these (s); a link that cannot fill it is never SLOW."""
SLOW_HOLD: Final = 600.0
"""SLOW must hold at now, SLOW_HOLD / 2 and SLOW_HOLD seconds ago (Prometheus' `for:`)."""
UNREACHABLE = (OrgState.OFFLINE, OrgState.ISOLATED)


def stall_level(messages_per_year: float) -> float:
    """Expected messages a silence must have missed to be declared (see the module text)."""
    return math.log(max(messages_per_year, math.e) / STALLS_PER_YEAR)


def judge_link(
    link: Link,
    sent: CumulativeCounter | None,
    recv: CumulativeCounter | None,
    ends: tuple[OrgView | None, OrgView | None],
    now: float,
    level: float,
) -> LinkView:
    live = [c for c in (recv, sent) if c is not None and c.first_at is not None]
    primary = live[0] if live else None
    moves = [c.moved_at for c in live if c.moved_at is not None]
    state, since, cause = _state(link, sent, recv, live, ends, now, level)
    return LinkView(
        id=link.id,
        sender=link.sender,
        receiver=link.receiver,
        sent_total=sent.latest if sent else None,
        received_total=recv.latest if recv else None,
        sent_per_hour=sent.per_hour(now) if sent else None,
        received_per_hour=recv.per_hour(now) if recv else None,
        state=state,
        since=since,
        cause=cause,
        last_movement=max(moves) if moves else None,
        usual_per_hour=primary.expectation.rate_at(now) if primary else None,
    )


def _state(
    link: Link,
    sent: CumulativeCounter | None,
    recv: CumulativeCounter | None,
    live: list[CumulativeCounter],
    ends: tuple[OrgView | None, OrgView | None],
    now: float,
    level: float,
) -> tuple[LinkState, float | None, str]:
    for end in ends:
        if end is not None and end.state in UNREACHABLE:
            why = f"{end.id} {end.state.value}" + (f" ({end.cause})" if end.cause else "")
            return LinkState.DOWN, end.since, why
    if sent is None and recv is None:
        return LinkState.UNKNOWN, None, "no counts yet"
    if not live:
        return LinkState.UNKNOWN, None, "only retained counts so far"
    sender, receiver = ends
    if recv is not None and (unheard := _not_reporting(recv, receiver, link.receiver, now)):
        # Only the receiver can say what arrived; what the sender counts proves nothing.
        return LinkState.UNKNOWN, None, unheard
    if sent is not None and (unheard := _not_reporting(sent, sender, link.sender, now)):
        # Judged on what the receiver counts alone: a counter that stopped is no news.
        live = [c for c in live if c is not sent]
        sent = None
        if not live:
            return LinkState.UNKNOWN, None, unheard
    primary = live[0]
    quiet = max(c.quiet_since for c in live if c.quiet_since is not None)
    if (declared := _silence(primary, quiet, now, level)) is not None:
        return LinkState.STALLED, declared, f"no movement for {_duration(now - quiet)}"
    if sent is not None and recv is not None and recv.quiet_since is not None and (
        sent.moved_at is not None and sent.moved_at > recv.quiet_since
    ):
        declared = _silence(recv, recv.quiet_since, now, level)
        if declared is not None:
            return LinkState.STUCK, declared, f"{link.receiver} receives nothing of what is sent"
    if all(c.moved_at is None for c in live):
        expected = primary.expectation.expected(quiet, now)
        return LinkState.UNKNOWN, None, f"no movement seen yet ({expected:.1f} expected so far)"
    if (slow := _slow(primary, now)) is not None:
        return LinkState.SLOW, None, slow
    return LinkState.FLOWING, None, ""


def _not_reporting(
    counter: CumulativeCounter, end: OrgView | None, org_id: str, now: float
) -> str | None:
    """Why this end's counter says nothing now, if it does not: its agent is STALE, or it
    has sent no count for as long as would make a heartbeat stale."""
    if end is not None and end.state is OrgState.STALE:
        return f"{org_id} not reporting"
    interval = end.interval if end is not None and end.interval else DEFAULT_INTERVAL
    if counter.reported_at is None or now - counter.reported_at > (
        STALE_AFTER_INTERVALS * interval
    ):
        age = now - (counter.reported_at or now)
        return f"no counts from {org_id} for {_duration(age)}"
    return None


def _silence(counter: CumulativeCounter, quiet: float, now: float, level: float) -> float | None:
    """When a silence since `quiet` became improbable (declared), if it has by `now`. Only
    what was reported is evidence: between two reports (every 24 minutes in an exercise at
    a day a minute) the silence is not known to go on."""
    known = min(now, counter.reported_at or quiet)
    if known - quiet < STALL_MINIMUM:
        return None
    improbable = counter.expectation.reaching(quiet, level, known)
    return None if improbable is None else max(improbable, quiet + STALL_MINIMUM)


def _slow(counter: CumulativeCounter, now: float) -> str | None:
    """Why the rate is too low to be chance, if it has been for SLOW_HOLD."""
    why = None
    known = min(now, counter.reported_at or now)  # counts after the last report are unknown
    for back in (SLOW_HOLD, SLOW_HOLD / 2, 0.0):
        end = known - back
        start, expected = counter.expectation.window_back(end, SLOW_EXPECTED,
                                                          SLOW_WINDOW_LONGEST)
        if expected < SLOW_EXPECTED:
            return None
        if end - start < SLOW_WINDOW_SHORTEST:
            start = end - SLOW_WINDOW_SHORTEST
            expected = counter.expectation.expected(start, end)
        if counter.recovered_at is not None and start < counter.recovered_at:
            return None  # a stall is in the window: moving again, it is FLOWING at once
        first, last = counter.count_at(start), counter.count_at(end)
        if first is None or last is None:
            return None
        observed = last - first
        if observed >= SLOW_FRACTION * expected or improbably_few(observed, expected) > SLOW_ALPHA:
            return None
        why = f"{observed} in {_duration(end - start)}, {expected:.0f} expected"
    return why


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 3 * 86400:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.0f} days"
