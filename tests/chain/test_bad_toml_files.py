"""Topology and scenario files that broke the parser or the exercise clock: nested 100 000
levels deep, not UTF-8, a scenario starting in year 1 or 9999 or on 30 February. Each is
one line naming the file and the problem, exit 78 (EX_CONFIG), before anything runs."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

DEPTH = 100_000
NESTED = {
    "arrays": "a = " + "[" * DEPTH + "]" * DEPTH + "\n",
    "inline-tables": "a = " + "{b = " * DEPTH + "1" + "}" * DEPTH + "\n",
}
SCENARIO = Path(__file__).parents[2] / "seeds" / "scenarios" / "om-offline-2025.toml"


NO_BROKER = ("--broker", "mqtt://127.0.0.1:1")
"""Nothing listens there: a file accepted by mistake would leave the command retrying (and
the test timing out), never start an embedded broker that could outlive the test."""


def ketenwacht(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ketenwacht", *args], capture_output=True,
                          text=True, timeout=30, check=False)


def only_line(result: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 78, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize("kind", list(NESTED))
def test_a_deeply_nested_topology_is_one_line(tmp_path: Path, kind: str) -> None:
    """100 000 levels of arrays or inline tables: 'nested too deeply', no RecursionError."""
    topology = tmp_path / "chain.toml"
    topology.write_text(NESTED[kind])
    result = ketenwacht("--topology", str(topology), "status", *NO_BROKER)
    assert only_line(result) == f"ketenwacht: {topology}: not valid TOML: nested too deeply"


def test_a_topology_that_is_not_utf8_is_one_line(tmp_path: Path) -> None:
    """A byte 0xff in a string: 'not UTF-8 text', no UnicodeDecodeError."""
    topology = tmp_path / "chain.toml"
    topology.write_bytes(b'timezone = "Europe/\xffmsterdam"\n')
    result = ketenwacht("--topology", str(topology), "status", *NO_BROKER)
    assert only_line(result) == (
        f"ketenwacht: {topology}: not valid TOML: the file is not UTF-8 text")


@pytest.mark.parametrize("kind", list(NESTED))
def test_a_deeply_nested_scenario_is_one_line(tmp_path: Path, kind: str) -> None:
    """The same nesting appended to a real scenario: one line, the exercise never starts."""
    scenario = tmp_path / "drill.toml"
    scenario.write_text(SCENARIO.read_text(encoding="utf-8") + NESTED[kind])
    result = ketenwacht("exercise", str(scenario), "--headless", *NO_BROKER)
    assert only_line(result) == f"ketenwacht: {scenario}: not valid TOML: nested too deeply"


@pytest.mark.parametrize(
    ("start", "problem"),
    [
        ("0001-01-01", "'0001-01-01' is outside the years an exercise can be set in "
                       "(2000-01-01 to 2099-12-31)"),
        ("9999-12-31", "'9999-12-31' is outside the years an exercise can be set in "
                       "(2000-01-01 to 2099-12-31)"),
        ("2025-02-30", "'2025-02-30' is not a date (day is out of range for month)"),
    ],
)
def test_a_scenario_start_no_exercise_can_have_is_one_line(tmp_path: Path, start: str,
                                                           problem: str) -> None:
    """Year 1 and 9999 (a ValueError traceback from the exercise clock, or an exercise past
    the last date there is), or a day that does not exist: file, line and field."""
    text = SCENARIO.read_text(encoding="utf-8")
    line = text[:text.index('start = "')].count("\n") + 1
    scenario = tmp_path / "drill.toml"
    scenario.write_text(re.sub(r'start = "[^"]*"', f'start = "{start}"', text, count=1))
    result = ketenwacht("exercise", str(scenario), "--headless", *NO_BROKER)
    assert only_line(result) == f"ketenwacht: {scenario}:{line}: scenario.start: {problem}"
