"""`ketenwacht broker`: the embedded broker, and `broker init` for a production Mosquitto."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import Callable
from pathlib import Path

from agents.session import default_state_dir
from broker.acl import Role
from broker.embedded import BrokerAccess, EmbeddedBroker
from broker.provision import ServiceUsers, init_setup, rotate
from broker.setup_dir import Layout
from broker.topics import DEFAULT_ROOT
from chain.errors import UsageError
from ketenwacht.setup import cancel_on_signals, load_topology


def add_init_options(init: argparse.ArgumentParser, port: Callable[[str], int]) -> None:
    init.add_argument("--out", type=Path, required=True, help="directory to write (new or empty)")
    init.add_argument("--rotate", metavar="USER",
                      help="replace one user's password and certificate in an existing --out")
    init.add_argument("--hostname", action="append", default=[],
                      help="name the agents reach the broker by (repeatable; first is used in "
                      "agent configs)")
    init.add_argument("--port", type=port, default=8883, help="TLS with passwords (8883)")
    init.add_argument("--cert-port", type=port, default=8884,
                      help="TLS with client certificates (8884)")
    init.add_argument("--local-port", type=int, default=1883,
                      help="plaintext on 127.0.0.1 only (1883; 0: none)")
    init.add_argument("--installed-at", type=Path,
                      help="where broker/ will live on the broker host (default: OUT/broker)")
    for role, default in (("tui", "tui"), ("recorder", "recorder"), ("replay", "replay")):
        init.add_argument(f"--{role}-user", action="append", metavar="NAME",
                          help=f"a {role} identity (repeatable; default {default})")


def broker_init(args: argparse.Namespace) -> int:
    if args.rotate is not None:
        user = rotate(args.out, args.rotate)
        folder = Layout(args.out).client(user)
        print(f"rotated {user.name}: new password and certificate in {folder}/, old "
              f"certificate revoked in {args.out}/broker/crl.pem")
        print("next: copy broker/passwords and broker/crl.pem to the broker and reload it "
              f"(systemctl reload mosquitto); give {folder}/ to {user.name}")
        return 0
    if not 0 <= args.local_port < 65_536:
        raise UsageError(f"--local-port: expected 0 (none) or a port, got {args.local_port}")
    manifest = init_setup(
        args.out, load_topology(args.topology), root=args.root or DEFAULT_ROOT,
        hostnames=args.hostname,
        tls_port=args.port, cert_port=args.cert_port, local_port=args.local_port,
        installed_at=args.installed_at,
        service=ServiceUsers(
            tui=tuple(args.tui_user or ["tui"]),
            recorder=tuple(args.recorder_user or ["recorder"]),
            replay=tuple(args.replay_user or ["replay"]),
        ),
    )
    orgs = sum(1 for user in manifest.users if user.role is Role.ORG)
    others = [user.name for user in manifest.users if user.role is not Role.ORG]
    print(f"wrote {args.out}/: broker/ for the broker host, ca/ to keep offline, "
          f"agents/ for {orgs} organisations, clients/ for {', '.join(others)}")
    print("next: README, \"Production setup\"; no password was printed, each is in its "
          "folder's `password` file (mode 0600)")
    return 0


async def run_broker(host: str, port: int | None, config: Path | None) -> None:
    access = None
    if config is not None:
        access, manifest = BrokerAccess.from_setup(config)
        port = port or manifest.tls_port
    port = port or 1883
    state = default_state_dir()
    sessions: Path | None = state / f"embedded-broker-{port}.sessions.json"
    try:
        state.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        print(f"warning: {state}: {error.strerror or error}; persistent sessions "
              "(a recorder's) will not outlive this broker", file=sys.stderr)
        sessions = None
    async with EmbeddedBroker(host, port, access=access, sessions=sessions) as broker:
        where = broker.address.url
        if broker.local_address is not None:
            where += f" and {broker.local_address.url}"
        checks = "passwords and ACL enforced" if access else "no credentials: loopback only"
        print(f"embedded broker listening on {where} ({checks}; Ctrl-C stops it)", flush=True)
        forever = asyncio.create_task(asyncio.Event().wait())
        cancel_on_signals(forever)
        with contextlib.suppress(asyncio.CancelledError):
            await forever
