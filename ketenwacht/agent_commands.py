"""`ketenwacht agent`: run from a config file, check it, set manual values, or simulate."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from agents.check import check_against, run_check
from agents.config import ManualProbe, load_config
from agents.daemon import build_agent, outbox_of, probe_set, state_dir_of
from agents.manual import manual_file, write_manual
from agents.probes.base import ProbeError, to_count
from agents.runtime import Agent
from agents.session import next_session
from agents.simulator import SimulatedOrg
from chain.errors import EX_UNAVAILABLE, UsageError
from chain.topics import Topics
from chain.topology import Topology
from ketenwacht.startup import cancel_on_signals, configure_logging
from mqtt.address import BrokerAddress, Brokers


def simulated_agent(
    topology: Topology,
    org: str,
    address: BrokerAddress | Brokers,
    *,
    topics: Topics,
    interval: float,
    pace: float,
    state_dir: Path,
) -> Agent:
    if org not in topology.by_org:
        known = ", ".join(topology.org_ids)
        raise UsageError(f"--org {org!r}: not an organisation of the chain ({known})")
    return Agent(
        org,
        address,
        session=next_session(state_dir, org),
        source=SimulatedOrg(topology, org, pace=pace),
        topics=topics,
        interval=interval,
    )


async def run_agent(agent: Agent) -> None:
    task = asyncio.create_task(agent.run(), name=f"agent-{agent.org}")
    cancel_on_signals(task)
    with contextlib.suppress(asyncio.CancelledError):
        await task
    agent.log.info("agent stopped")


def run_configured(path: Path, *, verbose: bool) -> int:
    config = load_config(path)
    configure_logging(verbose=verbose, org=config.org)

    async def main() -> None:
        probes = probe_set(config)
        try:
            async with outbox_of(config) as outbox:
                await run_agent(build_agent(config, outbox, probes))
        finally:
            await probes.context.close()

    asyncio.run(main())
    return 0


def check(path: Path, topology: Topology) -> int:
    config = load_config(path)
    check_against(config, topology)
    lines, ok = asyncio.run(run_check(config))
    print("\n".join(lines))
    return 0 if ok else EX_UNAVAILABLE


def set_manual(path: Path, target: str, value: str) -> int:
    config = load_config(path)
    manual = [p.target for p in config.settings.probes if isinstance(p, ManualProbe)]
    if target not in manual:
        offered = ", ".join(manual) or "none"
        raise UsageError(
            f"{path}: no [[probe]] of type manual for {target!r} (manual probes: {offered})"
        )
    try:
        count = to_count(value)
    except ProbeError as error:
        raise UsageError(f"VALUE {value!r}: {error}") from None
    write_manual(manual_file(state_dir_of(config), config.org), target, count)
    print(f"{config.org} {target} = {count} (the agent sends it at its next run)")
    return 0

