"""A stance report as Markdown with its charts as PNG files in a folder beside it, for
pasting into a note."""

from __future__ import annotations

import re
from pathlib import Path

from pipeline.report.charts import StackedBars, png
from pipeline.report.collect import Evidence
from pipeline.report.content import Block, EvidenceList, Heading, Report, Table


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _table(table: Table) -> str:
    header = [_cell(cell) for cell in table.header] if any(table.header) else [" "] * len(table.header)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(cell) for cell in row) + " |" for row in table.rows]
    return "\n".join(lines)


def _evidence_item(number: int, item: Evidence) -> str:
    where = " · ".join(part for part in (item.title or item.doc_id, item.date, item.source) if part)
    return f"{number}. ({item.confidence:.2f}) {_cell(item.text)}  \n   _{_cell(where)}_"


def chart_file_name(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", title.lower()).strip("_") + ".png"


def render_markdown(report: Report, output: Path) -> str:
    """The Markdown text; each chart is written as a PNG into ``<output stem>_files/``."""
    folder = output.with_name(f"{output.stem}_files")
    parts = [f"# {report.title}"]
    for section in report.sections:
        parts.append(f"## {section.title}")
        for block in section.blocks:
            parts.append(_block(block, folder))
    return "\n\n".join(parts) + "\n"


def _block(block: Block, folder: Path) -> str:
    if isinstance(block, str):
        return block
    if isinstance(block, Table):
        return _table(block)
    if isinstance(block, StackedBars):
        name = chart_file_name(block.title)
        png(block, folder / name)
        return f"![{block.title}]({folder.name}/{name})"
    if isinstance(block, Heading):
        return f"### {block.text}"
    if isinstance(block, EvidenceList):
        return f"**{block.period}**\n\n" + "\n".join(_evidence_item(n, item) for n, item in enumerate(block.items, 1))
    raise TypeError(f"unknown report block {type(block).__name__}")
