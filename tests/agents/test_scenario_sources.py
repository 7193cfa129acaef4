"""The 2025 scenario against its sources: every event and inject cites a [[source]] of the
scenario, and what the crisis room hears by phone enters as operator reports."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from agents.exercise import ChainVoices
from agents.scripted import ScriptedChain
from chain.errors import ConfigError
from chain.scenario import ChannelEvent, FlowEvent, ReportEvent, Scenario, parse_scenario
from chain.topology import Topology
from ketenwacht.startup import load_topology
from tests.agents.test_exercise import SCENARIO


@pytest.fixture(scope="module")
def topology() -> Topology:
    return load_topology(None)


@pytest.fixture(scope="module")
def scenario(topology: Topology) -> Scenario:
    return parse_scenario(SCENARIO.read_text(), topology, origin=str(SCENARIO))


def test_every_event_and_inject_cites_a_source_of_the_scenario(scenario: Scenario) -> None:
    """Each event and inject names one or more of the scenario's own [[source]] ids."""
    ids = {source.id for source in scenario.sources}
    for item in (*scenario.events, *scenario.injects):
        cited = [s.strip() for s in item.source.split(",")]
        assert cited and set(cited) <= ids, item


def test_every_link_the_outage_stops_comes_back(scenario: Scenario, topology: Topology) -> None:
    """No link is left at the rate it had before the outage without an event saying so: each
    one the scenario stops returns by the last event, and each return is sourced or labelled."""
    last: dict[str, FlowEvent] = {}
    for event in sorted((e for e in scenario.events if isinstance(e, FlowEvent)),
                        key=lambda e: e.day):
        last[event.link] = event
    om_links = {link.id for link in topology.links if "om" in (link.sender, link.receiver)}
    assert om_links <= last.keys()
    assert all(event.rate > 0 and event.day <= 70 for event in last.values()), last


def test_the_room_hears_om_and_its_partners_by_report(scenario: Scenario) -> None:
    """OM's limited phone from 22 July and the partners' signals (SHN, lawyers, DTenV, DJI
    through lawyers) are operator reports; the OM's phone is never claimed back."""
    reports = [e for e in scenario.events if isinstance(e, ReportEvent)]
    first_phone = min((r for r in reports if r.channel == "phone"), key=lambda r: r.day)
    assert (first_phone.org, first_phone.up, int(first_phone.day)) == ("om", False, 5)
    authors = {r.author for r in reports}
    assert {"liaison SHN", "liaison advocatuur", "liaison DTenV"} <= authors
    assert "dji" in {r.org for r in reports}
    assert not any(isinstance(e, ChannelEvent | ReportEvent) and e.org == "om"
                   and e.channel == "phone" and e.up for e in scenario.events)


def test_reports_are_published_once_each_at_their_moment(
    scenario: Scenario, topology: Topology
) -> None:
    """The exercise turns each report event into one `_ops` ManualReport, dated at its day."""
    chain = ScriptedChain(topology, scenario)
    voices = ChainVoices(chain)
    halves = voices.reports(chain.start - 1, chain.moment(20)) + voices.reports(
        chain.moment(20), chain.end)
    events = sorted((e for e in scenario.events if isinstance(e, ReportEvent)),
                    key=lambda e: e.day)
    assert [(r.org, r.text, r.channel, r.up) for r in halves] == [
        (e.org, e.text, e.channel, e.up) for e in events]
    assert len({r.id for r in halves}) == len(halves)
    first = halves[0]
    assert first.observed_at == datetime(2025, 7, 22, 7, 0, tzinfo=UTC)  # 09:00 in Amsterdam


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ('channel = "phone"\n', "s.toml:16: event[0].channel: a channel without `up`: say "
                                "whether it works (up = true or false)"),
        ('up = false\n', "s.toml:16: event[0].up: `up` without a `channel`: name the channel "
                         "the report is about"),
        ('org = "nobody"\n', "s.toml:15: event[0].org: unknown organisation 'nobody'"),
    ],
)
def test_a_half_report_is_refused_with_its_line(
    topology: Topology, fields: str, message: str
) -> None:
    """A report with a channel but no `up` (or the reverse) would set nothing: refused, at
    the line of the field that is there."""
    org = "" if "org" in fields else 'org = "om"\n'
    text = ('[scenario]\nname = "x"\ntitle = "t"\nstart = "2025-07-17"\ndays = 10\n'
            '[[source]]\nid = "S0"\nref = "r"\n'
            f'[[event]]\nkind = "report"\nday = 1\n{org}text = "t"\nauthor = "a"\n'
            f'source = "S0"\n{fields}')
    with pytest.raises(ConfigError) as caught:
        parse_scenario(text, topology, origin="s.toml")
    assert str(caught.value) == message
