"""Text for the operator: ages, clock times, state words. No widgets here, so it tests plainly."""

from __future__ import annotations

from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chain import vocabulary
from chain.views import ChannelView, OrgState

STATE_LABEL: dict[OrgState, str] = {state: vocabulary.label(state) for state in OrgState}
"""For the screens that index it by organisation state; the words are chain/vocabulary.py's."""

NONE = "—"


def zone_of(name: str) -> tzinfo | None:
    """The topology's time zone, in which the screen shows every time as the report does;
    None (the machine's) if this host does not know it (loading the topology checks that)."""
    try:
        return ZoneInfo(name)
    except (ValueError, ZoneInfoNotFoundError):
        return None


def age(seconds: float | None) -> str:
    if seconds is None:
        return NONE
    whole = int(seconds)
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    if whole < 86_400:
        return f"{whole // 3600}h{whole % 3600 // 60:02d}m"
    return f"{whole // 86_400}d{whole % 86_400 // 3600:02d}h"


def clock_time(at: float | None, now: float, zone: tzinfo | None = None) -> str:
    """The time of day in `zone` (the screen passes the topology's, as the report shows it;
    None: the machine's), with the date when it is not today there."""
    if at is None:
        return NONE
    moment = datetime.fromtimestamp(at, zone)
    if datetime.fromtimestamp(now, zone).date() == moment.date():
        return moment.strftime("%H:%M:%S")
    return moment.strftime("%d %b %H:%M")


def stamp(at: float, zone: tzinfo | None = None) -> str:
    """Date and time of day, for the summary's clock: `17 Jul 10:00:00`."""
    return datetime.fromtimestamp(at, zone).strftime("%d %b %H:%M:%S")


def channel(view: ChannelView | None) -> str:
    if view is None:
        return NONE
    if not view.current:
        return f"? {age(view.age)} old"
    if not view.up:
        return "✗ down"
    if view.latency_ms is None:
        return "✓ up"
    return f"✓ {view.latency_ms:.0f}ms"


def count(value: int | None) -> str:
    return NONE if value is None else f"{value:,}".replace(",", " ")


SPARK = "▁▂▃▄▅▆▇█"


def spark(values: tuple[int, ...], width: int = 12) -> str:
    """A text sparkline of the last `width` values, scaled between their minimum and maximum."""
    values = values[-width:]
    if not values:
        return ""
    low, high = min(values), max(values)
    if high == low:
        return SPARK[0] * len(values)
    return "".join(SPARK[(v - low) * (len(SPARK) - 1) // (high - low)] for v in values)


def signed(value: float) -> str:
    return f"{value:+,.0f}".replace(",", " ")


def rate(value: float | None) -> str:
    return NONE if value is None else f"{value:,.0f}".replace(",", " ")


def duration(seconds: float | None) -> str:
    return NONE if seconds is None else age(seconds)
