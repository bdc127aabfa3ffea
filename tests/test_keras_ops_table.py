"""TFN608's fix table (tflint_notes/data/keras_ops.json): every entry is re-proven under the installed
TensorFlow and Keras 3 (scripts/gen_keras_ops_table.py --check runs each TF function against its keras.ops
twin, eagerly and on a symbolic keras.Input), and the fast checks below hold without TensorFlow."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from fixture_cases import ROOT
from tflint_notes.api import OK, table
from tflint_notes.rules.migration.keras_tensor_in_tf_op import keras_ops_table


def test_every_entry_names_functions_that_exist():
    entries = keras_ops_table()
    assert len(entries) >= 40
    for tf_name, entry in entries.items():
        assert table("tensorflow").lookup(tf_name.split(".")[1:]).status == OK, tf_name
        assert table("keras").lookup(["ops", entry["ops"]]).status == OK, entry
        assert entry["params"] and all(len(pair) == 2 for pair in entry["params"]), tf_name
    assert "tensorflow.shape" not in entries  # keras.ops.shape is a tuple with None, not a tensor


@pytest.mark.tf
def test_the_committed_table_is_what_tensorflow_proves():
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="-1")
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "gen_keras_ops_table.py"), "--check"],
                          capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert "entries proven" in proc.stdout
