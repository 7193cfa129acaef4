"""Alarm quality: false alarms on a healthy simulated chain, and recall and delay on faults.

Healthy: every organisation and link of seeds/chain.toml, traffic from agents.traffic
(profiles, Poisson-like irregularity), heartbeats, channels and counters every 60 s, for
--weeks simulated weeks through the real ChainEngine, judged every 5 simulated minutes.
A false alarm is a judgement showing a link neither FLOWING nor UNKNOWN (counted as
episodes: such a state beginning), and any crisis-log entry of kind LINK or PROCESS.
Targets: 0 and 0.

Faults (--seed): --faults faults at random moments of the same weeks, each in a fresh
engine (bench/alarm_faults.py): a sender stops (expect STALLED), a receiver stops while the
sender goes on (STUCK), an organisation dies without a Will (STALE; what its links become
is shown apart), a channel goes down (DEGRADED). Per kind and per link: recall (target
100 %), median delay from fault to declared, the median theoretical delay for STALLED and
STUCK (stall_level messages expected after the last movement, by an integration of the
topology's prior apart from the engine's, plus one reading cadence), and the median of
the ratios delay / theoretical (target <= 1.5).

Run: .venv/bin/python bench/alarm_quality.py [--weeks 8] [--faults 200] [--seed 1]
"""

from __future__ import annotations

import argparse
import random
import shlex
import statistics
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from alarm_faults import EXPECTED, INTERVAL, KINDS, Outcome, SimChain, plan, run

from chain.crisislog import EntryKind
from chain.flows import stall_level
from chain.topology import Topology
from chain.views import LinkState, OrgState
from ketenwacht.startup import load_topology

EVALUATE_EVERY = 300.0
QUIET = (LinkState.FLOWING, LinkState.UNKNOWN)


def healthy(topology: Topology, start: float,
            weeks: float) -> tuple[int, Counter[str], int, Counter[str]]:
    """(judgements, alarm episodes per "link state", crisis-log LINK/PROCESS entries,
    judgements of an organisation other than ONLINE per "org state")."""
    chain = SimChain(topology, topology.org_ids, topology.links)
    chain.start(start - INTERVAL)
    end = start + weeks * 7 * 86_400
    episodes: Counter[str] = Counter()
    previous: dict[str, LinkState] = {}
    orgs: Counter[str] = Counter()
    judgements = 0
    at = start
    while at < end:
        chain.tick(at)
        if (at - start) % EVALUATE_EVERY == 0:
            judgements += 1
            view = chain.engine.evaluate(at)
            for link in view.links:
                if link.state not in QUIET and previous.get(link.id) is not link.state:
                    episodes[f"{link.id} {link.state.value}"] += 1
                previous[link.id] = link.state
            orgs.update(f"{o.id} {o.state.value}" for o in view.orgs
                        if o.state is not OrgState.ONLINE)
        at += INTERVAL
    logged = sum(1 for entry in chain.engine.log.entries
                 if entry.kind in (EntryKind.LINK, EntryKind.PROCESS))
    return judgements, episodes, logged, orgs


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def median(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def row(label: str, rows: list[tuple[float | None, float | None]]) -> str:
    """One table line from (delay, theory) pairs; a delay of None is a miss."""
    found = [(d, t) for d, t in rows if d is not None]
    ratios = [d / t for d, t in found if t is not None and t > 0]
    ratio = median(ratios)
    return (f"  {label:<38} {len(rows):>3} {100 * len(found) / len(rows):>6.0f} % "
            f"{duration(median(d for d, _ in found)):>10} "
            f"{duration(median(t for _, t in rows)):>10} "
            f"{'-' if ratio is None else f'{ratio:.2f}':>6}")


def report(outcomes: list[Outcome]) -> None:
    header = (f"  {'kind / subject':<38} {'n':>3} {'recall':>8} {'delay':>10} "
              f"{'theory':>10} {'ratio':>6}")
    by_kind: dict[str, list[tuple[float | None, float | None]]] = defaultdict(list)
    by_subject: dict[tuple[str, str], list[tuple[float | None, float | None]]] = defaultdict(list)
    for o in outcomes:
        by_kind[o.fault.kind].append((o.delay, o.theory))
        by_subject[(o.fault.kind, o.fault.subject)].append((o.delay, o.theory))
        for link, theory in o.link_theory.items():
            state, delay = o.links.get(link, ("", None))
            key = f"org dies: its links {state or 'missed'}"
            by_kind[key].append((delay, theory))
            by_subject[("links of dead org", link)].append((delay, theory))
    expected = EXPECTED
    print("\nfaults per kind (median delay, median theoretical, median of delay/theoretical)")
    print(header)
    for kind in sorted(by_kind, key=lambda k: (KINDS.index(k) if k in KINDS else 9, k)):
        label = f"{kind} -> {expected[kind]}" if kind in expected else kind
        print(row(label, by_kind[kind]))
    print("\nper subject")
    print(header)
    for (kind, subject), rows in sorted(by_subject.items()):
        print(row(f"{kind}: {subject}", rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weeks", type=float, default=8.0, help="healthy weeks simulated")
    parser.add_argument("--faults", type=int, default=200, help="faults injected, kinds in turn")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--start", default="2025-10-13",
                        help="first day (local midnight; the default spans a DST change)")
    args = parser.parse_args()
    topology = load_topology(None)
    level = stall_level(topology.messages_per_year)
    start = datetime.fromisoformat(args.start).replace(
        tzinfo=ZoneInfo(topology.timezone)).timestamp()
    print("command:", shlex.join([".venv/bin/python", "bench/alarm_quality.py", *sys.argv[1:]]))
    print(f"stall level {level:.1f} expected messages; readings every {INTERVAL:.0f} s")
    began = time.perf_counter()
    judgements, episodes, logged, orgs = healthy(topology, start, args.weeks)
    took = time.perf_counter() - began
    print(f"\nhealthy: {args.weeks:g} weeks from {args.start}, {len(topology.org_ids)} orgs, "
          f"{len(topology.links)} links, {judgements} judgements every "
          f"{EVALUATE_EVERY / 60:.0f} min ({took:.0f} s)")
    print(f"  false alarms (link states other than flowing/unknown, episodes): "
          f"{sum(episodes.values())}" + "".join(f"\n    {k}: {n}" for k, n in episodes.items()))
    print(f"  crisis-log entries of kind link/process: {logged}")
    print(f"  organisation judgements other than online: {sum(orgs.values())}"
          + "".join(f"\n    {k}: {n}" for k, n in orgs.items()))
    rng = random.Random(args.seed)
    faults = plan(topology, rng, args.faults, start + 86_400, start + args.weeks * 7 * 86_400)
    began = time.perf_counter()
    outcomes = [run(topology, fault, level) for fault in faults]
    report(outcomes)
    print(f"\n{len(outcomes)} faults ({time.perf_counter() - began:.0f} s)")


if __name__ == "__main__":
    main()
