"""A synthetic chain of any size for the soak, so that every reading has something to land on.

The real topology has 17 organisations; readings for unknown organisations are only kept as
a row, with no links or processes to judge. Here every organisation has two channels, sends
on one link and receives on another (a ring), reports one backlog, and every fourth one runs
a process that depends on its incoming link: the engine does the same kind of work per
message as it does for the real chain.
"""

from __future__ import annotations

from pathlib import Path

from chain.topology import Topology, parse_topology

LINK_PER_HOUR = 3600.0


def org_ids(count: int) -> list[str]:
    return [f"org-{index:03d}" for index in range(count)]


def topology_toml(count: int) -> str:
    orgs = org_ids(count)
    parts = ['[[source]]\nid = "soak"\nref = "synthetic chain for bench/soak.py"\n']
    for org in orgs:
        parts.append(
            f'[[org]]\nid = "{org}"\nname = "Organisation {org}"\nrole = "soak"\n'
            'source = "soak"\nchannels = ["email", "phone"]\n'
        )
    for index, org in enumerate(orgs):
        receiver = orgs[(index + 1) % count]
        parts.append(
            f'[[link]]\nid = "{org}-out"\nfrom = "{org}"\nto = "{receiver}"\n'
            'carries = "records"\nnormally = "continuous"\nduring_outage = "queued"\n'
            f'source = "soak"\nper_hour = {LINK_PER_HOUR}\nper_hour_basis = "placeholder"\n'
        )
        parts.append(
            f'[[backlog]]\nid = "{org}-queue"\norg = "{org}"\nname = "Queue of {org}"\n'
            'typical = 400\ntypical_basis = "placeholder"\n'
        )
    for index in range(0, count, 4):
        sender = orgs[(index - 1) % count]
        parts.append(
            f'[[process]]\nid = "{orgs[index]}-decide"\norg = "{orgs[index]}"\n'
            f'name = "Decisions of {orgs[index]}"\ndepends_on = ["{sender}-out"]\n'
            'source = "soak"\n'
        )
    return "\n".join(parts)


def write_topology(directory: Path, count: int) -> tuple[Path, Topology]:
    """The TOML file (for the agents' processes) and the parsed topology (for this one)."""
    path = directory / f"soak-{count}.toml"
    text = topology_toml(count)
    path.write_text(text)
    return path, parse_topology(text, origin=str(path))
