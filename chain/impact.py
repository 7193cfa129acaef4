"""Impact propagation: which decision processes work on stale data, since when, and why."""

from __future__ import annotations

from collections.abc import Mapping

from chain.topology import Process
from chain.views import LinkState, LinkView, OrgState, OrgView, ProcessState, ProcessView

STOPPED = (LinkState.DOWN, LinkState.STALLED, LinkState.STUCK)


def judge_process(
    process: Process, links: Mapping[str, LinkView], orgs: Mapping[str, OrgView]
) -> ProcessView:
    owner = orgs.get(process.org)
    stopped = [links[d] for d in process.depends_on if d in links and links[d].state in STOPPED]
    causes = tuple(_cause(link) for link in stopped)
    if owner is not None and owner.state in (OrgState.OFFLINE, OrgState.ISOLATED):
        why = f"{owner.id} {owner.state.value}" + (f" ({owner.cause})" if owner.cause else "")
        return ProcessView(
            id=process.id, org=process.org, name=process.name, state=ProcessState.BLOCKED,
            since=owner.since, data_as_of=owner.since, causes=(why, *causes),
        )
    if not stopped:
        return ProcessView(
            id=process.id, org=process.org, name=process.name, state=ProcessState.OK,
            since=None, data_as_of=None, causes=(),
        )
    starts = [link.since for link in stopped if link.since is not None]
    movements = [link.last_movement for link in stopped if link.last_movement is not None]
    return ProcessView(
        id=process.id,
        org=process.org,
        name=process.name,
        state=ProcessState.AT_RISK,
        since=min(starts) if starts else None,
        data_as_of=min(movements) if movements else None,
        causes=causes,
    )


def _cause(link: LinkView) -> str:
    return f"{link.id} {link.state.value}" + (f": {link.cause}" if link.cause else "")
