"""The 2025 outage scenario, run end to end at high speed: the state at chosen moments
matches the timeline the sources give."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.exercise import ChainVoices
from agents.scripted import ScriptedChain
from chain.crisislog import EntryKind
from chain.engine import ChainEngine
from chain.views import ChainView, LinkState, OrgState
from ketenwacht.exercise import load_scenario
from ketenwacht.startup import load_topology

SCENARIO = Path(__file__).parents[2] / "seeds" / "scenarios" / "om-offline-2025.toml"
STEP = 3600.0
"""One round of every organisation's heartbeat and readings per hour of the exercise."""


@pytest.fixture(scope="module")
def timeline() -> dict[int, ChainView]:
    """The chain's view at noon of every day, from one run through all 72 days, with the
    crisis room's operator reports applied as they fall due."""
    topology = load_topology(None)
    chain = ScriptedChain(topology, load_scenario(SCENARIO, topology))
    voices = ChainVoices(chain)
    engine = ChainEngine(topology)
    engine.monitor_connected(chain.start)
    views: dict[int, ChainView] = {}
    at = chain.start
    while at <= chain.end:
        for message in voices.round(at, STEP):
            engine.apply(message, received_at=at)
        for report in voices.reports(at - STEP, at):
            engine.apply_op(report, received_at=at)
        engine.evaluate(at)
        day = chain.day(at)
        if day % 1 == 0.5:
            views[int(day)] = engine.view(at)
        at += STEP
    return views


def test_om_is_offline_on_day_two_and_its_flows_stop(timeline: dict[int, ChainView]) -> None:
    assert timeline[0].org("om").state is OrgState.ONLINE
    day2 = timeline[2]
    assert day2.org("om").state is OrgState.OFFLINE
    assert day2.org("om").cause == "lost"
    assert day2.link("om-justid").state is not LinkState.FLOWING
    assert day2.org("justid").state is OrgState.ONLINE


def test_om_email_is_back_on_day_twenty_one(timeline: dict[int, ChainView]) -> None:
    def email_up(day: int) -> bool:
        email = next(c for c in timeline[day].org("om").channels if c.name == "email")
        return email.up

    assert timeline[18].org("om").state is not OrgState.OFFLINE  # reconnected on day 17
    assert not email_up(18)
    assert not email_up(20)
    assert email_up(21)  # back from noon of day 21 (7 August)


def test_jds_flow_moves_again_after_day_forty_seven(timeline: dict[int, ChainView]) -> None:
    assert timeline[46].link("om-justid").state in (LinkState.STALLED, LinkState.DOWN,
                                                    LinkState.STUCK)
    after = timeline[48].link("om-justid")
    assert after.state in (LinkState.FLOWING, LinkState.SLOW)
    assert after.received_total is not None and after.received_total > 0


def test_the_jds_backlog_grows_while_dark_and_drains_after(timeline: dict[int, ChainView]) -> None:
    def pending(day: int) -> int:
        backlog = next(b for b in timeline[day].org("om").backlogs if b.process == "jds_pending")
        return backlog.items

    assert pending(18) > pending(0) + 15 * 400
    assert pending(60) < pending(52)


@pytest.mark.parametrize("scale", [60.0, 1440.0])
def test_day_zero_is_healthy_on_screen_and_in_the_log(scale: float) -> None:
    """The exercise's day 0, before anything goes wrong, with a round of readings every
    wall second (so every `scale` exercise seconds: 24 minutes at its default of a day a
    minute) and the screen looking every 5 exercise minutes, between rounds too: every
    link FLOWING or UNKNOWN at every look, FLOWING at some look unless it does not exist
    yet (the emergency police feed, UNKNOWN throughout), nothing in the log about links,
    processes or organisations."""
    topology = load_topology(None)
    chain = ScriptedChain(topology, load_scenario(SCENARIO, topology))
    voices = ChainVoices(chain)
    engine = ChainEngine(topology)
    engine.monitor_connected(chain.start)
    seen: dict[str, set[LinkState]] = {}
    look, at = chain.start, chain.start
    while chain.day(at) < 1.0:
        for message in voices.round(at, scale):
            engine.apply(message, received_at=at)
        while look < at + scale:
            for link in engine.evaluate(look).links:
                seen.setdefault(link.id, set()).add(link.state)
            look += 300.0
        at += scale
    alarms = {link: states - {LinkState.FLOWING, LinkState.UNKNOWN}
              for link, states in seen.items()}
    assert not any(alarms.values()), alarms
    there = {link.id for link in topology.links if chain.exists(link, chain.moment(1.0))}
    assert all(LinkState.FLOWING in seen[link] for link in there), seen
    assert {link: seen[link] for link in seen.keys() - there} == {
        "politie-justid": {LinkState.UNKNOWN}}
    entries = [e for e in engine.log.entries if e.kind in (EntryKind.LINK,
                                                           EntryKind.PROCESS, EntryKind.ORG)]
    assert entries == [], [(e.subject, e.text) for e in entries]


def test_the_key_dates_show_what_the_sources_say(timeline: dict[int, ChainView]) -> None:
    """At the dates the sources give, the screen shows what they describe: OM dark, its
    phones reported limited, email back, the emergency feed, JDS moving again, all links
    restored with a backlog left. Each date's document is named by its [[source]] id."""
    def pending(day: int) -> int:
        return next(b.items for b in timeline[day].org("om").backlogs
                    if b.process == "jds_pending")

    def phone(day: int) -> tuple[bool, str]:
        channel = next(c for c in timeline[day].org("om").channels if c.name == "phone")
        return channel.up, channel.detail

    # 17 Jul, day 0: the decision to disconnect (S3); nothing wrong yet.
    assert timeline[0].org("om").state is OrgState.ONLINE
    # 18 Jul, day 1: connections cut, no external email ("4").
    assert timeline[1].org("om").state is OrgState.OFFLINE
    # 22 Jul, day 5: OM reachable by phone only in part ("3"). OM is dark and says nothing,
    # so the screen knows it from the room's own report.
    assert phone(4) == (True, "")
    up, detail = phone(5)
    assert not up and detail.startswith("reported by duty officer:")
    assert timeline[5].org("om").state is OrgState.OFFLINE
    # 12 Aug, day 26: the impact letter still counts phone reachability among the problems
    # (S0); no source says when it was fully back.
    assert not phone(26)[0] and not phone(71)[0]
    # 7 Aug noon, day 21: external email back ("1"; S0: since the end of the week before).
    email = {day: next(c.up for c in timeline[day].org("om").channels if c.name == "email")
             for day in (20, 21)}
    assert email == {20: False, 21: True}
    # The emergency police feed: a new work process (S0), not there on 17 Jul, agreed and
    # running by 12 Aug (S0, S3).
    for day in (0, 1, 17):
        assert timeline[day].link("politie-justid").state is LinkState.UNKNOWN
        assert not timeline[day].link("politie-justid").received_total
    feed = timeline[26].link("politie-justid")
    assert feed.state is LinkState.FLOWING and feed.received_total
    # Messages to and from JDS get going in the week of the letter of about 3 Sep (S4).
    assert timeline[46].link("om-justid").state is LinkState.STALLED
    assert timeline[48].link("om-justid").state in (LinkState.FLOWING, LinkState.SLOW)
    # The JDS backlog grows while OM is dark ("18" for the pace), more slowly while om-justid
    # runs partly, and drains once the connections are complete in the week of 8 Sep (S4), and
    # is not gone on 25 Sep ("8": backlogs remain).
    dark, partly = pending(46) - pending(41), pending(52) - pending(47)
    assert 0 < partly < dark
    assert pending(70) < pending(53)
    # 9 Sep, day 54: case files shared digitally with courts and lawyers again ("7").
    for link in ("om-rechtspraak", "om-advocatuur"):
        assert timeline[53].link(link).state is LinkState.STALLED
        assert timeline[54].link(link).state is LinkState.FLOWING
    # 25 Sep, day 70: all primary applications and chain links restored, backlogs remain ("8").
    assert {link.id for link in timeline[70].links if link.state is not LinkState.FLOWING} == set()
    assert pending(70) > 0
