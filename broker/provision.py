"""`ketenwacht broker init`: a complete production setup from the topology, for Mosquitto on
one host or for NATS on one or more (a cluster), and rotating one user's credentials without
touching anyone else's."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from broker import certs
from broker.acl import Role, check_username, render_acl
from broker.agent_file import agent_config
from broker.mosquitto_conf import render_mosquitto_conf
from broker.nats_nodes import issue_node_certificates, write_node_configs
from broker.passwords import (
    hash_password,
    new_password,
    parse_password_file,
    render_password_file,
)
from broker.setup_dir import Engine, Layout, Manifest, Node, User, read_file, write_file
from chain.errors import UsageError
from chain.topics import Topics
from chain.topology import Topology

MAX_NODES = 7


@dataclass(frozen=True)
class ServiceUsers:
    tui: tuple[str, ...] = ("tui",)
    recorder: tuple[str, ...] = ("recorder",)
    replay: tuple[str, ...] = ("replay",)


@dataclass(frozen=True)
class NodePorts:
    """Where each NATS node listens; nodes sharing a host name get consecutive ports."""

    mqtt: int = 8883
    cluster: int = 6222
    monitor: int = 8222
    bind: str = "0.0.0.0"


def init_setup(
    out: Path,
    topology: Topology,
    *,
    root: str,
    hostnames: list[str],
    engine: Engine = "mosquitto",
    nodes: int = 1,
    tls_port: int = 8883,
    cert_port: int = 8884,
    local_port: int = 1883,
    node_ports: NodePorts | None = None,
    installed_at: Path | None = None,
    store_dir: Path | None = None,
    service: ServiceUsers | None = None,
) -> Manifest:
    """Write everything into `out`, which must be new or empty: existing secrets are never
    overwritten by accident (that is what `rotate` is for)."""
    Topics(root)  # refuses wildcards in the root before anything is written
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UsageError(f"broker init: {out} is not empty; to replace one user's credentials "
                         "use --rotate USER, to start over give a new directory")
    if not hostnames:
        raise UsageError("broker init: give the broker's host name with --hostname (repeatable)")
    users = _users(topology, service or ServiceUsers())
    layout = Layout(out)
    if engine == "nats":
        manifest = Manifest(
            engine="nats", root=root, hostnames=tuple(hostnames), tls_port=0, cert_port=0,
            local_port=0, installed_at=str(installed_at.absolute()) if installed_at else "",
            store_dir=str(store_dir) if store_dir else "", users=tuple(users),
            nodes=_nodes(hostnames, nodes, node_ports or NodePorts()),
        )
    else:
        if nodes != 1:
            raise UsageError("broker init: --nodes is for --engine nats; Mosquitto runs on one "
                             "host")
        manifest = Manifest(
            root=root, hostnames=tuple(hostnames), tls_port=tls_port, cert_port=cert_port,
            local_port=local_port,
            installed_at=str((installed_at or layout.broker).absolute()), users=tuple(users),
        )
    ca = certs.make_ca()
    write_file(layout.ca / "ca.key", ca.key_pem, secret=True)
    write_file(layout.ca / "ca.crt", ca.cert_pem)
    hashes = {user.name: _issue(layout, manifest, ca, user) for user in users}
    if engine == "nats":
        issue_node_certificates(layout, manifest, ca)
        write_node_configs(layout, manifest)
    else:
        _write_mosquitto(layout, manifest, ca, users, hashes)
    write_file(layout.manifest, manifest.render())
    return manifest


def _write_mosquitto(
    layout: Layout, manifest: Manifest, ca: certs.Issued, users: list[User],
    hashes: dict[str, str | None],
) -> None:
    server = certs.make_server(ca, [*manifest.hostnames, "localhost", "127.0.0.1", "::1"])
    write_file(layout.broker / "ca.crt", ca.cert_pem)
    write_file(layout.broker / "server.crt", server.cert_pem + ca.cert_pem)
    write_file(layout.broker / "server.key", server.key_pem, secret=True)
    write_file(layout.broker / "crl.pem", certs.make_crl(ca, []))
    write_file(layout.broker / "acl", render_acl(((u.name, u.role) for u in users),
                                                 manifest.root))
    write_file(layout.broker / "mosquitto.conf", render_mosquitto_conf(manifest))
    write_file(layout.broker / "passwords", render_password_file(
        {name: hashed for name, hashed in hashes.items() if hashed is not None}), secret=True)


def _nodes(hostnames: list[str], count: int, ports: NodePorts) -> tuple[Node, ...]:
    if not 1 <= count <= MAX_NODES:
        raise UsageError(f"broker init: --nodes: expected 1 to {MAX_NODES}, got {count} (3 "
                         "survive the loss of any one)")
    if len(hostnames) == 1:
        hosts = hostnames * count
    elif len(hostnames) == count:
        hosts = list(hostnames)
    else:
        raise UsageError(f"broker init: --nodes {count} takes one --hostname per node, or one "
                         f"for all; got {len(hostnames)}")
    nodes = []
    for index, host in enumerate(hosts):
        shift = hosts[:index].count(host)  # nodes on one host: consecutive ports
        nodes.append(Node(
            name=f"n{index + 1}", host=host, mqtt_port=ports.mqtt + shift,
            cluster_port=ports.cluster + shift, monitor_port=ports.monitor + shift,
            bind=ports.bind,
        ))
    return tuple(nodes)


def rotate(out: Path, username: str) -> User:
    """New credentials for one user; the old certificate is revoked (Mosquitto: in the CRL;
    NATS: no longer pinned in any node's configuration). Every other user's lines and files
    stay byte for byte as they were."""
    check_username(username, "--rotate")
    layout = Layout(out)
    manifest = layout.read_manifest()
    role = manifest.role_of(username)
    if role is None:
        known = ", ".join(user.name for user in manifest.users)
        raise UsageError(f"--rotate {username}: no such user in {layout.manifest} ({known})")
    user = User(username, role)
    ca = certs.Issued(read_file(layout.ca / "ca.crt"), read_file(layout.ca / "ca.key"))
    if manifest.engine == "nats":
        _issue(layout, manifest, ca, user)
        write_node_configs(layout, manifest)
        return user
    passwords_path = layout.broker / "passwords"
    hashes = parse_password_file(read_file(passwords_path).decode(), str(passwords_path))
    crl_path = layout.broker / "crl.pem"
    revoked = certs.revoked_serials(read_file(crl_path))
    old_cert = layout.client(user) / "client.crt"
    if old_cert.exists():
        revoked.append(certs.serial_of(read_file(old_cert)))
    hashed = _issue(layout, manifest, ca, user)
    assert hashed is not None
    hashes[username] = hashed
    write_file(crl_path, certs.make_crl(ca, revoked))
    write_file(passwords_path, render_password_file(hashes), secret=True)
    return user


def _users(topology: Topology, service: ServiceUsers) -> list[User]:
    users = [User(check_username(org, "topology: org"), Role.ORG) for org in topology.org_ids]
    for role, names, option in (
        (Role.TUI, service.tui, "--tui-user"),
        (Role.RECORDER, service.recorder, "--recorder-user"),
        (Role.REPLAY, service.replay, "--replay-user"),
    ):
        users += [User(check_username(name, option), role) for name in names]
    seen: set[str] = set()
    for user in users:
        if user.name in seen:
            raise UsageError(f"broker init: username {user.name!r} is given twice (an "
                             "organisation and a service user cannot share a name)")
        seen.add(user.name)
    return users


def _issue(layout: Layout, manifest: Manifest, ca: certs.Issued, user: User) -> str | None:
    """Write a user's credentials into its own folder; returns the password's hash (Mosquitto;
    on NATS the client certificate is the only credential)."""
    folder = layout.client(user)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    client = certs.make_client(ca, user.name)
    write_file(folder / "client.key", client.key_pem, secret=True)
    write_file(folder / "client.crt", client.cert_pem)
    write_file(folder / "ca.pem", ca.cert_pem)
    if user.role is Role.ORG and not (folder / "agent.toml").exists():
        write_file(folder / "agent.toml", agent_config(manifest, user.name))
    if manifest.engine == "nats":
        return None
    password = new_password()
    write_file(folder / "password", password + "\n", secret=True)
    return hash_password(password)
