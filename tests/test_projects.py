"""Projects: the TensorFlow/Keras a project declares decides what is reported (issue 22).

Every fixture project under fixtures/projects/ marks its expected findings `# expect: TFNxxx`; lines marked
`# silent-by-target: TFNxxx` are silent only because of the project's target, so they must be reported when
the target is forced to the newest TensorFlow with Keras 3; `# silent: TFNxxx` lines are silent for another
reason (an own package, a TF1-only test).  `expected-target.txt` lists lines `--show-target` must print.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from tflint_notes.cli import main
from tflint_notes.engine import Linter
from tflint_notes.project import ProjectStore, build_project
from tflint_notes.project.declared import Reading, conda_specifier, poetry_specifier, read_requirements_file
from tflint_notes.project.layout import legacy_keras_evidence
from tflint_notes.project.target import newest_tensorflow

ROOT = Path(__file__).resolve().parents[1]
PROJECTS = ROOT / "fixtures" / "projects"
_MARK = re.compile(r"#\s*(expect|silent-by-target|silent):\s*(TFN\d{3})")


def project_dirs() -> list[Path]:
    return sorted(p for p in PROJECTS.iterdir() if p.is_dir())


def marks(project: Path) -> dict[str, set]:
    out: dict[str, set] = {"expect": set(), "silent-by-target": set(), "silent": set()}
    for path in sorted(project.rglob("*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for kind, code in _MARK.findall(line):
                out[kind].add((path.relative_to(project).as_posix(), number, code))
    return out


def run_cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        status = main(list(args))
    return status, out.getvalue(), err.getvalue()


def findings(project: Path, *extra: str) -> set:
    status, out, err = run_cli("check", "--no-cache", "--output-format", "json", *extra, str(project))
    assert status in (0, 1), err
    return {(Path(item["filename"]).relative_to(project).as_posix(), item["location"]["row"], item["code"])
            for item in json.loads(out)}


@pytest.mark.parametrize("project", project_dirs(), ids=lambda p: p.name)
def test_project_findings_follow_the_declared_target(project: Path):
    expected = marks(project)
    assert expected["expect"] or expected["silent-by-target"] or expected["silent"], "a fixture project marks nothing"
    assert findings(project) == expected["expect"]


@pytest.mark.parametrize("project", [p for p in project_dirs() if marks(p)["silent-by-target"]], ids=lambda p: p.name)
def test_silent_lines_report_on_the_newest_target(project: Path):
    """The silence comes from the target: forced to TF 2.21 + Keras 3, the same lines are reported."""
    expected = marks(project)
    got = findings(project, "--target-tensorflow", "2.21", "--keras", "keras3")
    assert expected["silent-by-target"] <= got
    assert not expected["silent"] & got


@pytest.mark.parametrize("project", project_dirs(), ids=lambda p: p.name)
def test_show_target_names_the_target_and_its_source(project: Path):
    status, out, err = run_cli("check", "--no-cache", "--show-target", str(project))
    assert status == 0, err
    wanted = (project / "expected-target.txt").read_text(encoding="utf-8").splitlines()
    for line in filter(None, (w.strip() for w in wanted)):
        assert line in out, f"{line!r} not in:\n{out}"


def test_every_project_case_has_both_a_report_and_a_silence():
    """Each "silent because of the target" case sits beside one that still reports."""
    for project in project_dirs():
        found = marks(project)
        if found["silent-by-target"]:
            assert found["expect"] or project.name in ("tf1_project", "conda_env", "refuses_keras3"), project.name


def test_verbose_warns_about_unreadable_sources():
    status, _, err = run_cli("check", "--no-cache", "-v", "-q", str(PROJECTS / "unreadable_sources"))
    assert status == 1
    assert "warning:" in err and "requirements.txt:1: cannot parse requirement 'tensorflow=2.12'" in err
    assert "constraints.txt: not UTF-8" in err and "setup.py:3: does not parse" in err


def test_json_and_sarif_carry_the_target():
    project = PROJECTS / "setup_py_tf215"
    _, out, _ = run_cli("check", "--no-cache", "--output-format", "json", str(project))
    target = json.loads(out)[0]["target"]
    assert target["tensorflow"] == ["2.13", "2.15"] and target["tf_keras_legacy"] is True
    assert "setup.py:5" in target["tensorflow_from"]
    _, out, _ = run_cli("check", "--no-cache", "--output-format", "sarif", str(project))
    result = json.loads(out)["runs"][0]["results"][0]
    assert result["properties"]["target"]["tensorflow"] == ["2.13", "2.15"]


def test_configuration_overrides_inference(tmp_path: Path):
    (tmp_path / "requirements.txt").write_text("tensorflow>=2.16\n", encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text('[tool.tflint-notes]\ntarget-tensorflow = "2.15"\n', encoding="utf-8")
    (tmp_path / "app.py").write_text("import tensorflow as tf\nx = tf.estimator.Estimator\n", encoding="utf-8")
    status, out, _ = run_cli("check", "--no-cache", "-q", str(tmp_path))
    assert status == 0 and out == ""
    status, out, _ = run_cli("check", "--no-cache", "-q", "--target-tensorflow", ">=2.16", str(tmp_path))
    assert status == 1 and "TFN601" in out
    status, out, _ = run_cli("check", "--no-cache", "--show-target", str(tmp_path))
    assert "target-tensorflow = '2.15'" in out


def test_bad_target_setting_is_a_clear_error(tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text('[tool.tflint-notes]\ntarget-tensorflow = "two"\n', encoding="utf-8")
    (tmp_path / "a.py").write_text("import tensorflow as tf\n", encoding="utf-8")
    status, _, err = run_cli("check", str(tmp_path))
    assert status == 2 and "target-tensorflow must be a TensorFlow version" in err
    status, _, err = run_cli("check", "--isolated", "--target-tensorflow", "==banana", str(tmp_path))
    assert status == 2 and "--target-tensorflow" in err and "Traceback" not in err


def test_symlink_loop_and_no_python(tmp_path: Path):
    (tmp_path / "requirements.txt").write_text("tensorflow==2.15.*\n", encoding="utf-8")
    (tmp_path / "loop").mkdir()
    os.symlink(tmp_path / "loop", tmp_path / "loop" / "again")
    (tmp_path / "loop" / "m.py").write_text("import tensorflow as tf\nx = tf.estimator.Estimator\n", encoding="utf-8")
    status, out, err = run_cli("check", "--no-cache", "-q", str(tmp_path))
    assert status == 0, (out, err)
    status, out, _ = run_cli("check", "--no-cache", "--show-target", str(tmp_path))
    assert "TensorFlow 2.15" in out


def test_requirement_files_follow_includes_and_skip_options(tmp_path: Path):
    (tmp_path / "requirements.txt").write_text(
        "-r base.txt\n--index-url https://example.invalid/simple\n-e .\n"
        "tensorflow>=2.12, \\\n    <2.14 --hash=sha256:abc\n./local/pkg\n", encoding="utf-8")
    (tmp_path / "base.txt").write_text("-c requirements.txt\ntf-keras==2.13.*  # legacy\n", encoding="utf-8")
    reading = Reading()
    read_requirements_file(reading, str(tmp_path / "requirements.txt"), str(tmp_path))
    got = {(d.name, d.specifier, d.where) for d in reading.declared}
    assert got == {("tf-keras", "==2.13.*", "base.txt:2"), ("tensorflow", "<2.14,>=2.12", "requirements.txt:4")}
    assert reading.problems == []


def test_version_syntaxes():
    assert poetry_specifier("^2.12") == ">=2.12,<3"
    assert poetry_specifier("~2.12.1") == ">=2.12.1,<2.13"
    assert poetry_specifier(">=2.10,<2.16") == ">=2.10,<2.16"
    assert poetry_specifier("*") == ""
    assert poetry_specifier("latest please") is None
    assert conda_specifier("=2.12") == "==2.12.*"
    assert conda_specifier("=2.12.0=py39h1") == "==2.12.0.*"
    assert conda_specifier(">=2.10,<2.16") == ">=2.10,<2.16"
    assert conda_specifier("") == ""


def test_poetry_and_dependency_groups(tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.poetry.dependencies]\npython = "^3.10"\ntensorflow = "~2.14"\n'
        '[dependency-groups]\ndev = ["tf-keras"]\n', encoding="utf-8")
    project = build_project(str(tmp_path))
    assert (project.target.tf_oldest, project.target.tf_newest) == ((2, 14), (2, 14))
    assert project.target.tf_keras  # TF 2.14 ships Keras 2


def test_extras_and_markers(tmp_path: Path):
    (tmp_path / "setup.py").write_text(
        "from setuptools import setup\nBASE = ['numpy']\n"
        "setup(install_requires=BASE + [\"tensorflow-macos>=2.16; sys_platform == 'darwin'\"],\n"
        "      extras_require={'legacy': ['tf-keras>=2.16']})\n", encoding="utf-8")
    target = build_project(str(tmp_path)).target
    assert target.tf_newest == newest_tensorflow() and target.tf_oldest == (2, 16)
    assert not target.tf_keras  # tf-keras only as an extra: Keras 3 users remain


def test_tf_nightly_and_future_versions(tmp_path: Path):
    (tmp_path / "requirements.txt").write_text("tensorflow>=2.40\n", encoding="utf-8")
    target = build_project(str(tmp_path)).target
    assert target.tf_newest == newest_tensorflow() and "newer than the tables" in target.tensorflow_why


def test_legacy_keras_evidence_shapes():
    assert legacy_keras_evidence('import os\nos.environ["TF_USE_LEGACY_KERAS"] = "1"\nimport tensorflow\n')
    assert legacy_keras_evidence('import os\nos.environ.setdefault("TF_USE_LEGACY_KERAS", "True")\n')
    assert legacy_keras_evidence('import os\nos.environ.update({"TF_USE_LEGACY_KERAS": "1"})\n')
    assert legacy_keras_evidence('import tensorflow\nimport os\nos.environ["TF_USE_LEGACY_KERAS"] = "1"\n') is None
    assert legacy_keras_evidence('import os\nos.environ["TF_USE_LEGACY_KERAS"] = "0"\n') is None
    assert legacy_keras_evidence("import keras\nif int(keras.__version__[0]) >= 3:\n    raise ImportError('no')\n")
    assert legacy_keras_evidence("import keras\nif keras.__version__ < '3':\n    raise ImportError('need 3')\n") is None
    assert legacy_keras_evidence("def broken(:\n") is None


def test_disk_cache_is_keyed_by_contents(tmp_path: Path, monkeypatch):
    project_dir = tmp_path / "p"
    project_dir.mkdir()
    requirements = project_dir / "requirements.txt"
    requirements.write_text("tensorflow==2.15.*\n", encoding="utf-8")
    first = ProjectStore(str(tmp_path / "cache")).for_path(str(project_dir / "a.py"))
    assert first.target.tf_newest == (2, 15)
    import tflint_notes.project as project_module

    def refuse(*args, **kwargs):
        raise AssertionError("the cached model should have been used")

    monkeypatch.setattr(project_module, "build_project", refuse)
    again = ProjectStore(str(tmp_path / "cache")).for_path(str(project_dir / "a.py"))
    assert again.target == first.target and again.first_party == first.first_party
    monkeypatch.undo()
    requirements.write_text("tensorflow==2.12.*\n", encoding="utf-8")
    changed = ProjectStore(str(tmp_path / "cache")).for_path(str(project_dir / "a.py"))
    assert changed.target.tf_newest == (2, 12)


def test_language_server_store_sees_a_saved_requirements_file(tmp_path: Path):
    (tmp_path / "requirements.txt").write_text("tensorflow==2.15.*\n", encoding="utf-8")
    store = ProjectStore(revalidate=True)
    assert store.for_path(str(tmp_path / "m.py")).target.tf_newest == (2, 15)
    (tmp_path / "requirements.txt").write_text("tensorflow>=2.16\n", encoding="utf-8")
    assert store.for_path(str(tmp_path / "m.py")).target.tf_newest == newest_tensorflow()


def test_site_packages_distribution_is_its_own_project(tmp_path: Path):
    site = tmp_path / "lib" / "site-packages"
    (site / "tfmod").mkdir(parents=True)
    (site / "tfmod" / "__init__.py").write_text("", encoding="utf-8")
    info = site / "tfmod-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: tfmod\nRequires-Dist: tensorflow<2.16,>=2.11\n\n"
                                   "Requires-Dist: not a header\n", encoding="utf-8")
    (info / "top_level.txt").write_text("tfmod\n", encoding="utf-8")
    project = ProjectStore().for_path(str(site / "tfmod" / "x.py"))
    assert project.first_party == frozenset({"tfmod"}) and project.target.tf_newest == (2, 15)


def test_flake8_plugin_uses_the_file_project():
    path = PROJECTS / "setup_py_tf215" / "tf215app" / "model.py"
    proc = subprocess.run([sys.executable, "-m", "flake8", "--select=TFN", "--tflint-notes-cache-dir=", str(path)],
                          capture_output=True, text=True, cwd=ROOT)
    codes = sorted(re.findall(r":(\d+):\d+: (TFN\d{3})", proc.stdout))
    assert codes == [("10", "TFN601")], proc.stdout + proc.stderr


def test_linter_without_project_uses_the_newest_target():
    linter = Linter(["TFN601"])
    assert [d.line for d in linter.lint("import tensorflow as tf\nx = tf.estimator.Estimator\n").diagnostics] == [2]


def test_setup_py_names_changed_later_are_computed(tmp_path: Path):
    """`REQUIRED += [...]` under an `if` (tensorflow/hub's setup.py): the literal is not the value."""
    (tmp_path / "setup.py").write_text(
        "import os\nfrom setuptools import setup\nREQUIRED = ['tensorflow>=2.10']\n"
        "if os.environ.get('NIGHTLY'):\n    REQUIRED += ['tf-keras-nightly']\nelse:\n    REQUIRED += ['tf-keras>=2.14']\n"
        "TESTS = ['pytest']\nsetup(install_requires=REQUIRED, extras_require={'test': TESTS})\n", encoding="utf-8")
    project = build_project(str(tmp_path))
    assert project.target.notes == ("setup.py:9: install_requires is computed, not read",)
    assert "no TensorFlow requirement" in project.target.tensorflow_why


def test_root_init_is_not_an_own_module(tmp_path: Path):
    (tmp_path / "requirements.txt").write_text("tensorflow\n", encoding="utf-8")
    (tmp_path / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "modeling.py").write_text("", encoding="utf-8")
    assert build_project(str(tmp_path)).first_party == frozenset({"modeling"})


def test_flake8_target_option():
    path = str(PROJECTS / "unpinned" / "app.py")
    base = [sys.executable, "-m", "flake8", "--select=TFN", "--tflint-notes-cache-dir="]
    proc = subprocess.run(base + ["--tflint-notes-target-tensorflow=2.15", path], capture_output=True, text=True)
    assert re.findall(r"(TFN\d{3})", proc.stdout) == ["TFN601"], proc.stdout  # Keras 3 finding silenced on 2.15
    proc = subprocess.run(base + ["--tflint-notes-target-tensorflow=banana", path], capture_output=True, text=True)
    assert proc.returncode == 2 and "expected a TensorFlow version" in proc.stderr and "Traceback" not in proc.stderr


def test_keras_below_3_and_tensorflow_extras(tmp_path: Path):
    (tmp_path / "requirements.txt").write_text("tensorflow[and-cuda]>=2.10\nkeras<3\n", encoding="utf-8")
    target = build_project(str(tmp_path)).target
    assert target.keras2 and not target.tf_keras  # `keras` is Keras 2; TF >= 2.16 is allowed, so tf.keras may be 3
    assert target.tf_oldest == (2, 10) and "tensorflow[and-cuda]>=2.10 from requirements.txt:1" in target.tensorflow_why
    source = "import keras\nx = keras.layers.experimental.preprocessing.Rescaling(0.5)\n"
    project = build_project(str(tmp_path))
    assert Linter(["TFN603"]).lint(source, project=project).diagnostics == []
    assert [d.code for d in Linter(["TFN603"]).lint(source).diagnostics] == ["TFN603"]


def test_requirements_for_other_environments_are_alternatives(tmp_path: Path):
    """lingvo: one TensorFlow pin per Python version; tensorflow-datasets: pins per extra.  Either holds."""
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\nversion = "0"\ndependencies = [\n'
        '  "tensorflow>=2.13,<2.14; python_version < \'3.10\'",\n'
        '  "tensorflow>=2.21,<2.22; python_version >= \'3.10\'",\n]\n'
        '[project.optional-dependencies]\nc4 = ["tensorflow<2.20"]\n', encoding="utf-8")
    target = build_project(str(tmp_path)).target
    # the union of the alternatives (each marker, each extra): the newest allowed decides the findings
    assert target.tf_newest == (2, 21) and not target.notes
    (tmp_path / "requirements.txt").write_text("tensorflow==2.13.*\n", encoding="utf-8")  # always applies
    target = build_project(str(tmp_path)).target
    assert (target.tf_oldest, target.tf_newest) == ((2, 13), (2, 13))
