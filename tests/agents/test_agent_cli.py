"""`ketenwacht agent` as an admin runs it: --check, set, a configured daemon, bad input."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import time
from pathlib import Path

import pytest

from chain.engine import ChainEngine
from chain.inbox import EngineSink
from chain.topics import Topics
from chain.views import OrgState
from ketenwacht.startup import load_topology
from mqtt.address import BrokerAddress
from mqtt.monitor import Monitor
from tests.conftest import until
from tests.test_cli import ketenwacht


def config_file(tmp_path: Path, broker: str, probes: str) -> Path:
    path = tmp_path / "om.toml"
    path.write_text(
        f'org = "om"\ninterval = 0.3\nstate_dir = "{tmp_path / "state"}"\n'
        f'[broker]\nurl = "{broker}"\n{probes}'
    )
    return path


def test_check_passes_when_probes_and_broker_work(
    tmp_path: Path, smtp_server: tuple[int, Path], mosquitto: BrokerAddress
) -> None:
    """--check runs every probe once and connects to the broker: all ✓, exit 0."""
    port, ca_file = smtp_server
    (tmp_path / "backlog.txt").write_text("12\n")
    path = config_file(tmp_path, mosquitto.url, (
        f'[[probe]]\ntype = "smtp"\nhost = "127.0.0.1"\nport = {port}\nstarttls = true\n'
        f'ca_file = "{ca_file}"\n'
        '[[probe]]\ntype = "file"\npath = "backlog.txt"\nbacklog = "jds_pending"\n'
    ))
    result = ketenwacht("agent", "--check", "--config", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"config {path}: valid, organisation om"
    assert lines[1].startswith("✓ probe smtp: email up")
    assert lines[2] == "✓ probe file → backlog:jds_pending: items 12"
    assert lines[3] == f"✓ broker {mosquitto.url}: connected as om"


def test_check_fails_on_a_broken_probe_and_a_dead_broker(tmp_path: Path) -> None:
    """A missing file and an unreachable broker: both ✗, exit 69."""
    path = config_file(tmp_path, "mqtt://127.0.0.1:1", (
        '[[probe]]\ntype = "file"\npath = "absent.txt"\nbacklog = "jds_pending"\n'
    ))
    result = ketenwacht("agent", "--check", "--config", str(path))
    assert result.returncode == 69
    assert "✗ probe file → backlog:jds_pending: " in result.stdout
    assert "No such file or directory" in result.stdout
    assert "✗ broker mqtt://127.0.0.1:1: " in result.stdout


def test_set_writes_a_manual_value_the_probe_reads(tmp_path: Path) -> None:
    """`agent set` stores the value; --check then reports it."""
    path = config_file(tmp_path, "mqtt://127.0.0.1:1", (
        '[[probe]]\ntype = "manual"\nbacklog = "paper_intake"\n'
    ))
    result = ketenwacht("agent", "set", "--config", str(path), "backlog:paper_intake", "120")
    assert result.returncode == 0, result.stderr
    stored = json.loads((tmp_path / "state" / "om.manual.json").read_text())
    assert stored["backlog:paper_intake"]["value"] == 120
    check = ketenwacht("agent", "--check", "--config", str(path))
    assert "✓ probe manual → backlog:paper_intake: items 120" in check.stdout


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["set", "backlog:nope", "5"], 64, "no [[probe]] of type manual for 'backlog:nope'"),
        (["set", "backlog:paper_intake", "-5"], 64, "expected a count of 0 or more"),
        (["set", "backlog:paper_intake"], 64, "the following arguments are required: value"),
        (["--simulate"], 64, "agent --simulate takes --org ORG --broker URL"),
    ],
)
def test_agent_mistakes_give_one_line(
    tmp_path: Path, args: list[str], code: int, message: str
) -> None:
    """Wrong targets, values or flag combinations: one line, sysexits code, no traceback."""
    path = config_file(tmp_path, "mqtt://127.0.0.1:1", (
        '[[probe]]\ntype = "manual"\nbacklog = "paper_intake"\n'
    ))
    result = ketenwacht("agent", *args, "--config", str(path))
    assert result.returncode == code
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("config", "problem"),
    [
        ('org = "nosuch"\n', "org: 'nosuch' is not an organisation of the chain (om, justid, "),
        ('org = "om"\n[[probe]]\ntype = "manual"\nflow = "om-nowhere"\ndirection = "sent"\n',
         "probe[0].flow: 'om-nowhere' is not a link of the chain"),
        ('org = "om"\n[[probe]]\ntype = "manual"\nflow = "justid-justis"\n'
         'direction = "sent"\n',
         "probe[0].flow: om is not the sender of justid-justis (justid sends, justis receives)"),
        ('org = "om"\n[[probe]]\ntype = "manual"\nflow = "om-justid"\n'
         'direction = "received"\n',
         "probe[0].flow: om is not the receiver of om-justid (om sends, justid receives)"),
        ('org = "om"\n[[probe]]\nname = "jds"\ntype = "manual"\nbacklog = "vog_queue"\n',
         "probe[0] (jds).backlog: 'vog_queue' is not a backlog of om (jds_pending, "
         "paper_intake)"),
        ('org = "om"\n[[probe]]\ntype = "http-status"\nchannel = "portal"\n'
         'url = "http://127.0.0.1:1/"\n',
         "probe[0].channel: 'portal' is not a channel of om (email, phone)"),
    ],
)
def test_check_refuses_what_the_chain_does_not_have(
    tmp_path: Path, config: str, problem: str
) -> None:
    """An organisation, link, end, backlog or channel the topology lacks: one line naming
    the file and the problem, exit 78, before any probe or broker is tried."""
    path = tmp_path / "agent.toml"
    path.write_text(config + '[broker]\nurl = "mqtt://127.0.0.1:1"\n')
    result = ketenwacht("agent", "--check", "--config", str(path))
    assert result.returncode == 78, result.stdout + result.stderr
    assert result.stderr.startswith(f"ketenwacht: {path}: {problem}"), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stdout == ""


def test_check_reads_the_topology_given(tmp_path: Path) -> None:
    """--topology names the chain the config is checked against: an organisation of a
    chain of one passes that check (and goes on to the broker, which is down here)."""
    topology = tmp_path / "chain.toml"
    topology.write_text('[[source]]\nid = "s"\nref = "r"\n'
                        '[[org]]\nid = "solo"\nname = "Solo"\nrole = "r"\nsource = "s"\n')
    path = tmp_path / "agent.toml"
    path.write_text('org = "solo"\n[broker]\nurl = "mqtt://127.0.0.1:1"\n')
    result = ketenwacht("--topology", str(topology), "agent", "--check", "--config", str(path))
    assert result.returncode == 69, result.stderr
    assert result.stdout.startswith(f"config {path}: valid, organisation solo")
    refused = ketenwacht("agent", "--check", "--config", str(path))
    assert refused.returncode == 78
    assert "org: 'solo' is not an organisation of the chain" in refused.stderr


def test_agent_without_config_and_with_a_missing_one(tmp_path: Path) -> None:
    """No --config: usage error 64. A missing file: 78 naming it."""
    assert ketenwacht("agent").returncode == 64
    result = ketenwacht("agent", "--config", str(tmp_path / "none.toml"))
    assert result.returncode == 78
    assert result.stderr.strip() == f"ketenwacht: {tmp_path / 'none.toml'}: cannot read: " \
        "No such file or directory"


async def test_configured_agent_runs_as_a_daemon_and_stops_cleanly(
    tmp_path: Path, mosquitto: BrokerAddress
) -> None:
    """From its config: ONLINE with the file probe's backlog; SIGTERM → OFFLINE stopped, exit 0."""
    (tmp_path / "backlog.txt").write_text("77")
    path = config_file(tmp_path, mosquitto.url, (
        '[[probe]]\ntype = "file"\npath = "backlog.txt"\nbacklog = "jds_pending"\n'
    ))
    engine = ChainEngine(load_topology(None))
    watch = Monitor(mosquitto, Topics())
    monitor = asyncio.create_task(watch.run(EngineSink(engine)))
    # The backlog reading is not retained: one published before the subscription is missed.
    await until(lambda: watch.subscribed, within=10)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ketenwacht", "agent", "--config", str(path),
        stderr=asyncio.subprocess.PIPE,
    )
    said: list[bytes] = []

    async def listen() -> None:
        # Drained as it comes: a full pipe would stall the agent's logging, and the agent.
        assert process.stderr is not None
        async for line in process.stderr:
            said.append(line)

    listening = asyncio.create_task(listen())
    try:
        def online() -> bool:
            """om ONLINE with backlog 77"""
            om = engine.view(time.time()).org("om")
            return om.state is OrgState.ONLINE and om.backlog_total == 77

        try:
            await until(online, within=30)  # a subprocess start on a loaded machine
        except AssertionError:
            om = engine.view(time.time()).org("om")
            raise AssertionError(
                f"om {om.state.value} ({om.cause}), backlog {om.backlog_total}; the agent "
                f"said: {b''.join(said[-5:]).decode(errors='replace')}") from None
        process.send_signal(signal.SIGTERM)
        await until(lambda: engine.view(time.time()).org("om").cause == "stopped", within=5)
        await asyncio.wait_for(process.wait(), timeout=5)
        await listening
        assert process.returncode == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        listening.cancel()
        monitor.cancel()
        await asyncio.gather(monitor, listening, return_exceptions=True)
    stderr = b"".join(said)
    logs = [json.loads(line) for line in stderr.decode().splitlines()]
    assert logs, "the daemon logs JSON lines when not on a terminal"
    assert all(entry["org"] == "om" for entry in logs), "every line names the organisation"
    assert any(entry["msg"] == "planned stop published" for entry in logs)
