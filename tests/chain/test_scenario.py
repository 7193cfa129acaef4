"""Exercise scenarios: the 2025 outage file, and mistakes reported with line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from chain.errors import ConfigError
from chain.scenario import ChannelEvent, FlowEvent, StatusEvent, parse_scenario
from chain.topology import Topology

SCENARIO = Path(__file__).resolve().parents[2] / "seeds" / "scenarios" / "om-offline-2025.toml"


def test_the_2025_outage_follows_the_domain_timeline(topology: Topology) -> None:
    """OM offline from day 1, email back on day 21, JDS moving again from day 47."""
    scenario = parse_scenario(SCENARIO.read_text(), topology, origin=str(SCENARIO))
    events = scenario.events
    offline = next(e for e in events if isinstance(e, StatusEvent) and not e.online)
    assert (offline.org, offline.day) == ("om", 1.0)
    email = next(e for e in events if isinstance(e, ChannelEvent) and e.channel == "email"
                 and e.up)
    assert int(email.day) == 21
    restart = next(e for e in events if isinstance(e, FlowEvent) and e.link == "om-justid"
                   and e.rate > 0)
    assert restart.day == 47.0
    assert any(isinstance(e, FlowEvent) and e.link == "politie-justid" for e in events)
    assert scenario.injects


def test_every_invented_number_says_so(topology: Topology) -> None:
    """An event marked placeholder explains itself in its note."""
    scenario = parse_scenario(SCENARIO.read_text(), topology, origin="s.toml")
    for event in scenario.events:
        if event.placeholder:
            assert event.note is not None and "placeholder" in event.note


BASE = (
    '[scenario]\nname = "x"\ntitle = "t"\nstart = "2025-07-17"\ndays = 10\n'
    '[[source]]\nid = "S0"\nref = "r"\n'
)


@pytest.mark.parametrize(
    ("events", "message"),
    [
        ('[[event]]\nkind = "flow"\nday = 1\nlink = "om-justid"\nrate = "fast"\nsource = "S0"\n',
         "s.toml:13: event[0].rate: expected float, got str"),
        ('[[event]]\nkind = "status"\nday = 1\norg = "nobody"\nonline = false\nsource = "S0"\n',
         "s.toml:12: event[0].org: unknown organisation 'nobody'"),
        ('[[event]]\nkind = "status"\nday = 11\norg = "om"\nonline = false\nsource = "S0"\n',
         "s.toml:11: event[0].day: after the scenario's last day (10)"),
        ('[[event]]\nkind = "status"\nday = 1\norg = "om"\nonline = false\nsource = "S9"\n',
         "s.toml:14: event[0].source: 'S9' is not a [[source]] id"),
        ('[[event]]\nkind = "flood"\nday = 1\nsource = "S0"\n',
         "s.toml:10: event[0].kind: invalid value 'flood'"),
    ],
)
def test_mistakes_give_file_line_and_field(
    topology: Topology, events: str, message: str
) -> None:
    """Each mistake is one line: the file, the line number, the field and the problem."""
    with pytest.raises(ConfigError) as caught:
        parse_scenario(BASE + events, topology, origin="s.toml")
    assert str(caught.value) == message
