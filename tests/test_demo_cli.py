"""`ketenwacht demo`'s incident options as a user types them: bad ones are one line, exit 64."""

from __future__ import annotations

import pytest

from ketenwacht.cli import build_parser
from tests.test_cli import ketenwacht


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["demo", "--calm", "--seed", "3"], "demo --calm has no incidents: leave out --seed"),
        (["demo", "--seed", "-1"], "expected a whole number 0 or more, got '-1'"),
        (["demo", "--seed", "soon"], "expected a whole number 0 or more, got 'soon'"),
    ],
)
def test_bad_incident_options_give_one_line(args: list[str], message: str) -> None:
    """A seed that is no number, or one for a calm chain: usage error, one line."""
    result = ketenwacht(*args)
    assert result.returncode == 64
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_incidents_are_on_unless_calm() -> None:
    """By default the demo has incidents (of its own seed); --calm has none."""
    parser = build_parser()
    assert not parser.parse_args(["demo"]).calm
    assert parser.parse_args(["demo", "--calm"]).calm
    assert parser.parse_args(["demo", "--seed", "42"]).seed == 42
