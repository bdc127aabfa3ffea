"""End to end under real TensorFlow 2.21: a project written for TF1 / Keras 2 (fixtures/migrate/keras2_project:
a package of several modules, a script, a notebook, requirements.txt and pyproject.toml) fails as it is; after
`tflint-notes migrate --write` on either route, its script trains, saves and reloads, every module imports, the
notebook's cells run, and the only `tf.*`/`keras.*` attribute chains that do not resolve on the real modules are
the ones the report hands to a person."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.tf

ROOT = Path(__file__).resolve().parents[1]
PROJECT = ROOT / "fixtures" / "migrate" / "keras2_project"
CHECKER = Path(__file__).with_name("migrate_checker.py")
NAME_RULES = ("TFN601", "TFN602", "TFN603")


def _check(project: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "TF_USE_LEGACY_KERAS"}
    env.update(TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="-1", PYTHONDONTWRITEBYTECODE="1")
    done = subprocess.run([sys.executable, str(CHECKER), str(project), "train.py", "flowers", "explore.ipynb"],
                          capture_output=True, text=True, env=env, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _migrate(project: Path, *args: str) -> tuple[subprocess.CompletedProcess, dict]:
    done = subprocess.run([sys.executable, "-m", "tflint_notes", "migrate", "--no-cache", "--output-format", "json",
                           "--report", "report.json", *args, "."], cwd=project, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode in (0, 1), done.stderr
    return done, json.loads((project / "report.json").read_text())


def test_the_project_fails_as_written(tmp_path):
    project = tmp_path / "before"
    shutil.copytree(PROJECT, project)
    report = _check(project)
    assert report["script_error"] and "AttributeError" in report["script_error"], report  # tf.random_normal
    assert report["notebook_error"] is not None
    assert any(path.endswith("flowers/data.py") for path, _, _ in report["unresolved"])


@pytest.mark.parametrize("route", ["keras3", "tf_keras"])
def test_after_migrate_the_project_runs_on_tensorflow_2_21(tmp_path, route):
    project = tmp_path / route
    shutil.copytree(PROJECT, project)
    _, report = _migrate(project, "--write", "--route", route)
    assert report["route"] == route and report["written"] and not report["errors"]

    result = _check(project)
    assert result["script_error"] is None, result["script_error"]
    assert "loss" in result["script"]
    assert result["tf_keras"] is (route == "tf_keras")
    assert all(error is None for error in result["imports"].values()), result["imports"]
    assert result["notebook_error"] is None, result["notebook_error"]
    unresolved = {(path, line) for path, line, _ in result["unresolved"]}
    listed = {(f["path"], item["line"]) for f in report["files"] for item in f["needs_a_person"]
              if item["rule"] in NAME_RULES}
    assert unresolved == listed, (result["unresolved"], listed)
    assert listed == {("flowers/legacy.py", 9), ("flowers/legacy.py", 13)}  # tf.estimator, tf.contrib

    again = subprocess.run([sys.executable, "-m", "tflint_notes", "migrate", "--no-cache", "--route", route,
                            "--report", "-", "--output-format", "json", "."], cwd=project, capture_output=True,
                           text=True, timeout=600)
    second = json.loads(again.stdout)
    assert second["totals"]["files_changed"] == 0 and second["totals"]["dependency_changes"] == 0, second
    assert second["totals"]["needs_a_person"] == report["totals"]["needs_a_person"]
