"""The chain's topology: organisations, directed information flows, dependent processes.

Loaded from `seeds/chain.toml`. The text arrives from the caller, so this module stays pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import Annotated

import msgspec
from msgspec import Meta

from chain.errors import ConfigError
from chain.profiles import FLAT, HOURS_PER_WEEK, Profile, zone_problem
from chain.validation import decode_toml
from chain.wire import ChannelName, Id

Text = Annotated[str, Meta(min_length=1)]
Rate = Annotated[float, Meta(ge=0)]


class _Record(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    pass


class Source(_Record, frozen=True, kw_only=True):
    id: Text
    ref: Text


class Organisation(_Record, frozen=True, kw_only=True):
    id: Id
    name: Text
    role: Text
    source: Text
    channels: tuple[ChannelName, ...] = ("email", "phone")


class Link(_Record, frozen=True, kw_only=True):
    """A directed information flow; both ends count the messages they send or receive."""

    id: Id
    sender: Id = msgspec.field(name="from")
    receiver: Id = msgspec.field(name="to")
    carries: Text
    normally: Text
    during_outage: Text
    source: Text
    per_hour: Rate
    """Messages per hour averaged over the year."""
    per_hour_basis: Text
    profile: Text = FLAT.id
    """How the rate varies over the week: the id of a [[profile]]."""


class Process(_Record, frozen=True, kw_only=True):
    """A decision process that works on data arriving over `depends_on` links."""

    id: Id
    org: Id
    name: Text
    depends_on: tuple[Id, ...]
    source: Text


class Backlog(_Record, frozen=True, kw_only=True):
    """A queue an organisation reports as a gauge; `typical` seeds the simulator."""

    id: Id
    org: Id
    name: Text
    typical: Annotated[int, Meta(ge=0)]
    typical_basis: Text


class Topology(_Record, frozen=True, kw_only=True, dict=True):
    timezone: Text = "Europe/Amsterdam"
    """Where the chain's office hours are: profiles are in this zone's local time."""
    sources: tuple[Source, ...] = msgspec.field(name="source", default=())
    profiles: tuple[Profile, ...] = msgspec.field(name="profile", default=())
    organisations: tuple[Organisation, ...] = msgspec.field(name="org", default=())
    links: tuple[Link, ...] = msgspec.field(name="link", default=())
    processes: tuple[Process, ...] = msgspec.field(name="process", default=())
    backlogs: tuple[Backlog, ...] = msgspec.field(name="backlog", default=())

    @cached_property
    def org_ids(self) -> tuple[str, ...]:
        return tuple(org.id for org in self.organisations)

    @cached_property
    def by_org(self) -> Mapping[str, Organisation]:
        return {org.id: org for org in self.organisations}

    @cached_property
    def by_profile(self) -> Mapping[str, Profile]:
        return {FLAT.id: FLAT, **{profile.id: profile for profile in self.profiles}}

    def expected_per_hour(self, link: Link) -> tuple[float, ...]:
        """The link's prior: expected messages per hour for each hour of the week."""
        profile = self.by_profile.get(link.profile, FLAT)
        return tuple(link.per_hour * weight for weight in profile.weights())

    @cached_property
    def messages_per_year(self) -> float:
        """What the whole chain is expected to carry in a year, by the links' priors."""
        return sum(link.per_hour for link in self.links) * HOURS_PER_WEEK * 365 / 7

    def links_of(self, org: str) -> tuple[Link, ...]:
        return tuple(link for link in self.links if org in (link.sender, link.receiver))

    def backlogs_of(self, org: str) -> tuple[Backlog, ...]:
        return tuple(backlog for backlog in self.backlogs if backlog.org == org)


def parse_topology(text: str | bytes, *, origin: str) -> Topology:
    """Decode and cross-check a topology; errors read `origin: key: problem`."""
    topology = decode_toml(text, Topology, origin=origin)
    for problem in _cross_check(topology):
        raise ConfigError(f"{origin}: {problem}")
    return topology


def _cross_check(topology: Topology) -> list[str]:
    problems: list[str] = []
    sections: list[tuple[str, tuple[str, ...]]] = [
        ("source", tuple(s.id for s in topology.sources)),
        ("org", topology.org_ids),
        ("link", tuple(link.id for link in topology.links)),
        ("process", tuple(p.id for p in topology.processes)),
        ("backlog", tuple(b.id for b in topology.backlogs)),
        ("profile", tuple(p.id for p in topology.profiles)),
    ]
    for section, ids in sections:
        seen: set[str] = set()
        for index, ident in enumerate(ids):
            if ident in seen:
                problems.append(f"{section}[{index}].id: duplicate id {ident!r}")
            seen.add(ident)
    orgs = set(topology.org_ids)
    links = {link.id for link in topology.links}
    sources = {source.id for source in topology.sources}
    cited: list[tuple[str, tuple[Organisation | Link | Process, ...]]] = [
        ("org", topology.organisations),
        ("link", topology.links),
        ("process", topology.processes),
    ]
    for section, records in cited:
        problems.extend(
            f"{section}[{index}].source: {cited!r} is not a [[source]] id"
            for index, record in enumerate(records)
            for cited in record.source.split(",")
            if cited.strip() not in sources
        )
    for index, link in enumerate(topology.links):
        for key, org in (("from", link.sender), ("to", link.receiver)):
            if org not in orgs:
                problems.append(f"link[{index}].{key}: unknown organisation {org!r}")
        if link.sender == link.receiver:
            problems.append(f"link[{index}]: a link must join two organisations")
    if (problem := zone_problem(topology.timezone)) is not None:
        problems.append(f"timezone: {problem}")
    profiles = set(topology.by_profile)
    problems.extend(
        f"link[{index}].profile: {link.profile!r} is not a [[profile]] id"
        for index, link in enumerate(topology.links)
        if link.profile not in profiles
    )
    for index, process in enumerate(topology.processes):
        if process.org not in orgs:
            problems.append(f"process[{index}].org: unknown organisation {process.org!r}")
        problems.extend(
            f"process[{index}].depends_on: unknown link {dep!r}"
            for dep in process.depends_on
            if dep not in links
        )
    for index, backlog in enumerate(topology.backlogs):
        if backlog.org not in orgs:
            problems.append(f"backlog[{index}].org: unknown organisation {backlog.org!r}")
    return problems
