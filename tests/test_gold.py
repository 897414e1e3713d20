import pytest

from pipeline.errors import InputError
from pipeline.labeling.gold import load_gold, load_gold_refs, sentence_sha1

LABELS = ["support", "conditional", "rule_out", "none"]


def test_unknown_label_names_the_row(tmp_path):
    path = tmp_path / "g.csv"
    path.write_text("doc_id,text,label\nd,Fine.,none\nd,Bad.,supprt\n")
    with pytest.raises(InputError, match=r"g.csv row 3: label 'supprt'"):
        load_gold(path, LABELS)


def test_missing_column(tmp_path):
    path = tmp_path / "g.csv"
    path.write_text("doc_id,sentence,label\n")
    with pytest.raises(InputError, match="missing column.*text"):
        load_gold(path, LABELS)


def test_refs_join_text_and_detect_changed_articles(tmp_path):
    articles = tmp_path / "arts"
    articles.mkdir()
    text = "Intro line. Biden said US troops will not fight in Ukraine."
    (articles / "a.txt").write_text(text, encoding="utf-8")
    sentence = "Biden said US troops will not fight in Ukraine."
    start = text.index(sentence)
    refs = tmp_path / "refs.csv"
    refs.write_text(
        f"file,char_start,char_end,sha1,label,split,note\n"
        f"a.txt,{start},{start + len(sentence)},{sentence_sha1(sentence)},rule_out,test,\n"
    )
    gold = load_gold_refs(refs, articles, LABELS, split="test")
    assert gold.loc[0, "text"] == sentence and gold.loc[0, "doc_id"] == "a"
    (articles / "a.txt").write_text("Changed. " + text, encoding="utf-8")
    with pytest.raises(InputError, match="row 2: text at a.txt.*does not match"):
        load_gold_refs(refs, articles, LABELS, split="test")
