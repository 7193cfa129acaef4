"""`ketenwacht broker init`: a complete production setup for Mosquitto from the topology, and
rotating one user's credentials without touching anyone else's."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from broker import certs
from broker.acl import Role, check_username, render_acl
from broker.mosquitto_conf import render_mosquitto_conf
from broker.passwords import (
    hash_password,
    new_password,
    parse_password_file,
    render_password_file,
)
from broker.setup_dir import Layout, Manifest, User, read_file, write_file
from broker.topics import Topics
from chain.errors import UsageError
from chain.topology import Topology

DEFAULT_INTERVAL = 30.0
"""Production heartbeat: STALE after 90 s of silence, and little traffic for 17 agents."""


@dataclass(frozen=True)
class ServiceUsers:
    tui: tuple[str, ...] = ("tui",)
    recorder: tuple[str, ...] = ("recorder",)
    replay: tuple[str, ...] = ("replay",)


def init_setup(
    out: Path,
    topology: Topology,
    *,
    root: str,
    hostnames: list[str],
    tls_port: int = 8883,
    cert_port: int = 8884,
    local_port: int = 1883,
    installed_at: Path | None = None,
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
    manifest = Manifest(
        root=root, hostnames=tuple(hostnames), tls_port=tls_port, cert_port=cert_port,
        local_port=local_port,
        installed_at=str((installed_at or layout.broker).absolute()), users=tuple(users),
    )
    ca = certs.make_ca()
    write_file(layout.ca / "ca.key", ca.key_pem, secret=True)
    write_file(layout.ca / "ca.crt", ca.cert_pem)
    server = certs.make_server(ca, [*hostnames, "localhost", "127.0.0.1", "::1"])
    write_file(layout.broker / "ca.crt", ca.cert_pem)
    write_file(layout.broker / "server.crt", server.cert_pem + ca.cert_pem)
    write_file(layout.broker / "server.key", server.key_pem, secret=True)
    write_file(layout.broker / "crl.pem", certs.make_crl(ca, []))
    write_file(layout.broker / "acl", render_acl(((u.name, u.role) for u in users), root))
    write_file(layout.broker / "mosquitto.conf", render_mosquitto_conf(manifest))
    hashes = {user.name: _issue(layout, manifest, ca, user) for user in users}
    write_file(layout.broker / "passwords", render_password_file(hashes), secret=True)
    write_file(layout.manifest, manifest.render())
    return manifest


def rotate(out: Path, username: str) -> User:
    """New password and client certificate for one user; the old certificate is revoked.
    Every other user's lines and files stay byte for byte as they were."""
    check_username(username, "--rotate")
    layout = Layout(out)
    manifest = layout.read_manifest()
    role = manifest.role_of(username)
    if role is None:
        known = ", ".join(user.name for user in manifest.users)
        raise UsageError(f"--rotate {username}: no such user in {layout.manifest} ({known})")
    user = User(username, role)
    ca = certs.Issued(read_file(layout.ca / "ca.crt"), read_file(layout.ca / "ca.key"))
    passwords_path = layout.broker / "passwords"
    hashes = parse_password_file(read_file(passwords_path).decode(), str(passwords_path))
    crl_path = layout.broker / "crl.pem"
    revoked = certs.revoked_serials(read_file(crl_path))
    old_cert = layout.client(user) / "client.crt"
    if old_cert.exists():
        revoked.append(certs.serial_of(read_file(old_cert)))
    hashes[username] = _issue(layout, manifest, ca, user)
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


def _issue(layout: Layout, manifest: Manifest, ca: certs.Issued, user: User) -> str:
    """Write a user's credentials into its own folder; returns the password's hash."""
    folder = layout.client(user)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    password = new_password()
    client = certs.make_client(ca, user.name)
    write_file(folder / "password", password + "\n", secret=True)
    write_file(folder / "client.key", client.key_pem, secret=True)
    write_file(folder / "client.crt", client.cert_pem)
    write_file(folder / "ca.pem", ca.cert_pem)
    if user.role is Role.ORG and not (folder / "agent.toml").exists():
        write_file(folder / "agent.toml", agent_config(manifest, user.name))
    return hash_password(password)


def agent_config(manifest: Manifest, org: str) -> str:
    host = manifest.hostnames[0]
    host = f"[{host}]" if ":" in host else host
    return f"""\
# The agent of {org}, made by `ketenwacht broker init`. Install this folder as
# /etc/ketenwacht/ (see README, "Running an agent in production"), then add the
# [[probe]] sections that fit (deploy/examples/ has one for each type).
# Paths are relative to this file's folder.

org = "{org}"
interval = {DEFAULT_INTERVAL}

[broker]
url = {json.dumps(f"mqtts://{host}:{manifest.tls_port}")}
password_file = "password"     # only this organisation's; `broker init --rotate {org}` renews it
ca_file = "ca.pem"             # the chain's own CA, to verify the broker
root = {json.dumps(manifest.root)}

# To log in with the client certificate instead (its common name is the username):
# url = {json.dumps(f"mqtts://{host}:{manifest.cert_port}")}
# cert_file = "client.crt"
# key_file = "client.key"
"""
