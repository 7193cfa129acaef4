"""Simulated traffic: each link follows its profile, irregularly but never improbably quiet,
and every count is a function of (link, moment) that both ends of the link agree on."""

from __future__ import annotations

from datetime import datetime
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from agents import traffic
from agents.simulator import TRANSIT_SECONDS, SimulatedOrg
from agents.traffic import count, counted, expected
from chain.engine import ChainEngine
from chain.topology import Link, parse_topology
from chain.views import LinkState
from chain.wire import FlowCounter
from tests.chain import factory as f

SEEDS = Path(__file__).resolve().parents[2] / "seeds" / "chain.toml"
TOPOLOGY = parse_topology(SEEDS.read_text(), origin=str(SEEDS))
LINKS = {link.id: link for link in TOPOLOGY.links}
ZONE = ZoneInfo(TOPOLOGY.timezone)
MONDAY = datetime(2025, 10, 6, tzinfo=ZONE).timestamp()
"""Monday 6 Oct 2025, 00:00 in Amsterdam: a week without a DST change."""
ALARMS = (LinkState.STALLED, LinkState.STUCK, LinkState.SLOW)


def _local(day: int, hour: int) -> float:
    return MONDAY + day * 86_400 + hour * 3600


@pytest.mark.parametrize("link", TOPOLOGY.links, ids=lambda link: link.id)
def test_counts_never_go_down(link: Link) -> None:
    """Minute by minute over a week, every link's count is monotone non-decreasing."""
    counts = [count(TOPOLOGY, link, MONDAY + 60 * minute) for minute in range(7 * 1440)]
    assert all(a <= b for a, b in pairwise(counts))


@pytest.mark.parametrize("link", TOPOLOGY.links, ids=lambda link: link.id)
def test_a_week_carries_its_yearly_average(link: Link) -> None:
    """Over a week of 168 hours from the anchor, even one with a DST change, exactly
    per_hour * 168 is expected; any other 7 days expect it within 3 % (the local hour a
    DST change adds or removes); what is counted is within a block of what is expected."""
    week = link.per_hour * 168
    spring = traffic.ANCHOR + 12 * 7 * 86_400  # Wed 26 Mar 2025 00:00 UTC; DST on the 30th
    for start, tolerance in ((spring, 1e-9), (spring + 3600 * 61.3, 0.03), (MONDAY, 0.03)):
        end = start + 7 * 86_400
        assert expected(TOPOLOGY, link, end) - expected(TOPOLOGY, link, start) == (
            pytest.approx(week, rel=tolerance))
        carried = count(TOPOLOGY, link, end) - count(TOPOLOGY, link, start)
        assert abs(carried - (expected(TOPOLOGY, link, end) - expected(TOPOLOGY, link, start))
                   ) <= traffic.BLOCK


def test_office_hours_are_busy_and_nights_and_weekends_quiet() -> None:
    """An office link carries far more on a weekday at 10:00 than at 03:00 or on Sunday."""
    link = LINKS["om-rechtspraak"]

    def hour(day: int, at: int) -> int:
        return sum(count(TOPOLOGY, link, _local(d, at + 1)) - count(TOPOLOGY, link, _local(d, at))
                   for d in range(day, day + 5 if day == 0 else day + 1))

    working, night = hour(0, 10), hour(0, 3)
    assert working > 20 * max(night, 1)
    assert working / 5 > 5 * max(hour(6, 10), 1)


def test_both_ends_agree_on_a_count() -> None:
    """Two calls agree; the receiver counts what the sender counted TRANSIT_SECONDS earlier,
    even in a process whose caches are cold."""
    link = LINKS["justid-justis"]
    at = _local(1, 11) + 17.3
    first = count(TOPOLOGY, link, at)
    traffic._week.cache_clear()
    traffic._arrivals.cache_clear()
    assert count(TOPOLOGY, link, at) == first
    sender = SimulatedOrg(TOPOLOGY, "justid").readings(at)
    receiver = SimulatedOrg(TOPOLOGY, "justis").readings(at + TRANSIT_SECONDS)
    sent = [r.count for r in sender if isinstance(r, FlowCounter) and r.link == link.id]
    received = [r.count for r in receiver if isinstance(r, FlowCounter) and r.link == link.id]
    assert sent == received == [first]


def test_the_flow_is_irregular() -> None:
    """Minute counts in a busy hour vary (not a straight line), but stay near the rate."""
    link = LINKS["om-justid"]
    start = _local(1, 10)
    counts = [count(TOPOLOGY, link, start + 60 * minute) for minute in range(61)]
    per_minute = [b - a for a, b in pairwise(counts)]
    assert len(set(per_minute)) >= 3
    assert 0 in per_minute
    mean = sum(per_minute) / 60
    variance = sum((n - mean) ** 2 for n in per_minute) / 59
    assert 0.3 * mean < variance < 2 * mean  # Poisson-like: variance near the mean


def test_irregularity_is_bounded_by_a_block() -> None:
    """Counted never strays more than one block from expected."""
    for x in range(0, 5000, 7):
        assert abs(counted("om-justid", x + 0.5) - (x + 0.5)) <= traffic.BLOCK


def test_a_simulated_week_never_alarms_a_healthy_link() -> None:
    """A week of om-justid and justid-justis, read every 60 s through the engine and judged
    every 10 minutes: never STALLED, STUCK or SLOW."""
    engine = ChainEngine(TOPOLOGY)
    links = (LINKS["om-justid"], LINKS["justid-justis"])
    orgs = ("om", "justid", "justis")
    seq = dict.fromkeys(orgs, 1)
    for org in orgs:
        engine.apply(f.online(org=org, seq=1, interval=60.0), received_at=MONDAY)
    alarms: list[tuple[float, str, str]] = []
    for minute in range(1, 7 * 1440 + 1):
        at = MONDAY + 60 * minute
        for org in orgs:
            seq[org] += 1
            engine.apply(f.heartbeat(org=org, seq=seq[org], interval=60.0), received_at=at)
        for link in links:
            for org, direction, moment in ((link.sender, "sent", at),
                                           (link.receiver, "received", at - TRANSIT_SECONDS)):
                seq[org] += 1
                engine.apply(f.flow(count(TOPOLOGY, link, moment), org=org, link=link.id,
                                    direction=direction, seq=seq[org]), received_at=at)
        if minute % 10 == 0:
            view = engine.evaluate(at)
            alarms.extend((at, lv.id, lv.state.value) for lv in view.links
                          if lv.id in {link.id for link in links} and lv.state in ALARMS)
    assert alarms == []

