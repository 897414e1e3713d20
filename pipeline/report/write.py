"""``stance report``: a scored file in, one report file out (written atomically)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Literal

from pipeline.errors import InputError
from pipeline.io import atomic_path
from pipeline.report.collect import Period, ReportData, collect
from pipeline.report.content import build
from pipeline.report.render_html import render_html
from pipeline.report.render_markdown import render_markdown
from pipeline.scoring.provenance import read_provenance

log = logging.getLogger(__name__)

Format = Literal["html", "md"]
SUFFIXES: dict[str, Format] = {".html": "html", ".htm": "html", ".md": "md"}


def report_format(output: Path, requested: Format | None) -> Format:
    """The format asked for, else the one the output's suffix names."""
    if requested is not None:
        return requested
    try:
        return SUFFIXES[output.suffix.lower()]
    except KeyError:
        raise InputError(
            f"{output}: unknown report extension {output.suffix!r}; use .html or .md, or say --format html|md"
        ) from None


def write_report(
    scored: Path,
    output: Path,
    *,
    fmt: Format | None = None,
    period: Period = "month",
    group: str | None = None,
    none_label: str = "none",
    evidence_per_cell: int = 3,
    text_column: str = "text",
) -> ReportData:
    """Aggregate ``scored`` and write the report to ``output``; returns what it showed."""
    chosen = report_format(output, fmt)
    if output.resolve() == scored.resolve():
        raise InputError(f"{output}: is the scored input; choose another output path")
    data = collect(
        scored, period=period, group=group, none_label=none_label, evidence_per_cell=evidence_per_cell, text_column=text_column
    )
    data.provenance = read_provenance(scored)
    report = build(data)
    text = render_html(report) if chosen == "html" else render_markdown(report, output)
    with atomic_path(output) as tmp:
        tmp.write_text(text, encoding="utf-8")
    log.debug("%s: report of %d scored sentences written", output, data.scored)
    return data
