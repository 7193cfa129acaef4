"""The `ketenwacht` command as a user runs it: one-line errors, sysexits codes, status."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from broker.embedded import free_port
from mqtt.address import BrokerAddress
from tests.e2e.agents import agents


def ketenwacht(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ketenwacht", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["status", "--broker", "http://x"], 64, "scheme must be mqtt:// or mqtts://"),
        (["status"], 64, "the following arguments are required: --broker"),
        (["status", "--broker", "mqtt://x", "--wait", "soon"], 64, "expected a number"),
        (["agent", "--simulate", "--org", "nobody", "--broker", "mqtt://127.0.0.1:1"], 64,
         "--org 'nobody'"),
        (["broker", "--host", "0.0.0.0"], 64, "refusing to listen on 0.0.0.0"),
        (["--topology", "/nonexistent.toml", "status", "--broker", "mqtt://x"], 78,
         "/nonexistent.toml: cannot read topology"),
        (["demo", "--port", "0"], 64, "expected a port 1-65535"),
        (["exercise", "/nonexistent.toml"], 78,
         "/nonexistent.toml: cannot read the scenario: No such file or directory"),
        (["exercise", "seeds/scenarios/om-offline-2025.toml", "--scale", "100000"], 64,
         "at most 86400"),
        (["replay", "/nonexistent.sqlite"], 66, "/nonexistent.sqlite: no such recording"),
        (["replay", "seeds/chain.toml"], 78, "not a Ketenwacht recording"),
        (["replay", "x.sqlite", "--speed", "fast"], 64, "expected a speed or 'max'"),
        (["replay", "x.sqlite", "--broker", "mqtt://x", "--name", "Bad/Name"], 64,
         "expected an exercise name"),
        (["tui", "--broker", "mqtt://x", "--exercise", "a+b"], 64, "expected an exercise name"),
    ],
)
def test_bad_input_gives_one_line_and_a_sysexits_code(
    args: list[str], code: int, message: str
) -> None:
    """Every bad argument or file: exit code per sysexits, one line, no traceback."""
    result = ketenwacht(*args)
    assert result.returncode == code
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr


def test_malformed_topology_is_reported_with_key(tmp_path: Path) -> None:
    """A broken topology file names the file and the key, exit 78 (EX_CONFIG)."""
    bad = tmp_path / "chain.toml"
    bad.write_text("[[org]]\nid = 3\n")
    result = ketenwacht("--topology", str(bad), "status", "--broker", "mqtt://127.0.0.1:1")
    assert result.returncode == 78
    assert result.stderr.strip() == f"ketenwacht: {bad}: org[0].id: expected str, got int"


def test_a_scenario_with_a_mistake_names_file_line_and_field(tmp_path: Path) -> None:
    scenario = tmp_path / "drill.toml"
    scenario.write_text(
        '[scenario]\nname = "drill"\ntitle = "t"\nstart = "2025-07-17"\ndays = 3\n'
        '[[source]]\nid = "S0"\nref = "r"\n'
        '[[event]]\nkind = "flow"\nday = 1\nlink = "om-nowhere"\nrate = 0\nsource = "S0"\n'
    )
    result = ketenwacht("exercise", str(scenario))
    assert result.returncode == 78
    assert result.stderr.strip() == (
        f"ketenwacht: {scenario}:12: event[0].link: unknown link 'om-nowhere'")


def test_status_when_the_broker_is_down_says_so_in_one_line() -> None:
    """No broker listening: one line naming the URL, exit 69 (EX_UNAVAILABLE)."""
    port = free_port()
    result = ketenwacht("status", "--broker", f"mqtt://127.0.0.1:{port}", "--wait", "1")
    assert result.returncode == 69
    assert result.stderr.startswith(f"ketenwacht: status: cannot reach broker mqtt://127.0.0.1:{port}")
    assert len(result.stderr.strip().splitlines()) == 1


ALIVE = {"online", "degraded"}


async def test_status_json_snapshot(mosquitto: BrokerAddress, tmp_path: Path) -> None:
    """With two agents running, `status --json` lists them alive and the rest UNKNOWN. (The
    simulator takes a channel down now and then, by the wall clock: DEGRADED is alive too.)"""
    with agents(["om", "justid"], mosquitto, tmp_path, interval=0.5):
        async def snapshot() -> dict[str, object]:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "ketenwacht", "status", "--broker", mosquitto.url,
                "--json", "--wait", "1.5",
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            )
            out, err = await process.communicate()
            assert process.returncode == 0, err.decode()
            data: dict[str, object] = json.loads(out)
            return data

        states: dict[str, str] = {}
        for _ in range(10):
            orgs = (await snapshot())["orgs"]
            assert isinstance(orgs, list)
            states = {org["id"]: org["state"] for org in orgs}
            if {states["om"], states["justid"]} <= ALIVE:
                break
        assert {states["om"], states["justid"]} <= ALIVE
        assert states["cjib"] == "unknown"
        assert len(states) == 17


def test_broker_on_a_taken_port_says_so_in_one_line() -> None:
    """Another process on the port: one line that names the port, exit 69, no traceback."""
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = ketenwacht("broker", "--port", str(port))
    assert result.returncode == 69
    assert f"cannot listen on mqtt://127.0.0.1:{port}" in result.stderr
    assert "address already in use" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_file_name_with_control_sequences_is_shown_not_obeyed(tmp_path: Path) -> None:
    """A recording handed over as `\\x1b]2;…\\x07.sqlite`: the error names it escaped."""
    hostile = tmp_path / "minutes\x1b]2;owned\x07\x1b[2J.sqlite"
    hostile.write_text("not a recording")
    result = ketenwacht("report", str(hostile))
    assert result.returncode == 78, result.stderr
    assert "\x1b" not in result.stderr and "\x07" not in result.stderr
    assert "minutes\\x1b]2;owned\\x07\\x1b[2J.sqlite" in result.stderr
