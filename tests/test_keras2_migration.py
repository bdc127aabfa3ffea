"""End to end: a Keras 2 training script fails under TF 2.21 (Keras 3); after `tflint-notes fix
--unsafe-fixes` it builds, trains one epoch on random data and saves."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.tf

KERAS2_SCRIPT = textwrap.dedent('''\
    """Train a small regression model: written for Keras 2 (TF 2.10)."""
    import numpy as np
    from tensorflow import keras


    def batches(x, y, size):
        while True:
            for start in range(0, len(x), size):
                yield x[start:start + size], y[start:start + size]


    def build_model():
        model = keras.Sequential([
            keras.Input((8,)),
            keras.layers.experimental.preprocessing.Rescaling(0.5),
            keras.layers.Dense(16, activation="relu", init="glorot_uniform"),
            keras.layers.Dense(1),
        ])
        model.compile(optimizer=keras.optimizers.Adam(lr=1e-3), loss="mse")
        return model


    if __name__ == "__main__":
        rng = np.random.default_rng(0)
        x = rng.random((64, 8)).astype("float32")
        y = x.sum(axis=1, keepdims=True)
        model = build_model()
        model.fit_generator(batches(x, y, 16), steps_per_epoch=4, nb_epoch=1, verbose=0)
        model.save("trained")
        print("saved")
    ''')


def _run(script, cwd):
    env = dict(os.environ, TF_USE_LEGACY_KERAS="0", TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="-1")
    return subprocess.run([sys.executable, str(script)], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def test_a_keras2_script_runs_on_keras3_after_fixing(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(KERAS2_SCRIPT)
    before = _run(script, tmp_path)
    assert before.returncode != 0 and "experimental" in before.stderr, before.stderr[-2000:]

    fix = subprocess.run([sys.executable, "-m", "tflint_notes", "fix", "--isolated", "--no-cache", "--unsafe-fixes",
                          str(script)], capture_output=True, text=True, timeout=300)
    assert fix.returncode == 0, fix.stdout + fix.stderr  # nothing left to report
    fixed = script.read_text()
    for keras2, keras3 in [("experimental.preprocessing.Rescaling", "keras.layers.Rescaling"),
                           ('init="glorot_uniform"', 'kernel_initializer="glorot_uniform"'),
                           ("Adam(lr=", "Adam(learning_rate="), ("fit_generator(", "model.fit("),
                           ("nb_epoch=1", "epochs=1"), ('save("trained")', 'save("trained.keras")')]:
        assert keras2 not in fixed and keras3 in fixed, (keras2, fixed)
    compile(fixed, str(script), "exec")

    after = _run(script, tmp_path)
    assert after.returncode == 0, after.stderr[-3000:]
    assert "saved" in after.stdout and (tmp_path / "trained.keras").is_file()
