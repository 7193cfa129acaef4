"""Traffic profiles: weights with a weekly mean of 1, local hours of the week through
summer and winter time, any hour (a simulation run very fast) valid, a bad zone named."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chain.errors import ConfigError
from chain.profiles import FLAT, HOURS_PER_WEEK, hour_of_week
from chain.topology import parse_topology
from ketenwacht.startup import load_topology

ZONE = "Europe/Amsterdam"


def utc_hour(year: int, month: int, day: int, hour: int) -> int:
    return int(datetime(year, month, day, hour, tzinfo=UTC).timestamp() // 3600)


def test_every_profile_has_a_weekly_mean_of_one() -> None:
    """A link's per_hour times the weight of an hour is that hour's rate: the week's sum is
    per_hour * 168 whatever the shape."""
    topology = load_topology(None)
    for profile in (*topology.profiles, FLAT):
        weights = profile.weights()
        assert len(weights) == HOURS_PER_WEEK
        assert sum(weights) == pytest.approx(HOURS_PER_WEEK)
    office = topology.by_profile["office"].weights()
    assert office[2 * 24 + 10] > 20 * office[2 * 24 + 3]  # Wednesday 10:00 against 03:00


def test_hours_of_the_week_are_local_in_summer_and_in_winter() -> None:
    """Thursday 17 Jul 2025 09:00 UTC is 11:00 in Amsterdam (summer time); Monday 6 Jan
    2025 09:00 UTC is 10:00 (winter time)."""
    assert hour_of_week(utc_hour(2025, 7, 17, 9), ZONE) == 3 * 24 + 11
    assert hour_of_week(utc_hour(2025, 1, 6, 9), ZONE) == 10


def test_an_hour_beyond_the_calendar_is_still_an_hour_of_the_week() -> None:
    """A simulation at pace 20 000 runs tens of thousands of years ahead: the hour is taken
    at its place in the 400-year cycle, so weekdays stay right."""
    now = utc_hour(2025, 7, 17, 9)
    ahead = now + 146_097 * 24 * 100  # 40 000 years on
    assert hour_of_week(ahead, ZONE) == hour_of_week(now, ZONE)
    assert 0 <= hour_of_week(-now, ZONE) < HOURS_PER_WEEK


def test_a_bad_zone_or_profile_is_one_clear_error() -> None:
    """The topology names the field: an unknown zone, a link's unknown profile."""
    text = load_topology(None)
    source = 'timezone = "Mars/Olympus"\n'
    with pytest.raises(ConfigError, match="timezone: 'Mars/Olympus' is not a known time zone"):
        parse_topology(source, origin="chain.toml")
    assert text.timezone == ZONE
    link = ('[[source]]\nid = "S0"\nref = "r"\n[[org]]\nid = "a"\nname = "A"\nrole = "r"\n'
            'source = "S0"\n[[org]]\nid = "b"\nname = "B"\nrole = "r"\nsource = "S0"\n'
            '[[link]]\nid = "a-b"\nfrom = "a"\nto = "b"\ncarries = "c"\nnormally = "n"\n'
            'during_outage = "d"\nsource = "S0"\nper_hour = 1\nper_hour_basis = "p"\n'
            'profile = "weekly"\n')
    with pytest.raises(ConfigError, match=r"link\[0\].profile: 'weekly' is not a \[\[profile\]\]"):
        parse_topology(link, origin="chain.toml")
