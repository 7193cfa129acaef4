"""`ketenwacht broker`: the embedded NATS broker and a node of a `broker init --engine nats`
setup, as an admin runs them; every way they cannot start is one line."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import aiomqtt
import pytest

from broker.embedded import free_port
from broker.provision import NodePorts, init_setup
from broker.setup_dir import Layout
from ketenwacht.startup import load_topology
from mqtt.address import BrokerAddress, Identity
from mqtt.connection import make_client
from tests.test_cli import ketenwacht


def nats_setup(out: Path, nodes: int = 1) -> Layout:
    init_setup(out, load_topology(None), root="keten/v1", hostnames=["localhost"],
               engine="nats", nodes=nodes,
               node_ports=NodePorts(mqtt=free_port(), cluster=free_port(),
                                    monitor=free_port(), bind="127.0.0.1"))
    return Layout(out)


def one_line(result: subprocess.CompletedProcess[str], code: int, message: str) -> None:
    assert result.returncode == code, result.stderr
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


async def test_a_node_runs_from_its_folder_and_enforces_the_setup(tmp_path: Path) -> None:
    """`broker --config nodes/n1`: it says where it listens and that certificates and the
    ACL are enforced; om's certificate gets in, and a client without one does not."""
    layout = nats_setup(tmp_path / "out")
    node = layout.read_manifest().nodes[0]
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ketenwacht", "broker", "--config", str(layout.node("n1")),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), timeout=20)).decode()
        assert f"NATS node n1 listening on mqtts://127.0.0.1:{node.mqtt_port}" in line
        assert "client certificates and the ACL enforced" in line
        om = BrokerAddress("localhost", node.mqtt_port, tls=True,
                           identity=Identity.of(layout.out / "agents" / "om"))
        async with make_client(om, identifier="om-check") as client:
            await client.publish("keten/v1/om/status", b"{}", qos=1)
        stranger = BrokerAddress("localhost", node.mqtt_port, tls=True,
                                 identity=Identity(layout.node("n1")))  # the CA, no cert
        with pytest.raises(aiomqtt.MqttError):
            async with make_client(stranger, identifier="stranger", timeout=2):
                pass
    finally:
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), timeout=15)
    assert process.returncode == 0


@pytest.mark.parametrize("case", ["mosquitto", "cluster", "damaged", "port"])
def test_what_cannot_run_as_a_node_is_one_line(tmp_path: Path, case: str) -> None:
    """A Mosquitto setup, a setup of three nodes, a nats.conf that is not ours, --port beside
    --config: one line saying what to give instead, and the sysexits code."""
    out = tmp_path / "out"
    if case == "mosquitto":
        init_setup(out, load_topology(None), root="keten/v1", hostnames=["localhost"])
        one_line(ketenwacht("broker", "--config", str(out)), 64, "a Mosquitto setup")
    elif case == "cluster":
        nats_setup(out, nodes=3)
        one_line(ketenwacht("broker", "--config", str(out)), 64,
                 f"3 nodes; run each on its own host with --config NODE_FOLDER ({out}/nodes/n1")
    elif case == "damaged":
        layout = nats_setup(out)
        conf = layout.node("n1") / "nats.conf"
        conf.write_text(json.dumps({"server_name": "n1"}))
        one_line(ketenwacht("broker", "--config", str(layout.node("n1"))), 78,
                 f"{conf}: not a node configuration made by `broker init --engine nats`")
    else:
        layout = nats_setup(out)
        one_line(ketenwacht("broker", "--config", str(layout.node("n1")), "--port", "1883"),
                 64, "--port does not go with --config")


def test_the_embedded_broker_without_its_binary_is_one_line(tmp_path: Path) -> None:
    """--nats-server naming nothing runnable: one line naming it, exit 64."""
    one_line(ketenwacht("broker", "--nats-server", str(tmp_path / "nothing")), 64,
             f"--nats-server {tmp_path / 'nothing'}: not an executable file")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_the_embedded_broker_with_an_unwritable_store_is_one_line(tmp_path: Path) -> None:
    """A state directory it may not write: one line naming it, exit 69."""
    state = tmp_path / "state"
    state.mkdir(mode=0o500)
    result = subprocess.run(
        [sys.executable, "-m", "ketenwacht", "broker", "--port", str(free_port())],
        env={**os.environ, "XDG_STATE_HOME": str(state)}, capture_output=True, text=True,
        timeout=30, check=False,
    )
    one_line(result, 69, "embedded broker: cannot use")


def test_a_store_that_is_a_file_is_one_line(tmp_path: Path) -> None:
    """Where JetStream's store should be there is a file: one line naming it, exit 69 (also
    as root, who may write anywhere)."""
    state = tmp_path / "state"
    port = free_port()
    store = state / "ketenwacht" / f"broker-{port}" / "jetstream"
    store.parent.mkdir(parents=True)
    store.write_text("not a folder")
    result = subprocess.run(
        [sys.executable, "-m", "ketenwacht", "broker", "--port", str(port)],
        env={**os.environ, "XDG_STATE_HOME": str(state)}, capture_output=True, text=True,
        timeout=30, check=False,
    )
    one_line(result, 69, "embedded broker: cannot use")


async def test_a_nats_server_that_dies_is_started_again(tmp_path: Path) -> None:
    """`ketenwacht broker` supervises its nats-server: killed with -9, it is started again on
    the same port, and clients get in again within seconds."""
    import psutil

    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ketenwacht", "broker", "--port", str(port),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        assert b"listening on" in await asyncio.wait_for(process.stdout.readline(), 20)
        children = psutil.Process(process.pid).children()
        assert [child.name() for child in children] == ["nats-server"]
        children[0].kill()
        address = BrokerAddress("127.0.0.1", port)
        async with asyncio.timeout(10):
            while True:
                try:
                    async with make_client(address, identifier="after", timeout=1):
                        break
                except aiomqtt.MqttError:
                    await asyncio.sleep(0.1)
        again = psutil.Process(process.pid).children()
        assert len(again) == 1 and again[0].pid != children[0].pid
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=15)
    assert b"nats-server exited (code -9); starting it again" in stderr


def test_a_configuration_nats_refuses_is_its_reason_in_one_line(tmp_path: Path) -> None:
    """A node configuration nats-server itself refuses (edited by hand): its own words,
    which it says before it opens its log, in one line, exit 69."""
    layout = nats_setup(tmp_path / "out")
    conf_path = layout.node("n1") / "nats.conf"
    conf = json.loads(conf_path.read_text())
    conf["max_payload"] = conf["max_pending"] * 2
    conf_path.write_text(json.dumps(conf))
    one_line(ketenwacht("broker", "--config", str(layout.node("n1"))), 69,
             "nats-server refused to start: nats-server: max_payload")
