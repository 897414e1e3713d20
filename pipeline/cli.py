"""The ``stance`` command line: run the pipeline or one stage, score files, manage models.

User mistakes (bad config, missing or malformed input, unknown model) print one line on
stderr and exit with status 2; nothing is written to the outputs or the store.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Literal, Optional, TypeVar

import click
import typer
from typer.core import TyperCommand, TyperGroup

from pipeline.config import DEFAULT_CONFIG, Config, RegistryConfig, load_config
from pipeline.errors import StanceError

if TYPE_CHECKING:
    from pipeline.scoring.explain import Explainer

VERBOSE_FLAGS = ("-v", "--verbose")


class PlainHelp:
    """`--help` listed without the `<bool>` metavar typer gives flags."""

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        option = super().get_help_option(ctx)  # type: ignore[misc]
        if option is not None:
            option.metavar = ""
        return option


class PlainHelpCommand(PlainHelp, TyperCommand):
    pass


class VerboseAnywhere(PlainHelp, TyperGroup):
    """`-v/--verbose` is accepted after the subcommand too (`stance run -v`): it is moved in
    front of the subcommand before parsing."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        cut = args.index("--") if "--" in args else len(args)
        flags = [a for a in args[:cut] if a in VERBOSE_FLAGS]
        rest = [a for a in args[:cut] if a not in VERBOSE_FLAGS] + args[cut:]
        return super().parse_args(ctx, flags[:1] + rest)


app = typer.Typer(
    cls=VerboseAnywhere,
    add_completion=False,
    no_args_is_help=True,
    help="Stance pipeline: ingest -> label -> train -> evaluate, batch scoring, MLflow registry.",
)
log = logging.getLogger("pipeline")
NOTHING_SCORED = 3  # `stance score` exit status when every row was an error (bad input is 2)
F = TypeVar("F", bound=Callable[..., object])

ConfigOption = typer.Option(DEFAULT_CONFIG, "--config", "-c", help="YAML experiment config.")
SetOption = typer.Option(None, "--set", help="Override a config key: KEY=VALUE (dotted key, YAML value); repeatable.")


def _setup_logging(verbose: bool) -> None:
    from rich.console import Console
    from rich.logging import RichHandler

    handler = RichHandler(console=Console(stderr=True), show_path=False, rich_tracebacks=False)  # stdout is for data
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO, format="%(message)s", datefmt="[%X]", handlers=[handler], force=True
    )
    for noisy in ("mlflow", "alembic", "urllib3", "git", "httpx", "filelock"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def user_errors(func: F) -> F:
    """Turn project errors into one line on stderr and exit status 2."""

    @functools.wraps(func)
    def wrapper(*args: object, **kwargs: object) -> object:
        try:
            return func(*args, **kwargs)
        except StanceError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(code=2) from None
        except KeyboardInterrupt as stop:
            from pipeline.interrupts import Stopped

            typer.echo(
                stop.message if isinstance(stop, Stopped) else "interrupted: nothing was written under a final name", err=True
            )
            raise typer.Exit(code=130) from None

    return wrapper  # type: ignore[return-value]


def _print_version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            typer.echo(f"stance-pipeline {version('stance-pipeline')}")
        except PackageNotFoundError:  # run from a checkout that was never installed
            typer.echo("stance-pipeline (not installed)")
        raise typer.Exit()


@app.callback()
def main(
    verbose: bool = typer.Option(False, "--verbose", "-v", metavar="", help="Debug logging (also after the command)."),
    version: bool = typer.Option(
        False, "--version", metavar="", is_eager=True, callback=_print_version, help="Print the version and exit."
    ),
) -> None:
    from pipeline.environment import set_up_environment
    from pipeline.interrupts import sigterm_as_interrupt

    set_up_environment()
    _setup_logging(verbose)
    sigterm_as_interrupt()


def _config(config: Path, overrides: Optional[list[str]]) -> Config:
    return load_config(config, overrides or [])


@app.command()
@user_errors
def run(
    config: Path = ConfigOption,
    set_: Optional[list[str]] = SetOption,
    force: bool = typer.Option(
        False, "--force", metavar="", help="Rerun every stage, even those whose inputs, settings and code are unchanged."
    ),
) -> None:
    """Run all stages (ingest, label, train, evaluate) under one MLflow parent run; a stage
    whose inputs, settings and code are unchanged since its last run is skipped."""
    from pipeline.runner import run_pipeline

    cfg = _config(config, set_)
    metrics = run_pipeline(cfg, config, force=force)
    typer.echo(
        f"test_macro_f1={metrics.get('test_macro_f1', float('nan')):.4f} "
        f"labeler_dev_macro_f1={metrics.get('labeler_dev_macro_f1', float('nan')):.4f}"
    )


def _stage_command(stage: str, doc: str) -> None:
    @user_errors
    def command(config: Path = ConfigOption, set_: Optional[list[str]] = SetOption) -> None:
        from pipeline.runner import run_stage

        run_stage(_config(config, set_), stage)

    command.__doc__ = doc
    app.command(name=stage)(command)


_stage_command("ingest", "Split the configured articles into sentences (data/interim/sentences.parquet).")


@app.command()
@user_errors
def label(
    config: Path = ConfigOption,
    set_: Optional[list[str]] = SetOption,
    gold: Optional[Path] = typer.Option(
        None,
        "--gold",
        help="A filled-in `stance suggest` file, or a Label Studio JSON export of its tasks, to merge into gold dev first.",
    ),
) -> None:
    """Weakly label the ingested sentences; gold dev overrides (data/processed/labeled.parquet)."""
    from pipeline.runner import run_stage

    cfg = _config(config, set_)
    if gold is not None:
        from pipeline.active_learning import merge_gold

        added, updated = merge_gold(cfg, gold)
        typer.echo(f"{gold}: merged {added} new and {updated} relabelled gold rows", err=True)
    run_stage(cfg, "label")


@app.command()
@user_errors
def suggest(
    config: Path = ConfigOption,
    set_: Optional[list[str]] = SetOption,
    n: int = typer.Option(50, "--n", min=1, help="How many sentences to export."),
    output: Path = typer.Option(
        Path("to_label.csv"), "--output", "-o", help="CSV/JSONL/Parquet to write (.json with --format label-studio)."
    ),
    similar_to: Optional[Path] = typer.Option(
        None,
        "--similar-to",
        help="A file of known stance sentences (`text` column): export the sentences the model calls none with confidence that sit nearest to them.",
    ),
    min_none_confidence: float = typer.Option(
        0.8, "--min-none-confidence", min=0.0, max=1.0, help="With --similar-to: how sure of none the model must be."
    ),
    fmt: Literal["table", "label-studio"] = typer.Option(
        "table",
        "--format",
        help="table (by the output's extension) or label-studio (task JSON with the model's label pre-filled, and the labeling interface beside it).",
    ),
) -> None:
    """Export the sentences most worth labelling: functions disagree, the model is unsure, or (--similar-to) it confidently misses a stance."""
    from pipeline.active_learning import suggest as suggest_sentences

    if fmt == "label-studio" and output.suffix.lower() != ".json":
        raise_input(f"{output}: Label Studio tasks are JSON; name the output *.json")
    if similar_to is not None and not similar_to.exists():
        raise_input(f"{similar_to}: file not found")
    ranked = suggest_sentences(_config(config, set_), n, output, similar_to, fmt, min_none_confidence)
    then = "import it into Label Studio, label, export JSON" if fmt == "label-studio" else "fill in 'label'"
    typer.echo(f"{output}: {len(ranked)} sentences; {then}, then `stance label --gold FILE`", err=True)


_stage_command("train", "Train the configured classifier on the labelled sentences and log it to MLflow.")
_stage_command("evaluate", "Evaluate the trained model on gold test; register it and gate the champion alias.")


@app.command()
@user_errors
def score(
    input_path: Path = typer.Argument(..., metavar="INPUT", help="CSV, JSONL, Parquet, a .txt article or a folder of them."),
    output: Path = typer.Option(..., "--output", "-o", help="Output file (.csv, .jsonl or .parquet)."),
    model: Optional[str] = typer.Option(
        None, "--model", "-m", help="MLflow model URI (default: models:/NAME@ALIAS from the config's registry section)."
    ),
    config: Path = ConfigOption,
    text_column: str = typer.Option(
        "text", "--text-column", help="Column holding the sentence (or, with --articles, article) text."
    ),
    batch_size: int = typer.Option(2000, "--batch-size", min=1, help="Rows per chunk (memory bound)."),
    max_chars: int = typer.Option(5000, "--max-chars", min=1, help="Longer texts are kept with an error, not scored."),
    encoding: str = typer.Option("utf-8-sig", "--encoding", help="Input text encoding (UTF-8 with or without BOM by default)."),
    articles: bool = typer.Option(
        False, "--articles", metavar="", help="Table rows are whole articles (doc_id + text): split them into sentences."
    ),
    level: Literal["sentence", "article"] = typer.Option(
        "sentence", "--level", help="One output row per sentence, or per article (stance counts, dominant stance, top sentences)."
    ),
    none_label: str = typer.Option("none", "--none-label", help="The label meaning 'takes no stance' (for --level article)."),
    resume: bool = typer.Option(
        False, "--resume", metavar="", help="Continue an interrupted run of the same command from its checkpoint."
    ),
    engine: Literal["local", "spark"] = typer.Option(
        "local", "--engine", help="local (streaming) or spark (Parquet input, needs the \\[spark] extra)."
    ),
    spark_master: str = typer.Option("local[2]", "--spark-master", help="Spark master URL for --engine spark."),
    show: bool = typer.Option(
        False, "--show", metavar="", help="Also print each scored sentence with its stance (local engine, sentence level)."
    ),
    workers: Optional[int] = typer.Option(
        None,
        "--workers",
        min=1,
        help="Processes that score chunks in parallel [default: every core for tf-idf models, 1 for transformer models (they use every core already)].",
    ),
    explain: bool = typer.Option(
        False,
        "--explain",
        metavar="",
        help="Add `evidence`: the n-grams that pushed a tf-idf model to its label, and the config's labeling functions that fire.",
    ),
    review_band: Literal["on", "off"] = typer.Option(
        "on", "--review-band", help="on: add `review` (accept / review) when the model has thresholds; off: today's columns only."
    ),
) -> None:
    """Score every row of INPUT; write it back with stance, confidence and p_<label> columns."""
    from pipeline.registry import model_version
    from pipeline.scoring.model import load_model, load_predictor, model_identity, review_thresholds
    from pipeline.scoring.progress import scoring_progress
    from pipeline.scoring.run import AlreadyComplete, ScoreOptions, check_paths, precheck_input, score_file
    from pipeline.scoring.workers import default_workers, uses_threads

    model = model or default_model_uri(config)
    options = ScoreOptions(text_column, batch_size, max_chars, encoding, articles, level, none_label)
    if engine == "spark":
        from pipeline.scoring.spark import score_parquet_spark

        check_paths(input_path, output)
        if resume or explain:
            raise_input(f"{'--resume' if resume else '--explain'} is for the local engine")
        summary = score_parquet_spark(input_path, output, model, options, spark_master)
    else:
        precheck_input(input_path, output, options)
        predictor, labels = load_predictor(model)
        options = dataclasses.replace(options, review=review_band == "on" and bool(review_thresholds(predictor)))
        try:
            with scoring_progress() as progress:
                summary = score_file(
                    input_path,
                    output,
                    predictor,
                    labels,
                    options,
                    model_uri=model,
                    model_id=model_identity(predictor),
                    model_version=model_version(model),
                    resume=resume,
                    progress=progress,
                    workers=workers or default_workers(predictor),
                    load_model=functools.partial(load_model, model) if uses_threads(predictor) else None,
                    explainer=_explainer(predictor, config) if explain else None,
                )
        except AlreadyComplete as done:
            typer.echo(str(done), err=True)
            return
    typer.echo(f"{output}: {summary.line()}", err=True)
    if show and engine == "local" and level == "sentence":
        _print_scored(output, text_column)
    if summary.rows and not summary.scored:
        typer.echo(f"error: no row of {input_path} could be scored (see the `error` column of {output})", err=True)
        raise typer.Exit(NOTHING_SCORED)


@app.command()
@user_errors
def report(
    scored: Path = typer.Argument(
        ..., metavar="SCORED", help="A `stance score` output (.csv, .jsonl or .parquet; sentence or article level)."
    ),
    output: Path = typer.Option(
        ..., "--output", "-o", help="Report file: .html (self-contained) or .md (charts as PNG beside it)."
    ),
    by: Literal["month", "week"] = typer.Option("month", "--by", help="Period of the charts over time."),
    group: Optional[str] = typer.Option(
        None,
        "--group",
        help="Column to break stance down by, e.g. source [default: source_country, read from the corpus file names in doc_id].",
    ),
    fmt: Optional[Literal["html", "md"]] = typer.Option(
        None, "--format", help="html or md [default: from the output's extension]."
    ),
    evidence: int = typer.Option(3, "--evidence", min=1, help="Sentences shown per label and period."),
    none_label: str = typer.Option("none", "--none-label", help="The label meaning 'takes no stance'."),
    text_column: str = typer.Option("text", "--text-column", help="Column holding the sentence."),
) -> None:
    """Write a report of a scored file: stance over time, by group, and the sentences behind each bar."""
    from pipeline.report.write import write_report

    data = write_report(
        scored,
        output,
        fmt=fmt,
        period=by,
        group=group,
        none_label=none_label,
        evidence_per_cell=evidence,
        text_column=text_column,
    )
    stances = sum(data.label_counts[label] for label in data.stances)
    typer.echo(
        f"{output}: {data.scored:,} scored sentences, {stances:,} with a stance"
        + (f", {data.articles:,} articles" if data.articles is not None else ""),
        err=True,
    )


def _explainer(predictor: object, config: Path) -> "Explainer":
    """Evidence from the model (tf-idf n-grams) and from the config's labeling functions
    (none when the config file is absent or names no suite)."""
    from pipeline.scoring.explain import explainer_for
    from pipeline.labeling.suites import get_suite

    functions = load_config(config).label.functions if config.is_file() else None
    return explainer_for(predictor, get_suite(functions) if functions is not None else None)


def raise_input(message: str) -> None:
    from pipeline.errors import InputError

    raise InputError(message)


def _print_scored(output: Path, text_column: str) -> None:
    from rich.console import Console
    from rich.table import Table

    from pipeline.io import read_table

    frame = read_table(output)
    table = Table("stance", "conf", "sentence", show_lines=False)
    for row in frame.itertuples(index=False):
        row_dict = row._asdict()
        stance = str(row_dict.get("stance", "")) or f"({row_dict.get('error', '')})"
        confidence = row_dict.get("confidence", "")
        table.add_row(
            stance,
            f"{float(confidence):.2f}" if str(confidence) not in ("", "nan") else "",
            shorten(str(row_dict.get(text_column, "")), SHOW_CHARS),
        )
    Console().print(table)


SHOW_CHARS = 160  # `stance score --show` prints at most this much of each sentence


def shorten(text: str, limit: int) -> str:
    """``text`` cut at a word boundary to at most ``limit`` characters, with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if not text[limit - 1].isspace() and " " in cut:  # the cut fell inside a word: drop that word
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:") + "…"


# The registered model `stance` uses when the config file is absent (run outside a
# project): configs/default.yaml's.
FALLBACK_MODEL_NAME = "deployment-stance"


def _registry_section(config: Path) -> RegistryConfig:
    """The config's registry section; a default one naming FALLBACK_MODEL_NAME when the
    config file is absent."""
    return load_config(config).registry if config.is_file() else RegistryConfig(model_name=FALLBACK_MODEL_NAME)


def _model_name(name: str | None, config: Path) -> str:
    """``--name``, else the config's ``registry.model_name``."""
    return name or _registry_section(config).model_name


def default_model_uri(config: Path) -> str:
    """``models:/<registry.model_name>@<registry.alias>`` of the config: what `stance run` registers."""
    registry = _registry_section(config)
    return f"models:/{registry.model_name}@{registry.alias}"


NameOption = typer.Option(None, "--name", "-n", help="Registered model name (default: the config's registry.model_name).")


@app.command()
@user_errors
def models(name: Optional[str] = NameOption, config: Path = ConfigOption) -> None:
    """List a registered model's versions with their gold-test metrics and aliases, from the
    store MLFLOW_TRACKING_URI names (default: sqlite:///mlflow.db in this folder)."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    from pipeline import registry

    name = _model_name(name, config)
    headers = {
        "version": "version",
        "aliases": "aliases",
        "test_macro_f1": "test F1",
        "test_accuracy": "test acc",
        "gate": "gate",
        "win_p": "win p",
        "run_id": "run_id",
    }  # win p: the gate's paired-bootstrap win probability
    columns = tuple(headers)
    from pipeline.tracking import tracking_uri

    table = Table(*headers.values(), title=f"{name} in {tracking_uri()}", box=box.SIMPLE_HEAD)
    versions = registry.list_versions(name)
    for version in versions:
        table.add_row(*[version[column] for column in columns])
    console = Console()
    console.print(table)
    for version in versions:  # the gate's reasons, too long for a column
        console.print(f"  {version['version']}: {version['description']}", highlight=False, soft_wrap=True)


@app.command()
@user_errors
def promote(
    version: str = typer.Argument(..., help="Version number to make the champion."),
    name: Optional[str] = NameOption,
    config: Path = ConfigOption,
    alias: str = typer.Option("champion", "--alias", help="The alias to move (what `stance score` loads)."),
) -> None:
    """Move the champion alias to VERSION by hand, in the store MLFLOW_TRACKING_URI names
    (default: sqlite:///mlflow.db in this folder)."""
    from pipeline import registry

    name = _model_name(name, config)
    previous = registry.promote_version(name, alias, version)
    from pipeline.tracking import tracking_uri

    typer.echo(
        f"{name}@{alias} -> version {version}" + (f" (was version {previous})" if previous else "") + f" in {tracking_uri()}"
    )


@app.command()
@user_errors
def ui(port: int = typer.Option(5000, "--port"), host: str = typer.Option("127.0.0.1", "--host")) -> None:
    """Open the MLflow UI on the store MLFLOW_TRACKING_URI names (default: sqlite:///mlflow.db in
    this folder), localhost only by default."""
    from pipeline.errors import TrackingError
    from pipeline.tracking import tracking_uri

    uri = tracking_uri()
    if uri.startswith(("http://", "https://")):
        raise TrackingError(f"MLFLOW_TRACKING_URI={uri} is a tracking server: open it in a browser, no `stance ui` needed")
    require_free_port(host, port)
    typer.echo(f"MLflow UI for {uri} at http://{host}:{port}", err=True)
    os.environ.setdefault("MLFLOW_SERVER_ENABLE_JOB_EXECUTION", "false")  # GenAI job runner: one process less
    command = [
        sys.executable,
        "-m",
        "mlflow",
        "ui",
        "--backend-store-uri",
        uri,
        "--host",
        host,
        "--port",
        str(port),
        "--workers",
        "1",
    ]
    raise typer.Exit(run_until_signalled(command, "MLflow UI"))


def run_until_signalled(command: list[str], what: str) -> int:
    """Run ``command`` in its own process group until it exits or this process gets SIGINT or
    SIGTERM; a signal stops the whole group (the server and its workers, never left serving
    the port behind us) and ends with one line instead of their tracebacks. Returns the
    child's exit status, or 0 after a requested stop."""
    import signal
    import subprocess

    child = subprocess.Popen(command, start_new_session=True)
    received: list[int] = []

    def forward(signum: int, _frame: object) -> None:
        received.append(signum)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGTERM)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        while True:
            try:
                status = child.wait(timeout=10 if received else None)
                break
            except subprocess.TimeoutExpired:  # it ignored SIGTERM for 10 s
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):  # workers that outlived their parent
            os.killpg(child.pid, signal.SIGKILL)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if received:
        typer.echo(f"{what} stopped ({signal.Signals(received[0]).name})", err=True)
        return 0
    return status


def require_free_port(host: str, port: int) -> None:
    """Fail in one line when ``host:port`` is taken (the MLflow server would log the clash
    and exit 0)."""
    import socket

    from pipeline.errors import StanceError

    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise StanceError(f"port {port} on {host} is not free ({exc.strerror}); choose another with --port") from None


for _info in app.registered_commands:  # every command's help, not only the group's
    if _info.cls in (None, TyperCommand):
        _info.cls = PlainHelpCommand

if __name__ == "__main__":  # pragma: no cover
    app()
