"""`stance score --engine spark` gives the local engine's result row for row."""

import sys

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.errors import StanceError
from pipeline.io import read_table

runner = CliRunner()


def test_missing_pyspark_is_a_clear_error(monkeypatch):
    from pipeline.scoring.spark import spark_session

    monkeypatch.setitem(sys.modules, "pyspark", None)
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    with pytest.raises(StanceError, match=r"--engine spark needs pyspark: pip install 'stance-pipeline\[spark\]'"):
        spark_session()


@pytest.mark.spark
def test_spark_scores_like_the_local_engine(tiny_config, workdir):
    pytest.importorskip("pyspark", reason="the [spark] extra is not installed: pip install -e '.[spark]'")
    trained = runner.invoke(app, ["run", "--config", str(tiny_config)])
    assert trained.exit_code == 0, trained.output
    texts = [
        "Italy will not send troops to Ukraine.",
        "",
        "It rained in Brussels.",
        None,
        "x" * 300,
        "Sweden does not rule out sending troops.",
        "  ",
        "Troops could go only after a ceasefire.",
    ] * 4
    source = workdir / "sentences.parquet"
    pd.DataFrame({"sentence_id": [f"s{i}" for i in range(len(texts))], "text": texts}).to_parquet(source, row_group_size=7)

    model = "models:/tiny-stance@champion"
    common = ["--model", model, "--max-chars", "200"]
    local = runner.invoke(app, ["score", str(source), "-o", "local.parquet", *common])
    spark = runner.invoke(app, ["score", str(source), "-o", "spark.parquet", "--engine", "spark", *common])
    assert local.exit_code == 0 and spark.exit_code == 0, (local.output, spark.output)
    assert "rows 32, scored 16, errors 16" in spark.output

    expected, got = read_table(workdir / "local.parquet"), read_table(workdir / "spark.parquet")
    assert list(got.columns) == list(expected.columns)
    assert list(got["sentence_id"]) == list(expected["sentence_id"])  # input order kept
    assert list(got["stance"]) == list(expected["stance"]) and list(got["error"]) == list(expected["error"])
    assert set(expected["stance"]) - {""} <= {"support", "conditional", "rule_out", "none"}
    for column in ["confidence", "p_support", "p_conditional", "p_rule_out", "p_none"]:
        np.testing.assert_allclose(got[column].to_numpy(float), expected[column].to_numpy(float), atol=1e-9, rtol=0)


@pytest.mark.spark
def test_spark_passes_the_target_column_to_a_target_aware_model(workdir):
    pytest.importorskip("pyspark", reason="the [spark] extra is not installed: pip install -e '.[spark]'")
    from public_fixtures import semeval_dataset_section, write_dataset_config, write_semeval_files

    config = write_dataset_config(workdir, semeval_dataset_section(write_semeval_files(workdir / "semeval")))
    trained = runner.invoke(app, ["run", "--config", str(config)])
    assert trained.exit_code == 0, trained.output
    source = workdir / "tweets.parquet"
    targets = ["Atheism", "Climate Change is a Real Concern"] * 4
    texts = ["I trust reason", "so much hoax", "", "the climate is changing", "prayer works", "hoax", "x", "science"]
    pd.DataFrame({"id": range(8), "target": targets, "text": texts}).to_parquet(source)
    common = ["--model", "models:/tiny-public-stance@champion"]
    local = runner.invoke(app, ["score", str(source), "-o", "local.parquet", *common])
    spark = runner.invoke(app, ["score", str(source), "-o", "spark.parquet", "--engine", "spark", *common])
    assert local.exit_code == 0 and spark.exit_code == 0, (local.output, spark.output)
    expected, got = read_table(workdir / "local.parquet"), read_table(workdir / "spark.parquet")
    assert list(got["stance"]) == list(expected["stance"])
    for column in ["p_FAVOR", "p_AGAINST", "p_NONE"]:
        np.testing.assert_allclose(got[column].to_numpy(float), expected[column].to_numpy(float), atol=1e-9, rtol=0)
    # a per-target model gives one text different scores under different targets
    same_text = pd.DataFrame({"id": [0, 1], "target": targets[:2], "text": ["I trust reason"] * 2})
    same_text.to_parquet(source)
    spark = runner.invoke(app, ["score", str(source), "-o", "spark2.parquet", "--engine", "spark", *common])
    assert spark.exit_code == 0, spark.output
    both = read_table(workdir / "spark2.parquet")
    assert not np.allclose(
        both.loc[0, ["p_FAVOR", "p_AGAINST", "p_NONE"]].to_numpy(float),
        both.loc[1, ["p_FAVOR", "p_AGAINST", "p_NONE"]].to_numpy(float),
    )
