"""`ketenwacht broker --config DIR`: the embedded broker with the files `broker init` made."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from broker.embedded import BrokerAccess, EmbeddedBroker, free_port, wait_for_port
from broker.provision import init_setup
from ketenwacht.setup import load_topology
from tests.test_cli import ketenwacht


@pytest.fixture
def setup_dir(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    init_setup(out, load_topology(None), root="keten/v1", hostnames=["localhost"],
               local_port=0)
    return out


def test_with_credentials_it_may_listen_beyond_loopback(setup_dir: Path) -> None:
    """The loopback rule is for a broker without credentials only."""
    access, _ = BrokerAccess.from_setup(setup_dir)
    broker = EmbeddedBroker("0.0.0.0", 8883, access=access)
    assert broker.address.url == "mqtts://0.0.0.0:8883"


def test_the_command_serves_tls_with_the_setup(setup_dir: Path) -> None:
    """`broker --config DIR` says it enforces passwords and ACL, and listens with TLS."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "ketenwacht", "broker", "--config", str(setup_dir),
         "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        wait_for_port(port)
        assert process.stdout is not None
        line = process.stdout.readline()
        assert f"mqtts://127.0.0.1:{port}" in line
        assert "passwords and ACL enforced" in line
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.parametrize(("damage", "message"), [
    ("acl", "acl:1: expected 'user NAME'"),
    ("manifest", "ketenwacht-broker.toml: cannot read"),
])
def test_a_damaged_setup_is_one_line(setup_dir: Path, damage: str, message: str) -> None:
    """A broken ACL or a missing manifest: exit 78, file and line named, no traceback."""
    if damage == "acl":
        (setup_dir / "broker" / "acl").write_text("pattern write keten/v1/%u/#\n")
    else:
        (setup_dir / "ketenwacht-broker.toml").unlink()
    result = ketenwacht("broker", "--config", str(setup_dir))
    assert result.returncode == 78
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
