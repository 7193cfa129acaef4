"""Backlog charts for the HTML report, drawn by matplotlib as SVG.

SVG because the report is printed and projected: it stays sharp at any size. Only the
object API is used (no pyplot): no global figure state and no GUI backend is ever loaded.
The output is reproducible (fixed hash salt, no date), so a report can be compared.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Final

import matplotlib as mpl
from matplotlib import dates
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from chain.printable import visible
from report import text as t
from report.model import BacklogSummary

LINE: Final = "#0072B2"
"""Okabe-Ito blue: distinguishable for every kind of colour vision, and when printed grey."""
OUTAGE: Final = "0.85"
DAY: Final = 86_400.0


def _x(at: float) -> float:
    """Matplotlib's date number (days since its default epoch, 1970-01-01 UTC)."""
    return at / DAY


def backlog_svg(backlog: BacklogSummary, *, start: float, end: float,
                gaps: Sequence[tuple[float, float]] = ()) -> bytes:
    """The backlog over the recording: its last value per bucket of time, the band between
    each bucket's lowest and highest, and the recorder's outages shaded."""
    zone = t.zone()
    times = [_x(p.at) for p in backlog.points]
    with mpl.rc_context({"svg.fonttype": "none", "svg.hashsalt": "ketenwacht", "font.size": 9.0,
                         "axes.spines.top": False, "axes.spines.right": False}):
        figure = Figure(figsize=(8.0, 2.4), layout="constrained")
        axes = figure.add_subplot()
        axes.fill_between(times, [p.low for p in backlog.points],
                          [p.high for p in backlog.points], step="post", color=LINE,
                          alpha=0.2, linewidth=0)
        axes.step(times, [p.items for p in backlog.points], where="post", color=LINE,
                  linewidth=1.4, marker="o" if len(times) < 60 else None, markersize=2.5)
        for lost, back in gaps:
            axes.axvspan(_x(lost), _x(back), color=OUTAGE, linewidth=0)
        # matplotlib.dates carries no annotations; these two calls are what it documents.
        locator = dates.AutoDateLocator(tz=zone)  # type: ignore[no-untyped-call]
        axes.xaxis.set_major_locator(locator)
        axes.xaxis.set_major_formatter(
            dates.ConciseDateFormatter(locator, tz=zone))  # type: ignore[no-untyped-call]
        axes.set_xlim(_x(start), _x(end))
        axes.set_ylim(bottom=0, top=max(1, backlog.highest.items) * 1.08)
        axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: t.count(int(value))))
        axes.set_ylabel("items waiting")
        axes.grid(axis="y", color="0.9")
        # From the recording: a control character would make the SVG invalid XML.
        axes.set_title(visible(f"{backlog.org} · {backlog.process}"), loc="left", fontsize=10)
        out = io.BytesIO()
        figure.savefig(out, format="svg", metadata={"Date": None})
    return out.getvalue()
