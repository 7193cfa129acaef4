"""`ketenwacht broker`: the embedded broker, a node of a NATS setup, and `broker init` for a
production Mosquitto or NATS cluster."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from agents.session import default_state_dir
from broker.acl import Role
from broker.embedded import EmbeddedBroker
from broker.provision import NodePorts, ServiceUsers, init_setup, rotate
from broker.setup_dir import Layout
from chain.errors import UsageError
from chain.topics import DEFAULT_ROOT
from ketenwacht.startup import load_topology, until_signalled


def add_init_options(init: argparse.ArgumentParser, port: Callable[[str], int]) -> None:
    init.add_argument("--out", type=Path, required=True, help="directory to write (new or empty)")
    init.add_argument("--rotate", metavar="USER",
                      help="replace one user's credentials in an existing --out")
    init.add_argument("--engine", choices=("mosquitto", "nats"), default="mosquitto",
                      help="mosquitto (one host, default) or nats (one or more nodes)")
    init.add_argument("--nodes", type=int, default=1,
                      help="nats: servers in the cluster (3 survive the loss of any one)")
    init.add_argument("--hostname", action="append", default=[],
                      help="name clients reach the broker by (repeatable; mosquitto: the "
                      "first goes in agent configs; nats: one per node, or one for all)")
    init.add_argument("--port", type=port, default=8883,
                      help="mosquitto: TLS with passwords; nats: MQTT over TLS with client "
                      "certificates (8883)")
    init.add_argument("--cert-port", type=port, default=8884,
                      help="mosquitto: TLS with client certificates (8884)")
    init.add_argument("--local-port", type=int, default=1883,
                      help="mosquitto: plaintext on 127.0.0.1 only (1883; 0: none)")
    init.add_argument("--cluster-port", type=port, default=6222,
                      help="nats: routes between the nodes, mutual TLS (6222)")
    init.add_argument("--monitor-port", type=port, default=8222,
                      help="nats: health checks on 127.0.0.1 (8222)")
    init.add_argument("--bind", default="0.0.0.0",
                      help="nats: the address the nodes listen on (0.0.0.0)")
    init.add_argument("--installed-at", type=Path,
                      help="where broker/ (mosquitto) or a node's folder (nats) will live on "
                      "its host (default: where init writes it)")
    init.add_argument("--store-dir", type=Path,
                      help="nats: where each node keeps JetStream (default: INSTALLED_AT/"
                      "jetstream)")
    for role, default in (("tui", "tui"), ("recorder", "recorder"), ("replay", "replay")):
        init.add_argument(f"--{role}-user", action="append", metavar="NAME",
                          help=f"a {role} identity (repeatable; default {default})")


def broker_init(args: argparse.Namespace) -> int:
    if args.rotate is not None:
        return _rotate(args.out, args.rotate)
    if not 0 <= args.local_port < 65_536:
        raise UsageError(f"--local-port: expected 0 (none) or a port, got {args.local_port}")
    manifest = init_setup(
        args.out, load_topology(args.topology), root=args.root or DEFAULT_ROOT,
        hostnames=args.hostname, engine=args.engine, nodes=args.nodes,
        tls_port=args.port, cert_port=args.cert_port, local_port=args.local_port,
        node_ports=NodePorts(mqtt=args.port, cluster=args.cluster_port,
                             monitor=args.monitor_port, bind=args.bind),
        installed_at=args.installed_at, store_dir=args.store_dir,
        service=ServiceUsers(
            tui=tuple(args.tui_user or ["tui"]),
            recorder=tuple(args.recorder_user or ["recorder"]),
            replay=tuple(args.replay_user or ["replay"]),
        ),
    )
    orgs = sum(1 for user in manifest.users if user.role is Role.ORG)
    others = [user.name for user in manifest.users if user.role is not Role.ORG]
    if manifest.engine == "nats":
        where = ", ".join(f"nodes/{node.name}/ for {node.host}" for node in manifest.nodes)
        print(f"wrote {args.out}/: {where}; ca/ to keep offline, agents/ for {orgs} "
              f"organisations, clients/ for {', '.join(others)}")
        print("next: README, \"Production setup\"; every identity is a client certificate "
              "(client.key, mode 0600) in its folder")
        return 0
    print(f"wrote {args.out}/: broker/ for the broker host, ca/ to keep offline, "
          f"agents/ for {orgs} organisations, clients/ for {', '.join(others)}")
    print("next: README, \"Production setup\"; no password was printed, each is in its "
          "folder's `password` file (mode 0600)")
    return 0


def _rotate(out: Path, username: str) -> int:
    user = rotate(out, username)
    layout = Layout(out)
    folder = layout.client(user)
    if layout.read_manifest().engine == "nats":
        print(f"rotated {user.name}: new certificate in {folder}/; the old one is no longer "
              f"pinned in {out}/nodes/*/nats.conf")
        print("next: copy each node's nats.conf to its host and reload it (nats-server "
              "--signal reload; `ketenwacht broker --config` reloads by itself); give "
              f"{folder}/ to {user.name}")
        return 0
    print(f"rotated {user.name}: new password and certificate in {folder}/, old "
          f"certificate revoked in {out}/broker/crl.pem")
    print("next: copy broker/passwords and broker/crl.pem to the broker and reload it "
          f"(systemctl reload mosquitto); give {folder}/ to {user.name}")
    return 0


async def run_broker(
    host: str, port: int | None, config: Path | None, nats_server: Path | None
) -> None:
    if config is not None:
        from ketenwacht.broker_node import run_node

        await run_node(config, port=port, nats_server=nats_server)
        return
    port = port or 1883
    state = default_state_dir()
    broker = EmbeddedBroker(
        host, port, store=state / f"broker-{port}" / "jetstream",
        log_file=state / f"broker-{port}.log", nats_server=nats_server,
    )
    async with broker:
        print(f"embedded broker (NATS) listening on {broker.address.url} (no credentials: "
              f"loopback only; log {broker.log_file}; Ctrl-C stops it)", flush=True)
        await until_signalled()
