"""What the README hands an admin: example configs that load, a hardened systemd unit."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from agents.config import load_config

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
EXAMPLES = sorted((DEPLOY / "examples").glob("*.toml"))


def test_there_is_an_example_for_every_probe_type() -> None:
    """One example file per probe type, named after it."""
    names = {path.stem for path in EXAMPLES}
    assert {"smtp", "sip", "http-status", "http-json", "prometheus", "sql", "file", "command",
            "manual"} <= names


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_example_configs_load(example: Path, tmp_path: Path) -> None:
    """Each example is a valid config (with its password file beside it where it names one)."""
    copy = tmp_path / example.name
    shutil.copy(example, copy)
    (tmp_path / "password").write_text("secret\n")
    config = load_config(copy)
    assert config.settings.probes


def test_systemd_unit_runs_unprivileged_and_read_only() -> None:
    """Non-root user, read-only system, a state directory, restart on failure but not on 78."""
    unit = (DEPLOY / "ketenwacht-agent.service").read_text()
    settings = dict(re.findall(r"^(\w+)=(.*)$", unit, re.M))
    assert settings["User"] == "ketenwacht"
    assert settings["ProtectSystem"] == "strict"
    assert settings["StateDirectory"] == "ketenwacht"
    assert settings["Restart"] == "on-failure"
    assert "78" in settings["RestartPreventExitStatus"].split()
    assert settings["NoNewPrivileges"] == "yes"


def test_systemd_rates_the_unit_well_exposed_at_most_2() -> None:
    """systemd's own security review scores the unit's exposure (0 safest, 10 worst)."""
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze not available")
    result = subprocess.run(
        ["systemd-analyze", "security", "--offline=yes", str(DEPLOY / "ketenwacht-agent.service")],
        capture_output=True, text=True, check=False,
    )
    score = re.search(r"Overall exposure level for .*: ([0-9.]+)", result.stdout)
    assert score, result.stdout + result.stderr
    assert float(score.group(1)) <= 2.0
