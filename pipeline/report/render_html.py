"""A stance report as one self-contained HTML file: inline CSS and SVG, no script, no
external reference, so it opens offline in any browser."""

from __future__ import annotations

from html import escape

from pipeline.report.charts import StackedBars, svg
from pipeline.report.collect import Evidence
from pipeline.report.content import Block, EvidenceList, Heading, Report, Table

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2rem auto; max-width: 1100px;
       padding: 0 1rem; color: #222; line-height: 1.45; }
h1 { font-size: 1.6rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #ddd; } h3 { margin-top: 1.4rem; }
nav a { margin-right: 1rem; }
table { border-collapse: collapse; font-size: 0.85rem; margin: 0.8rem 0; }
th, td { border: 1px solid #ddd; padding: 0.2rem 0.5rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.chart svg { max-width: 100%; height: auto; }
.evidence { margin: 0.3rem 0 0.9rem 0; padding-left: 1.2rem; }
.evidence li { margin-bottom: 0.4rem; }
.meta { color: #666; font-size: 0.8rem; }
.conf { font-variant-numeric: tabular-nums; color: #444; }
.label-support { color: #2e7d32; } .label-conditional { color: #b07800; } .label-rule_out { color: #c62828; }
"""


def _table(table: Table) -> str:
    head = (
        ""
        if not any(table.header)
        else "<thead><tr>" + "".join(f"<th>{escape(cell)}</th>" for cell in table.header) + "</tr></thead>"
    )
    body = "".join("<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>" for row in table.rows)
    return f"<table>{head}<tbody>{body}</tbody></table>"


def _evidence_item(item: Evidence) -> str:
    where = " · ".join(escape(part) for part in (item.title or item.doc_id, item.date, item.source) if part)
    return f'<li><span class="conf">{item.confidence:.2f}</span> {escape(item.text)}<br><span class="meta">{where}</span></li>'


def _block(block: Block, id_prefix: str) -> str:
    if isinstance(block, str):
        return f"<p>{escape(block)}</p>"
    if isinstance(block, Table):
        return _table(block)
    if isinstance(block, StackedBars):
        return f'<figure class="chart" aria-label="{escape(block.title)}">{svg(block, id_prefix)}</figure>'
    if isinstance(block, Heading):
        return f'<h3 class="label-{escape(block.text)}">{escape(block.text)}</h3>'
    if isinstance(block, EvidenceList):
        items = "".join(_evidence_item(item) for item in block.items)
        return f'<h4>{escape(block.period)}</h4><ol class="evidence">{items}</ol>'
    raise TypeError(f"unknown report block {type(block).__name__}")


def render_html(report: Report) -> str:
    nav = "".join(f'<a href="#{section.anchor}">{escape(section.title)}</a>' for section in report.sections)
    body = "".join(
        f'<section id="{section.anchor}"><h2>{escape(section.title)}</h2>'
        + "".join(_block(block, f"{section.anchor}-{i}-") for i, block in enumerate(section.blocks))
        + "</section>"
        for section in report.sections
    )
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(report.title)}</title><style>{STYLE}</style></head>"
        f"<body><h1>{escape(report.title)}</h1><nav>{nav}</nav>{body}</body></html>\n"
    )
