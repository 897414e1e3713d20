"""The report's charts: stacked bars drawn with matplotlib, as inline SVG or as PNG files.

SVG text is drawn as paths, so the SVG needs no font and no network; the SVG's ids come
from a hash salted with the chart's title, so the same data give the same bytes and two
charts inlined in one page never share an id.
"""

from __future__ import annotations

import io
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402 (after choosing the backend)
from matplotlib.figure import Figure  # noqa: E402

from pipeline.io import atomic_path  # noqa: E402

# What each of the project's labels looks like; other targets' labels get the palette.
LABEL_COLOURS = {"support": "#2e7d32", "conditional": "#f9a825", "rule_out": "#c62828", "none": "#9e9e9e"}
PALETTE = ("#1565c0", "#6a1b9a", "#00838f", "#ef6c00", "#4e342e", "#ad1457")
MAX_TICK_LABELS = 40


@dataclass(frozen=True)
class StackedBars:
    """One bar per category, one stacked segment per label."""

    title: str
    categories: list[str]
    labels: list[str]
    values: dict[str, list[float]]  # label -> one value per category
    y_label: str
    totals: list[int] | None = None  # printed above each bar (the n behind a share)


def colour(label: str, labels: Sequence[str]) -> str:
    if label in LABEL_COLOURS:
        return LABEL_COLOURS[label]
    others = [other for other in labels if other not in LABEL_COLOURS]
    return PALETTE[others.index(label) % len(PALETTE)]


def counts_chart(title: str, table: dict[str, Counter], categories: list[str], labels: list[str], y_label: str) -> StackedBars:
    return StackedBars(
        title,
        categories,
        labels,
        {label: [float(table.get(c, Counter())[label]) for c in categories] for label in labels},
        y_label,
    )


def shares_chart(title: str, table: dict[str, Counter], categories: list[str], labels: list[str], y_label: str) -> StackedBars:
    """Each label's share of everything counted in its category (labels not drawn still count)."""
    totals = [sum(table.get(c, Counter()).values()) for c in categories]
    values = {
        label: [table.get(c, Counter())[label] / total if total else 0.0 for c, total in zip(categories, totals)]
        for label in labels
    }
    return StackedBars(title, categories, labels, values, y_label, totals)


def figure(chart: StackedBars) -> Figure:
    width = min(14.0, max(6.0, 0.32 * len(chart.categories) + 2.5))
    fig, ax = plt.subplots(figsize=(width, 3.6), dpi=100)
    positions = list(range(len(chart.categories)))
    bottom = [0.0] * len(positions)
    for label in chart.labels:
        heights = chart.values[label]
        ax.bar(positions, heights, bottom=bottom, label=label, color=colour(label, chart.labels), width=0.8)
        bottom = [b + h for b, h in zip(bottom, heights)]
    if chart.totals is not None:
        for x, top, n in zip(positions, bottom, chart.totals):
            ax.annotate(
                f"{n}", (x, top), ha="center", va="bottom", fontsize=6, color="#555555", xytext=(0, 1), textcoords="offset points"
            )
    step = max(1, -(-len(positions) // MAX_TICK_LABELS))
    ax.set_xticks(positions[::step], chart.categories[::step], rotation=60, ha="right", fontsize=7)
    ax.set_ylabel(chart.y_label, fontsize=8)
    ax.set_title(chart.title, fontsize=10, loc="left")
    ax.tick_params(axis="y", labelsize=7)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    return fig


def svg(chart: StackedBars, id_prefix: str) -> str:
    """The chart as an ``<svg>`` element, deterministic, for inlining in HTML. Every id in
    it (matplotlib's own ``figure_1``, ``patch_1``, glyph ids) gets ``id_prefix``, so
    several charts in one page never share an id."""
    fig = figure(chart)
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": f"stance-report {chart.title}", "svg.fonttype": "path"}):
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    text = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{id_prefix}{m.group(1)}"', text)
    return re.sub(r'(href="#|url\(#)([^")]+)', lambda m: f"{m.group(1)}{id_prefix}{m.group(2)}", text)


def png(chart: StackedBars, path: Path) -> None:
    fig = figure(chart)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110, metadata={"Software": None})
    plt.close(fig)
