"""The chain topology in seeds/chain.toml: complete, sourced, and strict about mistakes."""

from __future__ import annotations

import pytest

from chain.errors import ConfigError
from chain.topology import parse_topology
from ketenwacht.startup import DEFAULT_TOPOLOGY, load_topology

ORG = 'id = "om"\nname = "OM"\nrole = "r"\nsource = "S0"\n'
SOURCE = '[[source]]\nid = "S0"\nref = "letter"\n'


def test_seed_holds_the_chain_of_the_domain_brief() -> None:
    """All 17 organisations, the OM→Justid→Justis path and VOG depending on it."""
    topology = load_topology(None)
    assert len(topology.organisations) == 17
    links = {link.id: link for link in topology.links}
    assert (links["om-justid"].sender, links["om-justid"].receiver) == ("om", "justid")
    assert "politie-justid" in links  # the emergency feed
    vog = next(p for p in topology.processes if p.id == "vog")
    assert set(vog.depends_on) == {"justid-justis", "om-justid"}


def test_every_magnitude_is_derived_or_marked_placeholder() -> None:
    """A rate or typical backlog either cites a numbered source or says placeholder."""
    topology = load_topology(None)
    bases = [link.per_hour_basis for link in topology.links]
    bases += [backlog.typical_basis for backlog in topology.backlogs]
    for basis in bases:
        assert basis.startswith("placeholder") or ("derived" in basis and "[" in basis), basis


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[org]]\nid = 3\n", "chain.toml: org[0].id: expected str, got int"),
        (f"{SOURCE}[[org]]\n{ORG}colour = 'red'\n", "org[0]: object contains unknown field colour"),
        ("[[org]\n", "chain.toml: not valid TOML:"),
        (f"{SOURCE}[[org]]\n{ORG}[[org]]\n{ORG}", "org[1].id: duplicate id 'om'"),
        (f"[[org]]\n{ORG}", "org[0].source: 'S0' is not a [[source]] id"),
        (f"{SOURCE}[[org]]\n" + ORG.replace('source = "S0"', 'source = "S0,S9"'),
         "org[0].source: 'S9' is not a [[source]] id"),
        (
            f'{SOURCE}[[org]]\n{ORG}[[link]]\nid = "om-x"\nfrom = "om"\nto = "x"\ncarries = "c"\n'
            'normally = "n"\nduring_outage = "d"\nsource = "S0"\nper_hour = 1\n'
            'per_hour_basis = "placeholder"\n',
            "link[0].to: unknown organisation 'x'",
        ),
        (
            f'{SOURCE}[[org]]\n{ORG}[[process]]\nid = "p"\norg = "om"\nname = "n"\n'
            'depends_on = ["nope"]\nsource = "S0"\n',
            "process[0].depends_on: unknown link 'nope'",
        ),
    ],
)
def test_malformed_topology_names_file_key_and_problem(text: str, message: str) -> None:
    """Each mistake gives one ConfigError naming the file, the key and what is wrong."""
    with pytest.raises(ConfigError) as caught:
        parse_topology(text, origin="chain.toml")
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_syntax_error_reports_the_line() -> None:
    """A TOML syntax error carries the line number from the parser."""
    with pytest.raises(ConfigError, match="line 4, column 8"):
        parse_topology(f"{SOURCE}name = \n", origin="chain.toml")


def test_default_topology_path_is_the_seed() -> None:
    """Without --topology the command reads the project's own seed file."""
    assert DEFAULT_TOPOLOGY.name == "chain.toml"
    assert DEFAULT_TOPOLOGY.parent.name == "seeds"
