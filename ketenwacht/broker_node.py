"""`ketenwacht broker --config DIR`: one node of a NATS setup from `broker init --engine nats`,
supervised, reloaded when its nats.conf changes (after `--rotate`)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass
from pathlib import Path

from agents.session import default_state_dir
from broker.nats_nodes import CONFIG
from broker.nats_server import Launch, NatsServer, find_nats_server
from broker.setup_dir import MANIFEST, Layout
from chain.errors import ConfigError, UsageError
from ketenwacht.startup import until_signalled


@dataclass(frozen=True)
class NodeConfig:
    path: Path
    name: str
    mqtt: str
    monitor_port: int
    cluster: str | None

    @classmethod
    def read(cls, path: Path) -> NodeConfig:
        try:
            conf = json.loads(path.read_bytes())
            http = str(conf["http"])
            return cls(path=path, name=str(conf["server_name"]), mqtt=str(conf["mqtt"]["listen"]),
                       monitor_port=int(http.rsplit(":", 1)[1]),
                       cluster=str(conf["cluster"]["listen"]) if "cluster" in conf else None)
        except OSError as error:
            raise ConfigError(f"{path}: cannot read: {error.strerror}") from None
        except (ValueError, KeyError, TypeError, IndexError) as error:
            raise ConfigError(f"{path}: not a node configuration made by `broker init --engine "
                              f"nats` ({type(error).__name__}: {error})") from None


def node_config(directory: Path) -> Path:
    """A node's folder, or a setup with one node; anything else is one line that says what
    to give instead."""
    if (directory / CONFIG).is_file():
        return directory / CONFIG
    if not (directory / MANIFEST).is_file():
        raise ConfigError(f"--config {directory}: neither a node's folder ({CONFIG}) nor a "
                          f"setup ({MANIFEST}) made by `ketenwacht broker init --engine nats`")
    manifest = Layout(directory).read_manifest()
    if manifest.engine != "nats":
        raise UsageError(f"--config {directory}: a Mosquitto setup; install its broker/ folder "
                         "into Mosquitto (README, \"Production setup\"), or make a NATS setup "
                         "with `broker init --engine nats`")
    if len(manifest.nodes) != 1:
        names = ", ".join(f"{directory}/nodes/{node.name}" for node in manifest.nodes)
        raise UsageError(f"--config {directory}: {len(manifest.nodes)} nodes; run each on its "
                         f"own host with --config NODE_FOLDER ({names})")
    return Layout(directory).node(manifest.nodes[0].name) / CONFIG


async def run_node(directory: Path, *, port: int | None, nats_server: Path | None) -> None:
    if port is not None:
        raise UsageError("--port does not go with --config: the node's ports are in its "
                         f"{CONFIG} (broker init --port)")
    node = NodeConfig.read(node_config(directory))
    log_file = default_state_dir() / f"nats-{node.name}.log"
    server = NatsServer(Launch(
        binary=find_nats_server(nats_server), config=node.path, log_file=log_file,
        monitor_port=node.monitor_port, name=f"NATS node {node.name}",
    ))
    await server.start()
    try:
        cluster = f", routes on {node.cluster}" if node.cluster else ""
        print(f"NATS node {node.name} listening on mqtts://{node.mqtt} (client certificates "
              f"and the ACL enforced{cluster}; log {log_file}; Ctrl-C stops it)", flush=True)
        watching = asyncio.create_task(server.watch_config())
        await until_signalled()
        watching.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watching
    finally:
        await server.stop()
