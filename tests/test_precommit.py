"""The pre-commit hooks, through the real `pre-commit try-repo` (it installs this checkout in a venv)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from fixture_cases import ROOT

pytestmark = pytest.mark.integration

BUGGY = textwrap.dedent("""\
    import numpy as np
    import tensorflow as tf


    @tf.function
    def augment_data(image_batch):
        image_batch = np.append(image_batch, tf.image.flip_left_right(image_batch), axis=0)
        return image_batch
    """)


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    home = tmp_path_factory.mktemp("pre-commit-home")
    env = dict(os.environ, PRE_COMMIT_HOME=str(home), GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.com", PRE_COMMIT_COLOR="never")
    return env


def _pre_commit(repo: Path, hook: str, env) -> subprocess.CompletedProcess:
    exe = shutil.which("pre-commit", path=os.path.dirname(sys.executable)) or shutil.which("pre-commit")
    return subprocess.run([exe, "try-repo", str(ROOT), hook, "--all-files"], cwd=repo, env=env,
                          capture_output=True, text=True, timeout=900)


def _repo(tmp_path: Path, env) -> Path:
    repo = tmp_path / "user-repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True, env=env)
    (repo / "augment.py").write_text(BUGGY)
    subprocess.run(["git", "add", "augment.py"], cwd=repo, check=True, env=env)
    return repo


def test_check_hook_fails_with_the_diagnostic(tmp_path, env):
    repo = _repo(tmp_path, env)
    proc = _pre_commit(repo, "tflint-notes", env)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "augment.py:7:19: TFN101 np.append() on a tensor" in proc.stdout
    assert (repo / "augment.py").read_text() == BUGGY


def test_fix_hook_rewrites_then_passes(tmp_path, env):
    repo = _repo(tmp_path, env)
    first = _pre_commit(repo, "tflint-notes-fix", env)
    assert first.returncode == 1, first.stdout + first.stderr
    assert "files were modified by this hook" in first.stdout
    assert "tf.concat([image_batch, tf.image.flip_left_right(image_batch)], axis=0)" in (repo / "augment.py").read_text()
    subprocess.run(["git", "add", "augment.py"], cwd=repo, check=True, env=env)
    second = _pre_commit(repo, "tflint-notes-fix", env)
    assert second.returncode == 0, second.stdout + second.stderr
