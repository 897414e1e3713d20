"""Scoring for scale: a Parquet input through the registered model on Apache Spark.

The model runs as ``mlflow.pyfunc.spark_udf`` (the same pyfunc the local engine loads);
the text checks are ``scoring.run.text_problem`` as a pandas UDF, so a row comes out with the
same ``stance``, probabilities and ``error`` as ``stance score`` without Spark. Only
narrow transformations are used, so rows keep their input order across the part files.
The output is a Parquet dataset (a folder of part files), written beside the output
name and renamed into place when complete. pyspark is the optional extra ``[spark]``.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import time
import warnings
from pathlib import Path
from typing import Sequence

import pandas as pd  # the pandas UDF's type hints name it

from pipeline.errors import InputError, StanceError, first_line
from pipeline.scoring.model import model_load_error, signature_labels
from pipeline.scoring.readers import no_text_column
from pipeline.scoring.run import ScoreOptions, ScoreSummary, text_problem

log = logging.getLogger(__name__)

DEFAULT_MASTER = "local[2]"


def _check_request(input_path: Path, output_path: Path, options: ScoreOptions) -> None:
    if not input_path.is_file() or input_path.suffix.lower() != ".parquet":
        raise InputError(f"{input_path}: --engine spark reads one Parquet file of sentence rows")
    if output_path.suffix.lower() != ".parquet":
        raise InputError(f"{output_path}: --engine spark writes Parquet (a folder of part files); name it .parquet")
    if options.articles or options.level != "sentence":
        raise InputError("--engine spark scores sentence rows; split articles with the local engine")


def model_labels(model_uri: str) -> list[str]:
    """The model's label names, from its signature (``p_<label>`` outputs)."""
    from pipeline import tracking

    tracking.use_experiment_free()
    try:
        return signature_labels(tracking.model_output_schema(model_uri))
    except Exception as exc:  # mlflow raises several types for a missing model/alias/store
        raise model_load_error(model_uri, exc) from None


def spark_session(master: str = DEFAULT_MASTER):  # noqa: ANN201 (pyspark is optional)
    """A SparkSession on ``master``; local mode binds to 127.0.0.1 and uses this Python."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise StanceError("--engine spark needs pyspark: pip install 'stance-pipeline[spark]'") from None
    # pyspark 4.3 warns that pandas 3 is not fully supported; the paths used here (Arrow
    # transfer, pandas UDFs, spark_udf) are checked against the local engine in tests/test_spark.py.
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)
    if master.startswith("local"):
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    spark = (
        SparkSession.builder.master(master)
        .appName("stance-score")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def score_frame(frame, model_uri: str, labels: Sequence[str], options: ScoreOptions, source: str = "input"):  # noqa: ANN001, ANN201
    """The Spark DataFrame's rows plus ``stance``, ``confidence``, ``p_<label>`` and ``error``."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import StringType

    text = options.text_column
    if text not in frame.columns:
        raise no_text_column(source, frame.columns, text)
    if not isinstance(frame.schema[text].dataType, StringType):
        raise InputError(f"{source}: column {text!r} is {frame.schema[text].dataType.simpleString()}, not string")
    max_chars = options.max_chars

    @F.pandas_udf("string")
    def problems(texts: pd.Series) -> pd.Series:
        return texts.map(lambda value: text_problem(value, max_chars)).astype(object)

    outputs = ["stance", "confidence", *[f"p_{label}" for label in labels]]
    result_type = ", ".join(["stance string", *[f"{name} double" for name in outputs[1:]]])
    from pipeline import tracking

    predict = tracking.spark_udf(frame.sparkSession, model_uri, result_type)
    with_error = frame.withColumn("__error", problems(F.col(text)))
    ok = F.col("__error") == ""
    fields = [F.when(ok, F.col(text)).otherwise(F.lit("")).alias("text")]
    if "target" in frame.columns:  # target-aware models read it, as on the local engine; text-only models ignore it
        fields.append(F.coalesce(F.col("target").cast("string"), F.lit("None")).alias("target"))
    scored = with_error.withColumn("__pred", predict(F.struct(*fields)))
    kept = [F.col(f"`{name}`") for name in frame.columns if name not in {*outputs, "error"}]
    predicted = [
        F.when(ok, F.col(f"__pred.{name}")).otherwise(F.lit("" if name == "stance" else None)).alias(name) for name in outputs
    ]
    return scored.select(*kept, *predicted, F.col("__error").alias("error"))


def _read_parquet(spark, path: Path):  # noqa: ANN001, ANN202
    from pyspark.errors import AnalysisException

    try:
        frame = spark.read.parquet(str(path.resolve()))
        frame.schema  # noqa: B018 (forces the footer read, so a broken file fails here)
    except AnalysisException as exc:
        raise InputError(f"{path}: not a readable Parquet file ({first_line(exc, 200)})") from None
    return frame


def _replace(source: Path, target: Path) -> None:
    """Move the finished dataset into place, replacing an earlier output."""
    old = target.with_name(f".{target.name}.old")
    if target.exists():
        os.replace(target, old)
    os.replace(source, target)
    if old.is_dir():
        shutil.rmtree(old)
    else:
        old.unlink(missing_ok=True)


def score_parquet_spark(
    input_path: Path, output_path: Path, model_uri: str, options: ScoreOptions = ScoreOptions(), master: str = DEFAULT_MASTER
) -> ScoreSummary:
    """Score a Parquet file of sentences on Spark into a Parquet dataset at ``output_path``."""
    _check_request(input_path, output_path, options)
    labels = model_labels(model_uri)
    started = time.perf_counter()
    spark = spark_session(master)
    from pyspark.sql import functions as F

    tmp = output_path.with_name(f".{output_path.name}.spark-tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        scored = score_frame(_read_parquet(spark, input_path), model_uri, labels, options, str(input_path))
        scored.write.parquet(str(tmp.resolve()))
        written = spark.read.parquet(str(tmp.resolve()))
        counts = written.agg(F.count(F.lit(1)).alias("rows"), F.sum((F.col("error") != "").cast("int")).alias("errors")).first()
        rows, errors = int(counts["rows"]), int(counts["errors"] or 0)
        if rows == 0:
            raise InputError(f"{input_path}: no rows to score")
        _replace(tmp, output_path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return ScoreSummary(rows, rows - errors, errors, time.perf_counter() - started)
