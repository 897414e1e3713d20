"""Two `stance run`s at once on one new sqlite store: both finish, each with its own runs,
and the registry gate sees them one at a time."""

from __future__ import annotations

import pytest
from mlflow.tracking import MlflowClient

from mlflow_server import RUN_VARIANTS, start_stance, tiny_project

pytestmark = pytest.mark.slow


def test_two_runs_at_once_on_one_sqlite_store_both_finish(tmp_path):
    store = f"sqlite:///{tmp_path / 'shared.db'}"  # not created yet: both processes race to create it
    configs = [tiny_project(tmp_path / name) for name in ("first", "second")]
    processes = [
        start_stance(config.parent, store, "run", "--config", str(config), *variant)
        for config, variant in zip(configs, RUN_VARIANTS)
    ]
    outputs = [process.communicate(timeout=300) for process in processes]
    for process, (_, stderr) in zip(processes, outputs):
        assert process.returncode == 0, stderr[-3000:]

    client = MlflowClient(tracking_uri=store)
    experiment_id = client.get_experiment_by_name("tiny").experiment_id
    runs = client.search_runs([experiment_id])
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    assert len(parents) == 2 and len(runs) == 10
    for parent in parents:
        children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
        assert sorted(c.data.tags["stage"] for c in children) == ["evaluate", "ingest", "label", "train"]
        assert all(c.info.status == "FINISHED" for c in [parent, *children])
        assert "test_macro_f1" in parent.data.metrics

    # each version was gated against the other: exactly one found no champion
    versions = [client.get_model_version("tiny-stance", v) for v in ("1", "2")]
    first_gated = [v for v in versions if v.description.startswith("no champion yet")]
    assert len(first_gated) == 1
    second = next(v for v in versions if v is not first_gated[0])
    assert f"champion version {first_gated[0].version} on test_macro_f1" in second.description
    scores = {str(v.version): float(v.tags["test_macro_f1"]) for v in versions}
    champion = str(client.get_model_version_by_alias("tiny-stance", "champion").version)
    expected = second.version if scores[str(second.version)] > scores[str(first_gated[0].version)] else first_gated[0].version
    assert champion == str(expected)
