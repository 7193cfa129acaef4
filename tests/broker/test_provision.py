"""`ketenwacht broker init` as an admin runs it: what it writes, with which modes, that each
agent config loads with the real loader, and what it refuses."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from agents.config import load_config
from agents.daemon import broker_address, broker_addresses, tls_context
from broker.acl import parse_acl
from broker.passwords import parse_password_file, verify_password
from broker.setup_dir import Layout
from ketenwacht.startup import load_topology
from tests.test_cli import ketenwacht

ORGS = load_topology(None).org_ids


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> tuple[Layout, str]:
    out = tmp_path_factory.mktemp("init") / "out"
    result = ketenwacht("broker", "init", "--out", str(out), "--hostname",
                        "broker.keten.example", "--tui-user", "screen-1", "--tui-user", "screen-2")
    assert result.returncode == 0, result.stderr
    return Layout(out), result.stdout + result.stderr


def test_every_organisation_gets_an_agent_config_that_loads(made: tuple[Layout, str]) -> None:
    """Each agents/<org>/agent.toml loads with the agent's own loader: its org, the broker URL
    over TLS, its own password from the file beside it, a TLS context with the chain's CA."""
    layout, _ = made
    passwords = parse_password_file((layout.broker / "passwords").read_text(), "passwords")
    for org in ORGS:
        config = load_config(layout.out / "agents" / org / "agent.toml")
        address = broker_address(config)
        assert (config.org, address.username, address.url) == (
            org, org, "mqtts://broker.keten.example:8883")
        assert config.password is not None
        assert verify_password(config.password, passwords[org])
        assert tls_context(config, address) is not None


def test_secrets_are_private_and_never_printed(made: tuple[Layout, str]) -> None:
    """Passwords, keys and the password file are 0600; no password appears in the output."""
    layout, output = made
    secrets = [layout.broker / "passwords", layout.broker / "server.key", layout.ca / "ca.key"]
    for folder in (layout.out / "agents").iterdir():
        secrets += [folder / "password", folder / "client.key"]
    for path in secrets:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    for password in (layout.out / "agents").glob("*/password"):
        assert password.read_text().strip() not in output


def test_the_acl_and_password_file_name_the_same_users(made: tuple[Layout, str]) -> None:
    """Every organisation and each service identity has a password and an ACL block."""
    layout, _ = made
    acl = parse_acl((layout.broker / "acl").read_text(), "acl")
    passwords = parse_password_file((layout.broker / "passwords").read_text(), "passwords")
    expected = {*ORGS, "screen-1", "screen-2", "recorder", "replay"}
    assert set(acl) == set(passwords) == expected


def test_no_plaintext_listener_beyond_loopback(made: tuple[Layout, str]) -> None:
    """Every listener has TLS from 1.2 up, except one bound to 127.0.0.1; no anonymous."""
    layout, _ = made
    conf = (layout.broker / "mosquitto.conf").read_text()
    assert "allow_anonymous false" in conf.splitlines()
    for block in conf.split("\nlistener ")[1:]:
        head, *settings = block.splitlines()
        if "tls_version tlsv1.2" not in settings:
            assert head.split()[1:] == ["127.0.0.1"], head


@pytest.mark.parametrize("name", ["ops/1", "rec+", "#", "a:b", ""])
def test_a_username_with_topic_characters_is_refused(tmp_path: Path, name: str) -> None:
    """'/', '+', '#' (and ':', and nothing at all) are refused before anything is written."""
    out = tmp_path / "out"
    result = ketenwacht("broker", "init", "--out", str(out), "--hostname", "h",
                        "--tui-user", name)
    assert result.returncode == 64
    assert "--tui-user" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not out.exists() or not any(out.iterdir())


def test_an_organisation_id_with_topic_characters_is_refused(tmp_path: Path) -> None:
    """A topology whose org id holds '/' never reaches provisioning: exit 78, file named."""
    topology = tmp_path / "chain.toml"
    topology.write_text('[[org]]\nid = "om/#"\nname = "x"\nrole = "x"\nsource = "S0"\n')
    result = ketenwacht("--topology", str(topology), "broker", "init", "--out",
                        str(tmp_path / "out"), "--hostname", "h")
    assert result.returncode == 78
    assert str(topology) in result.stderr


def test_init_never_overwrites_an_existing_setup(made: tuple[Layout, str]) -> None:
    """A second init into the same directory is refused and points to --rotate."""
    layout, _ = made
    before = (layout.broker / "passwords").read_bytes()
    result = ketenwacht("broker", "init", "--out", str(layout.out), "--hostname", "h")
    assert result.returncode == 64
    assert "--rotate" in result.stderr
    assert (layout.broker / "passwords").read_bytes() == before


@pytest.mark.parametrize(("args", "message"), [
    (["--rotate", "nobody"], "--rotate nobody: no such user"),
    (["--rotate", "om/#"], "contains '#' '/'"),
])
def test_rotate_refuses_unknown_or_malformed_users(
    made: tuple[Layout, str], args: list[str], message: str
) -> None:
    """Rotating someone who is not there, or no valid name at all: one line, exit 64."""
    result = ketenwacht("broker", "init", "--out", str(made[0].out), *args)
    assert result.returncode == 64
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Layout:
    out = tmp_path_factory.mktemp("nats") / "out"
    result = ketenwacht("broker", "init", "--engine", "nats", "--nodes", "3", "--out", str(out),
                        "--hostname", "a.keten.example", "--hostname", "b.keten.example",
                        "--hostname", "c.keten.example")
    assert result.returncode == 0, result.stderr
    assert "nodes/n1/ for a.keten.example" in result.stdout
    return Layout(out)


def test_a_nats_cluster_gets_a_folder_per_node_with_routes_to_the_others(
    cluster: Layout,
) -> None:
    """Three nodes: each its own name, certificate and store; MQTT over TLS with the client
    certificate as identity; routes over mutual TLS to the two others; streams with 3
    replicas; the NATS protocol on loopback, and no user may use it."""
    for name, host in (("n1", "a"), ("n2", "b"), ("n3", "c")):
        conf = json.loads((cluster.node(name) / "nats.conf").read_text())
        assert conf["server_name"] == name
        assert conf["listen"].startswith("127.0.0.1:")
        assert conf["mqtt"]["tls"]["verify_and_map"] is True
        assert conf["mqtt"]["tls"]["min_version"] == "1.2"
        assert conf["mqtt"]["stream_replicas"] == 3
        assert conf["cluster"]["tls"]["verify"] is True
        assert sorted(conf["cluster"]["routes"]) == sorted(
            f"nats-route://{other}.keten.example:6222" for other in "abc" if other != host)
        assert conf["jetstream"]["store_dir"].endswith(f"nodes/{name}/jetstream")
        assert {user["allowed_connection_types"][0] for user in
                conf["authorization"]["users"]} == {"MQTT"}
        assert stat.S_IMODE((cluster.node(name) / "server.key").stat().st_mode) == 0o600


def test_every_nats_agent_config_names_all_nodes_and_its_certificate(cluster: Layout) -> None:
    """agents/<org>/agent.toml loads with the agent's loader: all three nodes, in order, the
    organisation's certificate and the chain's CA; no password exists to leak."""
    for org in ORGS:
        folder = cluster.out / "agents" / org
        config = load_config(folder / "agent.toml")
        brokers = broker_addresses(config)
        assert [b.url for b in brokers] == [
            f"mqtts://{host}.keten.example:8883" for host in "abc"]
        assert tls_context(config, brokers) is not None
        assert not (folder / "password").exists()


def test_a_nats_user_is_named_by_its_certificate_and_gets_no_more_than_its_role(
    cluster: Layout,
) -> None:
    """om publishes and reads only its own subtree (both `keten.v1.om` and `keten.v1.om.>`,
    as an MQTT `#` needs); the recorder publishes nothing at all (an empty allow list would
    be no limit in NATS)."""
    conf = json.loads((cluster.node("n1") / "nats.conf").read_text())
    users = {user["user"].split(",")[0]: user["permissions"]
             for user in conf["authorization"]["users"]}
    assert users["CN=om"] == {
        "publish": {"allow": ["keten.v1.om", "keten.v1.om.>"]},
        "subscribe": {"allow": ["keten.v1.om", "keten.v1.om.>"]},
    }
    assert users["CN=recorder"]["publish"] == {"deny": [">"]}


@pytest.mark.parametrize(("args", "message"), [
    (["--engine", "nats", "--nodes", "2", "--hostname", "a", "--hostname", "b",
      "--hostname", "c"], "--nodes 2 takes one --hostname per node, or one for all; got 3"),
    (["--engine", "nats", "--nodes", "0", "--hostname", "a"], "--nodes: expected 1 to 7"),
    (["--nodes", "3", "--hostname", "a"], "--nodes is for --engine nats"),
])
def test_a_cluster_that_cannot_be_is_refused_in_one_line(
    tmp_path: Path, args: list[str], message: str
) -> None:
    """Hosts that do not match the nodes, no nodes, or a Mosquitto cluster: one line."""
    result = ketenwacht("broker", "init", "--out", str(tmp_path / "out"), *args)
    assert result.returncode == 64, result.stderr
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
