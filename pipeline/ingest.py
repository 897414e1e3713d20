"""Ingest stage: articles -> sentences with stable ids and character offsets.

Sentences are found by pysbd (rule-based, English) inside each paragraph; a paragraph is
one or more consecutive non-blank lines' worth of text up to a line break, so headings,
captions and bylines never fuse with the sentence after them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache

import pandas as pd

from pipeline.io import parse_date

SENTENCE_COLUMNS = [
    "sentence_id",
    "doc_id",
    "position",
    "char_start",
    "char_end",
    "text",
    "title",
    "date",
    "source",
]

_PARAGRAPH = re.compile(r"[^\n]+")


@dataclass(frozen=True)
class Sentence:
    """One sentence of a document: its text and where it sits in the document."""

    position: int
    char_start: int
    char_end: int
    text: str


@lru_cache(maxsize=1)
def _segmenter():  # pysbd builds regexes on construction; one per process is enough
    import pysbd

    return pysbd.Segmenter(language="en", clean=False, char_span=True)


def split_sentences(text: str) -> list[Sentence]:
    """Split a document into sentences; offsets index into ``text`` itself.

    Every line is a paragraph boundary. Leading/trailing whitespace is trimmed from each
    sentence and its offsets, so ``text[s.char_start:s.char_end] == s.text`` always holds.
    """
    sentences: list[Sentence] = []
    for paragraph in _PARAGRAPH.finditer(text):
        if not paragraph.group().strip():
            continue
        for span in _segmenter().segment(paragraph.group()):
            raw = span.sent
            stripped = raw.strip()
            if not stripped:
                continue
            start = paragraph.start() + span.start + (len(raw) - len(raw.lstrip()))
            sentences.append(Sentence(len(sentences), start, start + len(stripped), stripped))
    return sentences


def file_sentences(body: str, offset: int = 0) -> list[Sentence]:
    """The sentences of an article body that starts ``offset`` characters into its file,
    with offsets into the file: what ingest and ``stance score`` both write."""
    return [Sentence(s.position, offset + s.char_start, offset + s.char_end, s.text) for s in split_sentences(body)]


def normalize_text(text: str) -> str:
    """The form used to match and deduplicate sentences: casefolded, single-spaced,
    with typographic quotes and dashes unified."""
    table = str.maketrans(
        {"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'", "\u2013": "-", "\u2014": "-", "\u00a0": " "}
    )
    return " ".join(text.translate(table).casefold().split())


def sentence_id(doc_id: str, position: int) -> str:
    """Stable id of a sentence: document id and position."""
    return f"{doc_id}#{position:04d}"


def text_digest(text: str) -> str:
    """Short content hash of a text (for duplicate detection and caches)."""
    return hashlib.sha1(normalize_text(text).encode("utf-8")).hexdigest()[:16]


def articles_to_sentences(articles: pd.DataFrame) -> pd.DataFrame:
    """Split every article (columns ``doc_id``, ``text``; optional ``title``, ``date``,
    ``source``, ``body_offset``) into one row per sentence, in document order.

    ``char_start``/``char_end`` index the original file: the body offset is added back.
    """
    rows: list[dict[str, object]] = []
    for article in articles.itertuples(index=False):
        doc_id = str(article.doc_id)
        offset = int(getattr(article, "body_offset", 0) or 0)
        for sentence in file_sentences(str(article.text), offset):
            rows.append(
                {
                    "sentence_id": sentence_id(doc_id, sentence.position),
                    "doc_id": doc_id,
                    "position": sentence.position,
                    "char_start": sentence.char_start,
                    "char_end": sentence.char_end,
                    "text": sentence.text,
                    "title": getattr(article, "title", "") or "",
                    "date": getattr(article, "date", "") or "",
                    "source": getattr(article, "source", "") or "",
                }
            )
    frame = pd.DataFrame(rows, columns=SENTENCE_COLUMNS)
    return frame.astype({"position": "int64", "char_start": "int64", "char_end": "int64"})


@dataclass(frozen=True)
class IngestStats:
    """What ingest kept and dropped, for the log and MLflow."""

    articles_read: int
    articles_reserved: int
    articles_duplicate: int
    articles_empty: int
    sentences: int

    def as_metrics(self) -> dict[str, float]:
        return {f"ingest_{key}": float(value) for key, value in self.__dict__.items()}


def ingest_articles(articles: pd.DataFrame, reserved_from: dt.date | None = None) -> tuple[pd.DataFrame, IngestStats]:
    """The ingest stage: drop reserved-split, empty and duplicate articles, then split.

    Articles dated on or after ``reserved_from`` are never ingested (a reserved evaluation
    split). Duplicates are articles whose normalized text equals an earlier one's (the
    same wire story collected twice); the first in id order is kept.
    """
    kept, stats = select_articles(articles, reserved_from)
    sentences = articles_to_sentences(kept)
    return sentences, IngestStats(
        stats.articles_read, stats.articles_reserved, stats.articles_duplicate, stats.articles_empty, len(sentences)
    )


def select_articles(articles: pd.DataFrame, reserved_from: dt.date | None = None) -> tuple[pd.DataFrame, IngestStats]:
    """The articles ingest splits (not reserved, not empty, not a duplicate), and the counts
    (``sentences`` is 0: nothing is split here). Cheap, so ``stance run`` checks its input
    with it before any run is created."""
    dates = articles["date"].map(parse_date)
    reserved = dates.map(lambda d: d is not None and reserved_from is not None and d >= reserved_from).astype(bool)
    kept = articles.loc[~reserved]
    empty = kept["text"].map(lambda t: not str(t).strip()).astype(bool)
    kept = kept.loc[~empty]
    digests = kept["text"].map(text_digest)
    duplicate = digests.duplicated(keep="first")
    kept = kept.loc[~duplicate]
    return kept, IngestStats(
        articles_read=len(articles),
        articles_reserved=int(reserved.sum()),
        articles_duplicate=int(duplicate.sum()),
        articles_empty=int(empty.sum()),
        sentences=0,
    )
