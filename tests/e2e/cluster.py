"""A three-node NATS cluster from `broker init --engine nats --nodes 3`, on one machine, whose
nodes a test or a bench kills with -9 and starts again; and the chain's agents on it, each
logging in with its own certificate and noting what the cluster acknowledged."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import aiomqtt

from broker.nats_nodes import CONFIG
from broker.nats_server import Launch, NatsServer, find_nats_server
from broker.provision import NodePorts, init_setup
from broker.setup_dir import Layout, Manifest, Node, User
from chain.wire import FlowCounter, decode
from ketenwacht.startup import load_topology
from mqtt.address import BrokerAddress, Brokers, Identity
from mqtt.connection import make_client
from mqtt.tls import client_context
from recording.reader import Recording
from tests.e2e.faults import AckedAgent, AckedOutbox, CountingSource, Key, key


def free_run(count: int, host: str = "127.0.0.1") -> int:
    """The first of `count` consecutive free ports (nodes on one host get consecutive ones)."""
    for _ in range(200):
        with socket.socket() as probe:
            probe.bind((host, 0))
            base: int = probe.getsockname()[1]
        if base + count >= 65_000:
            continue
        free = True
        for port in range(base, base + count):
            with socket.socket() as probe:
                try:
                    probe.bind((host, port))
                except OSError:
                    free = False
                    break
        if free:
            return base
    raise RuntimeError(f"no {count} consecutive free ports")


@dataclass
class Cluster:
    layout: Layout
    manifest: Manifest
    logs: Path
    servers: dict[str, NatsServer]

    @classmethod
    def provision(cls, out: Path, logs: Path, nodes: int = 3) -> Cluster:
        manifest = init_setup(
            out, load_topology(None), root="keten/v1", hostnames=["localhost"],
            engine="nats", nodes=nodes,
            node_ports=NodePorts(mqtt=free_run(nodes), cluster=free_run(nodes),
                                 monitor=free_run(nodes), bind="127.0.0.1"),
        )
        return cls(Layout(out), manifest, logs, {})

    def _server(self, node: Node) -> NatsServer:
        return NatsServer(Launch(
            binary=find_nats_server(), config=self.layout.node(node.name) / CONFIG,
            log_file=self.logs / f"{node.name}.log", monitor_port=node.monitor_port,
            name=f"NATS node {node.name}",
        ))

    @property
    def nodes(self) -> tuple[Node, ...]:
        return self.manifest.nodes

    async def start(self, name: str | None = None) -> None:
        """Start one node, or all; a node is ready for clients once the cluster has a
        JetStream leader again (see `until_serving`)."""
        for node in self.nodes:
            if name is None or node.name == name:
                self.servers[node.name] = self._server(node)
                await self.servers[node.name].start()

    async def kill(self, name: str) -> None:
        server = self.servers.pop(name, None)
        if server is not None:
            await server.kill()

    async def stop(self) -> None:
        await asyncio.gather(*(server.stop() for server in self.servers.values()))
        self.servers.clear()

    def brokers(self, user: str) -> Brokers:
        """Every node, as `user` logs in to it (its certificate)."""
        identity = Identity.of(self.folder(user))
        return tuple(BrokerAddress("localhost", node.mqtt_port, tls=True, identity=identity)
                     for node in self.nodes)

    def folder(self, user: str) -> Path:
        role = self.manifest.role_of(user)
        assert role is not None, user
        return self.layout.client(User(user, role))

    async def until_serving(self, user: str = "recorder", within: float = 60) -> None:
        """Until every running node takes a persistent session and a QoS 1 publish: the
        cluster has its JetStream leaders."""
        deadline = time.monotonic() + within
        for address in self.brokers(user):
            if not any(node.mqtt_port == address.port and node.name in self.servers
                       for node in self.nodes):
                continue
            while True:
                try:
                    async with make_client(address, identifier="ready-probe", timeout=2,
                                           clean_session=False) as client:
                        await client.publish("keten/v1/_probe", b"", qos=1, timeout=2)
                    break
                except aiomqtt.MqttError:
                    if time.monotonic() > deadline:
                        raise AssertionError(
                            f"{address.url} not serving after {within} s") from None
                    await asyncio.sleep(0.2)


STOP_WITHIN = 30.0
"""Seconds a stopped agent may take (its planned stop waits at most a few)."""


def _where(task: asyncio.Task[None]) -> str:
    frames = task.get_stack(limit=20)
    return " < ".join(f"{f.f_code.co_name}:{f.f_lineno}" for f in reversed(frames)) or "?"


@asynccontextmanager
async def cluster_agents(
    cluster: Cluster, orgs: Sequence[str], workdir: Path, *, interval: float = 1.0,
    keepalive: int = 5, per_tick: int = 1,
) -> AsyncIterator[list[AckedAgent]]:
    """One agent per organisation, on every node, with its own certificate and outbox."""
    agents: list[AckedAgent] = []
    outboxes: list[AckedOutbox] = []
    tasks: list[asyncio.Task[None]] = []
    try:
        for org in orgs:
            outbox = AckedOutbox(workdir / f"{org}.outbox.sqlite", max_messages=1_000_000)
            outbox.acknowledged = []
            await outbox.open()
            outboxes.append(outbox)
            folder = cluster.folder(org)
            tls = client_context(ca_file=folder / "ca.pem", cert_file=folder / "client.crt",
                                 key_file=folder / "client.key", origin=org)
            brokers = tuple(replace(address, identity=None) for address in cluster.brokers(org))
            agent = AckedAgent(org, brokers, session=1,
                               source=CountingSource(org, per_tick=per_tick), outbox=outbox,
                               interval=interval, keepalive=keepalive, tls_context=tls)
            agent.acknowledged = []
            agents.append(agent)
            tasks.append(asyncio.create_task(agent.run(), name=f"agent-{org}"))
            await asyncio.sleep(interval / len(orgs) / 2)  # spread, as independent hosts are
        yield agents
    finally:
        for task in tasks:
            task.cancel()
        _, stuck = await asyncio.wait(tasks, timeout=STOP_WITHIN) if tasks else ((), set())
        if stuck:
            # A hang would only end at the suite's timeout, saying nothing: say where.
            where = "; ".join(f"{task.get_name()} at {_where(task)}" for task in stuck)
            raise AssertionError(f"agents still running {STOP_WITHIN}s after a stop: {where}")
        for outbox in outboxes:
            with contextlib.suppress(Exception):
                await outbox.close()


async def recorded(path: Path) -> set[Key]:
    """The readings in a recording, by (org, session, seq); retained copies left out."""
    found = set()
    with Recording(path) as recording:
        for row in recording.rows():
            if "/flow/" in row.topic and not row.retain:
                message = decode(row.payload)
                assert isinstance(message, FlowCounter)
                found.add(key(message))
    return found


def acknowledged(agents: Sequence[AckedAgent]) -> set[Key]:
    """What the cluster acknowledged to the agents, live or from their outboxes."""
    found = {k for agent in agents for k in agent.acknowledged}
    return found | {k for agent in agents if isinstance(agent.outbox, AckedOutbox)
                    for k in agent.outbox.acknowledged}


class Failovers:
    """How long each agent is without a connection after it lost one, sampled as it goes."""

    def __init__(self, agents: Sequence[AckedAgent]) -> None:
        self.agents = agents
        self.times: list[float] = []
        self._down_since: dict[str, float] = {}

    def sample(self, now: float) -> None:
        for agent in self.agents:
            if not agent.connected:
                self._down_since.setdefault(agent.org, now)
            elif agent.org in self._down_since:
                self.times.append(now - self._down_since.pop(agent.org))
