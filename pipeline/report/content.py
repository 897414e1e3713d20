"""What a stance report says, as a list of sections, whatever it is rendered to.

The HTML and Markdown renderers only lay these blocks out; every number and every
sentence a report shows is chosen here, from a :class:`ReportData`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Union

from pipeline.report.charts import StackedBars, counts_chart, shares_chart
from pipeline.report.collect import UNDATED, Evidence, ReportData, period_span

MAX_GROUPS = 25  # groups drawn in the by-group charts (the table lists them all)
# The deployment target's labels, in the guideline's words (other targets' labels are listed bare).
LABEL_MEANINGS = {
    "support": "favours sending military personnel into Ukraine, or deliberately keeps it open without conditions",
    "conditional": "would accept or consider it only under a stated condition, framework or limited role",
    "rule_out": "rejects it, now or in general (threats against any deployment included)",
    "none": "takes no stance on it: background, other aid, troops of the warring sides, reported debate",
}
GUIDELINE = "the project's annotation guideline (docs/labeling.md and the guideline it follows)"


@dataclass(frozen=True)
class Table:
    header: list[str]
    rows: list[list[str]]


@dataclass(frozen=True)
class EvidenceList:
    """The highest-confidence sentences of one label in one period."""

    label: str
    period: str
    items: list[Evidence]


@dataclass(frozen=True)
class Heading:
    text: str


Block = Union[str, Table, StackedBars, EvidenceList, Heading]


@dataclass
class Section:
    title: str
    anchor: str
    blocks: list[Block] = field(default_factory=list)


@dataclass
class Report:
    title: str
    sections: list[Section]


def share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "–"


def _model_line(data: ReportData) -> str:
    record = data.provenance
    if not record:
        return f"not recorded (no {data.path.name}.provenance.json beside the file; `stance score` writes one with every output)"
    uri = str(record.get("model_uri") or "unknown URI")
    version = f", version {record['model_version']}" if record.get("model_version") else ""
    model_id = f" (model id {record['model_id']})" if record.get("model_id") else ""
    return f"{uri}{version}{model_id}"


def headline(data: ReportData) -> Section:
    stance_total = sum(data.label_counts[label] for label in data.stances)
    rows = [["scored file", f"{data.path.name} ({data.level} level)"], ["model", _model_line(data)]]
    if data.articles is not None:
        rows.append(["articles", f"{data.articles:,}"])
    rows += [
        ["sentences", f"{data.sentences:,}"],
        ["scored sentences", f"{data.scored:,}"],
        ["stance sentences", f"{stance_total:,} ({share(stance_total, data.scored)} of scored)"],
    ]
    rows += [
        [f"  {label}", f"{data.label_counts[label]:,} ({share(data.label_counts[label], data.scored)})"] for label in data.stances
    ]
    if data.review is not None:
        rows.append(["flagged for review", f"{data.review:,} ({share(data.review, data.scored)} of scored)"])
    if data.dated:
        undated = sum(data.by_period.get(UNDATED, Counter()).values())
        periods = period_span(data.periods(), data.period)
        span = f"{periods[0]} to {periods[-1]} ({len(periods)} {data.period}s)" if periods else "none"
        rows.append(["periods", span + (f"; {undated:,} scored sentences without a date" if undated else "")])
    return Section("Summary", "summary", [Table(["", ""], rows)])


def _counts_table(
    data: ReportData, table: dict[str, Counter], articles: dict[str, Counter], keys: list[str], key_name: str
) -> Table:
    header = [key_name, "sentences", *data.stances, "stance share"]
    if data.articles is not None:
        header += ["articles", *[f"articles: {label}" for label in data.stances]]
    rows = []
    for key in keys:
        counts, docs = table.get(key, Counter()), articles.get(key, Counter())
        total = sum(counts.values())
        stance = sum(counts[label] for label in data.stances)
        row = [key, f"{total:,}", *[f"{counts[label]:,}" for label in data.stances], share(stance, total)]
        if data.articles is not None:
            n = sum(docs.values())
            row += [f"{n:,}", *[f"{docs[label]:,}" for label in data.stances]]
        rows.append(row)
    return Table(header, rows)


def over_time(data: ReportData) -> Section | None:
    if not data.dated:
        return None
    periods = period_span(data.periods(), data.period)
    blocks: list[Block] = [
        f"Stance sentences per {data.period}, stacked by label. Counts, not shares: a {data.period} with few "
        "articles can swing on a handful of sentences.",
        counts_chart(f"Stance sentences per {data.period}", data.by_period, periods, data.stances, "sentences"),
    ]
    if data.articles is not None:
        blocks += [
            f"Share of each {data.period}'s articles whose dominant stance (the stance most of its stance "
            "sentences take) is each label; the rest took no stance. The number above a bar is the articles "
            f"in that {data.period}.",
            shares_chart(
                f"Articles by dominant stance, share per {data.period}",
                data.articles_by_period,
                periods,
                data.stances,
                "share of articles",
            ),
        ]
    undated = [UNDATED] if UNDATED in data.by_period else []
    blocks.append(_counts_table(data, data.by_period, data.articles_by_period, periods + undated, data.period))
    return Section("Stance over time", "over-time", blocks)


def by_group(data: ReportData) -> Section | None:
    if data.group is None:
        return None
    groups = data.groups()
    drawn = groups[:MAX_GROUPS]
    note = (
        f" (the {MAX_GROUPS} with the most stance sentences; the table lists all {len(groups)})"
        if len(groups) > MAX_GROUPS
        else ""
    )
    blocks: list[Block] = [
        f"Stance sentences per {data.group}{note}.",
        counts_chart(f"Stance sentences per {data.group}", data.by_group, drawn, data.stances, "sentences"),
    ]
    if data.articles is not None:
        blocks.append(
            shares_chart(
                f"Articles by dominant stance, share per {data.group}",
                data.articles_by_group,
                drawn,
                data.stances,
                "share of articles",
            )
        )
    blocks.append(_counts_table(data, data.by_group, data.articles_by_group, groups, data.group))
    return Section(f"By {data.group}", "by-group", blocks)


def evidence(data: ReportData) -> Section:
    per = f"each label and {data.period}" if data.dated else "each label"
    level = "" if data.level == "sentence" else " (an article-level file keeps each article's top sentence per label)"
    blocks: list[Block] = [f"The highest-confidence sentences of {per}{level}: the text behind every bar."]
    for label in data.stances:
        blocks.append(Heading(label))
        lists = [EvidenceList(label, period, items) for (name, period), items in data.evidence.items() if name == label and items]
        lists.sort(key=lambda e: (e.period == UNDATED, e.period))
        blocks.extend(lists or [f"No sentence was labelled {label}."])
    return Section("Evidence", "evidence", blocks)


def how_to_read(data: ReportData) -> Section:
    meanings = [f"{label}: {LABEL_MEANINGS[label]}" if label in LABEL_MEANINGS else label for label in data.labels]
    return Section(
        "How to read this",
        "how-to-read",
        [
            "Each sentence got one label from the model, for the stance it expresses toward sending military "
            f"personnel into Ukraine: {'; '.join(meanings)}. The full rules and edge cases are in {GUIDELINE}.",
            "Labels are a model's predictions, not annotations: read the evidence sentences before trusting a bar. "
            "Stance sentences are rare in news (a few in a hundred), so a rare stance in a small period or group "
            "is noisy: a bar of three sentences can be one article quoted three times. The tables give the counts "
            "behind every share.",
            "Confidence is the model's probability for the label it chose; the evidence lists the most confident "
            "sentences first, which are not always the most important ones.",
        ],
    )


def build(data: ReportData) -> Report:
    sections = [headline(data), over_time(data), by_group(data), evidence(data), how_to_read(data)]
    return Report(f"Stance report: {data.path.name}", [s for s in sections if s is not None])
