"""MQTT topic filters as the NATS subjects a permission must name."""

from __future__ import annotations

import pytest

from broker.nats_conf import nats_subjects
from chain.errors import UsageError


@pytest.mark.parametrize(("topic_filter", "subjects"), [
    ("keten/v1/om/#", ["keten.v1.om.>", "keten.v1.om"]),
    ("keten-exercise/+/v1/_ops/#", ["keten-exercise.*.v1._ops.>", "keten-exercise.*.v1._ops"]),
    ("keten/v1/om/status", ["keten.v1.om.status"]),
    ("#", [">"]),
])
def test_a_filter_maps_to_what_nats_matches(topic_filter: str, subjects: list[str]) -> None:
    """`/` is `.`, `+` is `*`, and `a/#` is both `a.>` and `a` (MQTT's `#` matches its parent)."""
    assert nats_subjects(topic_filter) == subjects


@pytest.mark.parametrize("topic_filter", ["keten/v1.2/#", "keten//v1", "keten/v 1"])
def test_what_nats_cannot_carry_is_refused(topic_filter: str) -> None:
    """A '.', an empty level or a space would map to another subject or none: refused."""
    with pytest.raises(UsageError, match="cannot be mapped to NATS subjects"):
        nats_subjects(topic_filter)
