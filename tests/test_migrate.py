"""`tflint-notes migrate` without TensorFlow: routes, dependency files, the report, idempotence, bad input.
(test_migrate_tf.py runs the migrated fixture project under real TensorFlow.)"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tflint_notes.migrate.code import add_legacy_switch, rewrite_keras_imports, undecided_save_paths
from tflint_notes.migrate.dependencies import Policy, plan
from tflint_notes.project.layout import legacy_keras_evidence

ROOT = Path(__file__).resolve().parents[1]
PROJECT = ROOT / "fixtures" / "migrate" / "keras2_project"
TO = (2, 21)


def _run(cwd, *args):
    return subprocess.run([sys.executable, "-m", "tflint_notes", "migrate", "--no-cache", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def _tree(path: Path) -> dict:
    return {p.relative_to(path).as_posix(): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


@pytest.fixture
def project(tmp_path):
    target = tmp_path / "project"
    shutil.copytree(PROJECT, target)
    return target


# --- dependency files ------------------------------------------------------------------------------------

def _plan(tmp_path, files: dict, route="keras3", keep=False):
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode() if isinstance(text, str) else text)
    return plan(str(tmp_path), Policy(route, TO, keep))


def _new(result, tmp_path, name) -> str:
    return result.new_bytes[str(tmp_path / name)][1].decode()


def test_requirements_keep_comments_markers_and_line_endings(tmp_path):
    text = ("# training machines\r\ntensorflow-gpu[and-cuda] == 2.10.0 ; sys_platform == 'linux'  # GPU\r\n"
            "numpy>=1.21\r\ntensorflow>=2.16\r\n")
    result = _plan(tmp_path, {"requirements.txt": text})
    new = _new(result, tmp_path, "requirements.txt")
    assert new == ("# training machines\r\ntensorflow-gpu[and-cuda]==2.21.* ; sys_platform == 'linux'  # GPU\r\n"
                   "numpy>=1.21\r\ntensorflow>=2.16\r\n")
    assert [(c.line, c.before, c.after) for c in result.changes] == [
        (2, "tensorflow-gpu[and-cuda] == 2.10.0 ; sys_platform == 'linux'  # GPU",
         "tensorflow-gpu[and-cuda]==2.21.* ; sys_platform == 'linux'  # GPU")]


def test_unpinned_and_already_right_requirements_stay(tmp_path):
    result = _plan(tmp_path, {"requirements.txt": "tensorflow\nkeras>=3.2\ntensorflow-cpu>=2.16,<3\n"})
    assert not result.changes and not result.new_bytes


def test_tf_keras_route_adds_tf_keras_beside_tensorflow_once(tmp_path):
    result = _plan(tmp_path, {"requirements.txt": "tensorflow~=2.12.0\nnumpy", "constraints.txt": "tensorflow==2.12\n"},
                   route="tf_keras")
    assert _new(result, tmp_path, "requirements.txt") == "tensorflow==2.21.*\ntf-keras==2.21.*\nnumpy"
    assert _new(result, tmp_path, "constraints.txt") == "tensorflow==2.21.*\n"  # constraints: no addition


def test_tf_keras_requirement_follows_the_route(tmp_path):
    files = {"requirements.txt": "tensorflow==2.15.*\ntf-keras==2.15.0\n"}
    legacy = _plan(tmp_path / "a", files, route="tf_keras")
    assert _new(legacy, tmp_path / "a", "requirements.txt") == "tensorflow==2.21.*\ntf-keras==2.21.*\n"
    keras3 = _plan(tmp_path / "b", files, route="keras3")
    assert _new(keras3, tmp_path / "b", "requirements.txt") == "tensorflow==2.21.*\n"
    kept = _plan(tmp_path / "c", files, route="keras3", keep=True)  # the code still imports tf_keras
    assert _new(kept, tmp_path / "c", "requirements.txt") == "tensorflow==2.21.*\ntf-keras==2.15.0\n"


def test_keras2_pin_would_conflict_with_tensorflow(tmp_path):
    result = _plan(tmp_path, {"requirements.txt": "keras==2.10.0\n"})
    assert _new(result, tmp_path, "requirements.txt") == "keras>=3\n"


def test_pyproject_is_edited_in_place_with_comments_kept(tmp_path):
    text = ('[project]\nname = "x"\ndependencies = [\n    # the model\n    "tensorflow>=2.8,<2.12",  # Keras 2 era\n'
            '    \'numpy\',\n]\n\n[project.optional-dependencies]\ngpu = ["tensorflow[and-cuda]<2.16"]\n\n'
            '[tool.poetry.dependencies]\npython = "^3.10"\ntensorflow = "^2.10"  # poetry\n')
    result = _plan(tmp_path, {"pyproject.toml": text}, route="tf_keras")
    new = _new(result, tmp_path, "pyproject.toml")
    assert new == ('[project]\nname = "x"\ndependencies = [\n    # the model\n    "tensorflow==2.21.*",  # Keras 2 era\n'
                   '    "tf-keras==2.21.*",\n    \'numpy\',\n]\n\n[project.optional-dependencies]\n'
                   'gpu = ["tensorflow[and-cuda]==2.21.*", "tf-keras==2.21.*"]\n\n'
                   '[tool.poetry.dependencies]\npython = "^3.10"\ntensorflow = "2.21.*"  # poetry\ntf-keras = "2.21.*"\n')


def test_setup_cfg_lines_are_edited_and_setup_py_is_reported(tmp_path):
    cfg = ("[metadata]\nname = x\n\n[options]\n# pinned\ninstall_requires =\n    numpy\n    tensorflow<2.11  # old\n"
           "\n[options.extras_require]\naddons = tensorflow-addons\n")
    setup = "from setuptools import setup\nsetup(install_requires=['tensorflow==2.9.1'])\n"
    result = _plan(tmp_path, {"setup.cfg": cfg, "setup.py": setup}, route="tf_keras")
    assert _new(result, tmp_path, "setup.cfg") == (
        "[metadata]\nname = x\n\n[options]\n# pinned\ninstall_requires =\n    numpy\n    tensorflow==2.21.*  # old\n"
        "    tf-keras==2.21.*\n\n[options.extras_require]\naddons = tensorflow-addons\n")
    assert str(tmp_path / "setup.py") not in result.new_bytes
    messages = [m for _, m in result.items]
    assert any("setup.py is not edited: change `tensorflow==2.9.1` to `tensorflow==2.21.*`" in m for m in messages)
    assert any("tensorflow-addons" in m and "end of life" in m for m in messages)


def test_pipfile_and_conda_environment_are_reported_not_edited(tmp_path):
    files = {"Pipfile": '[packages]\ntensorflow = "==2.10.0"\n',
             "environment.yml": "name: x\ndependencies:\n  - python=3.10\n  - pip:\n    - tensorflow<2.12\n"}
    result = _plan(tmp_path, files, route="tf_keras")
    assert not result.new_bytes
    assert sorted(result.items) == [
        ("Pipfile:2", "Pipfile is not edited: add `tf-keras==2.21.*` beside `tensorflow==2.10.0` (the tf_keras route)"),
        ("Pipfile:2", "Pipfile is not edited: change `tensorflow==2.10.0` to `tensorflow==2.21.*` (allowed only "
                      "TensorFlow below 2.21)"),
        ("environment.yml:5", "environment.yml is not edited: add `tf-keras==2.21.*` beside `tensorflow<2.12` (the "
                              "tf_keras route)"),
        ("environment.yml:5", "environment.yml is not edited: change `tensorflow<2.12` to `tensorflow==2.21.*` "
                              "(allowed only TensorFlow below 2.21)")]


def test_invalid_toml_is_a_problem_not_a_crash(tmp_path):
    result = _plan(tmp_path, {"pyproject.toml": "[project\ndependencies = ['tensorflow==2.10']\n",
                              "requirements.txt": "tensorflow==2.10\n"})
    assert any("pyproject.toml: invalid TOML" in p for p in result.problems)
    assert str(tmp_path / "requirements.txt") in result.new_bytes


def test_hash_pinned_requirement_needs_a_person(tmp_path):
    result = _plan(tmp_path, {"requirements.txt": "tensorflow==2.10.0 --hash=sha256:abc\n"})
    assert not result.new_bytes and "hash-pinned" in result.items[0][1]


# --- code ------------------------------------------------------------------------------------------------

def test_legacy_switch_goes_before_the_first_import_and_is_recognised():
    text = '"""Doc."""\nfrom __future__ import annotations\n\nimport tensorflow as tf\n'
    new, line = add_legacy_switch(text)
    assert new.startswith('"""Doc."""\nfrom __future__ import annotations\n\nimport os\n\nif "TF_USE_LEGACY_KERAS"')
    assert new.endswith('    os.environ["TF_USE_LEGACY_KERAS"] = "1"\n\nimport tensorflow as tf\n') and line == 4
    assert legacy_keras_evidence(new) is not None  # the project model then reads the package as tf_keras
    compile(new, "x.py", "exec")
    assert add_legacy_switch(new) == (new, None)


def test_legacy_switch_keeps_crlf_and_handles_a_module_without_imports():
    new, _ = add_legacy_switch('"""Package."""\r\n')
    assert new == ('"""Package."""\r\n\r\nimport os\r\n\r\nif "TF_USE_LEGACY_KERAS" not in os.environ:  # tf.keras is '
                   'tf-keras (Keras 2): set before TensorFlow is imported\r\n    os.environ["TF_USE_LEGACY_KERAS"] = "1"\r\n')
    assert add_legacy_switch('import os\nos.environ["TF_USE_LEGACY_KERAS"] = "1"\nimport tensorflow\n')[1] is None


def test_plain_keras_imports_become_tf_keras():
    text = "import os, keras\nimport keras.backend as K\nfrom keras.layers import Dense\nfrom keras import engine\n"
    new, rewritten, missing = rewrite_keras_imports(text)
    assert new == ("import os, tf_keras as keras\nimport tf_keras.backend as K\nfrom tf_keras.layers import Dense\n"
                   "from tf_keras import engine\n")
    assert [line for line, _, _ in rewritten] == [1, 2, 3, 4]
    assert [line for line, _ in missing] == [4]  # tf_keras.engine is not public
    assert rewrite_keras_imports("import tensorflow.keras as keras\nfrom tensorflow import keras\n")[1] == []


def test_save_paths_the_tool_cannot_see_are_undecided():
    text = ("import os\nfrom tensorflow import keras\nmodel = keras.Sequential()\nmodel.save(out)\n"
            "model.save(os.path.join(out, 'm.keras'))\nmodel.save('m.keras')\nkeras.models.load_model(path)\n"
            "image.save(out)\nmodel.save_weights(f'{out}')\n")
    assert [line for line, _ in undecided_save_paths(text)] == [4, 7, 9]


# --- the command ---------------------------------------------------------------------------------------------

def test_dry_run_changes_nothing_but_writes_the_report(project):
    before = _tree(project)
    done = _run(project, "--route", "keras3", ".")
    assert done.returncode == 1, done.stderr
    after = _tree(project)
    report = after.pop("tflint-migration-report.md").decode()
    assert after == before
    assert "dry run: nothing was written" in report and "| 16 | TFN606 | `model.save(\"trained\")` |" in report
    assert "Would change flowers/model.py: 1 × TFN603, 2 × TFN605, 1 × TFN609" in done.stdout


def test_write_then_a_second_migrate_changes_nothing(project):
    first = _run(project, "--route", "keras3", "--write", "-q", ".")
    assert first.returncode == 1 and not first.stderr, first.stderr  # items for a person remain
    migrated = _tree(project)
    assert b"tensorflow==2.21.*" in migrated["requirements.txt"]
    second = _run(project, "--route", "keras3", "--report", "-", "--output-format", "json", ".")
    report = json.loads(second.stdout)
    assert _tree(project) == migrated
    assert report["totals"]["files_changed"] == 0 and report["totals"]["dependency_changes"] == 0
    assert {(f["path"], i["line"]) for f in report["files"] for i in f["needs_a_person"]} == {
        ("flowers/legacy.py", 9), ("flowers/legacy.py", 13)}
    assert report["files"][-1]["could_not_decide"][0]["line"] == 17  # model.save(os.path.join(out_dir, "model"))


def test_other_rules_fix_only_the_lines_the_migration_changed(tmp_path):
    (tmp_path / "step.py").write_text("import numpy as np\nimport tensorflow as tf\n\n\n@tf.function\ndef step(x):\n"
                                      "    y = tf.log(np.exp(x))\n    return y + np.square(x)\n")
    done = _run(tmp_path, "--isolated", "--route", "keras3", "--write", "--report", "-", "--output-format", "json", ".")
    assert (tmp_path / "step.py").read_text().endswith("    y = tf.math.log(tf.exp(x))\n    return y + np.square(x)\n")
    changes = json.loads(done.stdout)["files"][0]["changes"]
    assert [(c["line"], c["rule"]) for c in changes] == [(7, "TFN601"), (7, "TFN101")]


def test_auto_compares_both_routes_and_says_why(project):
    done = _run(project, "--report", "-", "--output-format", "json", ".")
    report = json.loads(done.stdout)
    counts = report["left_for_a_person_by_route"]
    assert set(counts) == {"keras3", "tf_keras"}
    assert report["route"] == min(counts, key=lambda r: (counts[r], r != "keras3"))
    assert f"keras3 leaves {counts['keras3']}" in report["why"] or f"tf_keras leaves {counts['tf_keras']}" in report["why"]


def test_bad_input_is_reported_per_file_and_the_rest_is_migrated(project):
    (project / "broken.py").write_text("import tensorflow as tf\ndef f(:\n")
    (project / "bad.ipynb").write_text("{not json")
    data = project / "flowers" / "data.py"
    data.chmod(stat.S_IRUSR)
    try:
        done = _run(project, "--route", "keras3", "--write", "-q", ".")
    finally:
        data.chmod(stat.S_IRUSR | stat.S_IWUSR)
    assert done.returncode == 2
    assert "broken.py" in done.stderr and "bad.ipynb" in done.stderr and "read-only" in done.stderr
    assert "Traceback" not in done.stderr
    assert b"tf.random_normal" in data.read_bytes()  # not half-written
    assert b"keras.layers.Rescaling" in (project / "flowers" / "model.py").read_bytes()


def test_a_notebook_whose_layout_cannot_be_reproduced_is_left_untouched(project):
    notebook = project / "explore.ipynb"
    data = json.loads(notebook.read_text())
    data["cells"][3]["source"] = ["y = 1\n", *data["cells"][3]["source"]]
    text = json.dumps(data, indent=1, sort_keys=True).replace('": ', '":  ')  # not a json.dumps layout
    lines = data["cells"][3]["source"]  # the cell migrate changes: its list packed irregularly
    packed = "[" + json.dumps(lines[0]) + ", " + json.dumps(lines[1]) + ",\n" + json.dumps(lines[2]) + "]"
    start = text.rindex('"source":  ', 0, text.index("random_uniform")) + len('"source":  ')
    end = text.index("]", start) + 1
    odd = text[:start] + packed + text[end:]
    assert json.loads(odd)["cells"] == data["cells"]
    notebook.write_text(odd)
    done = _run(project, "--route", "keras3", "--write", "-q", ".")
    assert done.returncode == 2 and "explore.ipynb" in done.stderr and "not rewritten" in done.stderr
    assert notebook.read_text() == odd
    assert b"tf.math.log" in (project / "flowers" / "data.py").read_bytes()


@pytest.mark.parametrize("args, message", [
    (["nothing-here"], "no such file or directory"),
    (["--to", "2.12", "."], "--to: expected a TensorFlow release from 2.16"),
])
def test_usage_errors_exit_2(tmp_path, args, message):
    done = _run(tmp_path, *args)
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr


def test_a_folder_without_python_exits_2(tmp_path):
    (tmp_path / "README.md").write_text("hi")
    done = _run(tmp_path, ".")
    assert done.returncode == 2 and "no Python files or notebooks" in done.stderr
