"""The flake8 plugin, through a real `flake8` subprocess (no TensorFlow needed)."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap

from fixture_cases import all_cases
from tflint_notes.rule import all_rules

CASES = all_cases()
_LINE = re.compile(r"^(?P<path>.+?):(?P<line>\d+):(?P<col>\d+): (?P<code>[A-Z]+\d+) (?P<msg>.*)$")


def flake8(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "flake8", *args], capture_output=True, text=True, cwd=cwd)


def parse(output: str):
    rows = []
    for line in output.splitlines():
        m = _LINE.match(line)
        assert m, f"unexpected flake8 output line: {line!r}"
        rows.append((m["path"], int(m["line"]), int(m["col"]), m["code"], m["msg"]))
    return rows


def test_fixtures_via_flake8_match_markers():
    off = {code for code, rule in all_rules().items() if not rule.default_enabled}
    for enable, cases in (("", [c for c in CASES if c.code not in off]), (",".join(sorted(off)),
                                                                            [c for c in CASES if c.code in off])):
        if not cases:
            continue
        proc = flake8("--select=TFN", f"--tflint-notes-enable={enable}", *[str(c.before) for c in cases])
        assert proc.returncode in (0, 1), proc.stderr
        rows = parse(proc.stdout)
        for case in cases:
            got = sorted((line, code) for path, line, _, code, _ in rows if path == str(case.before))
            assert got == case.expected_marks(), case.id


def test_off_by_default_rules_need_enabling(tmp_path):
    path = tmp_path / "r.py"
    path.write_text("import tensorflow as tf\ntotal = tf.reduce_sum(tf.ones((2, 3)))\n")
    assert flake8("--select=TFN", str(path)).stdout == ""
    assert "TFN901" in flake8("--select=TFN", "--tflint-notes-enable=TFN901", str(path)).stdout


SEED = textwrap.dedent("""\
    import numpy as np
    import tensorflow as tf


    @tf.function
    def augment_data(image_batch):
        image_batch = np.append(image_batch, tf.image.flip_left_right(image_batch), axis=0)
        return image_batch
    """)


def test_message_and_one_based_column(tmp_path):
    path = tmp_path / "seed.py"
    path.write_text(SEED)
    rows = parse(flake8("--select=TFN", str(path)).stdout)
    assert rows == [(str(path), 7, 19, "TFN101",
                     "np.append() on a tensor inside @tf.function fails at trace time; "
                     "use tf.concat([...], axis=0)")]
    # `np.append` starts at 0-based column 18 on that line: flake8 shows 19
    assert SEED.splitlines()[6].index("np.append") == 18


def test_flake8_noqa_select_and_ignore(tmp_path):
    path = tmp_path / "seed.py"
    path.write_text(SEED.replace("axis=0)\n", "axis=0)  # noqa: TFN101\n"))
    assert flake8("--select=TFN", str(path)).stdout == ""
    path.write_text(SEED.replace("axis=0)\n", "axis=0)  # noqa: E501\n"))
    assert "TFN101" in flake8("--select=TFN", str(path)).stdout
    path.write_text(SEED)
    assert flake8("--select=TFN", "--extend-ignore=TFN1", str(path)).stdout == ""
    assert "TFN" not in flake8("--select=E", str(path)).stdout
    assert "TFN101" in flake8("--select=E", "--extend-select=TFN1", str(path)).stdout
    assert "TFN101" in flake8("--select=E,T", str(path)).stdout


def test_plugin_does_no_work_when_no_tfn_code_is_selected(tmp_path):
    """flake8 runs every plugin whatever --select says: with no TFN code selected the plugin must not lint
    (its result cache shows whether it did)."""
    path = tmp_path / "seed.py"
    path.write_text(SEED)
    cache = tmp_path / "cache"
    assert "TFN" not in flake8("--select=E,F,W", f"--tflint-notes-cache-dir={cache}", str(path)).stdout
    assert not cache.exists() or not any(p.is_file() for p in cache.rglob("*"))
    assert "TFN101" in flake8("--select=E,F,W,TFN", f"--tflint-notes-cache-dir={cache}", str(path)).stdout
    assert any(p.is_file() for p in cache.rglob("*"))


def test_flake8_config_file(tmp_path):
    (tmp_path / "seed.py").write_text(SEED)
    (tmp_path / "setup.cfg").write_text("[flake8]\nselect = TFN\nper-file-ignores =\n    seed.py: TFN101\n")
    proc = flake8("seed.py", cwd=tmp_path)
    assert proc.stdout == "" and proc.returncode == 0, proc.stdout + proc.stderr


def test_flake8_survives_syntax_errors_and_non_tf_files(tmp_path):
    (tmp_path / "broken.py").write_text("import tensorflow as tf\nimport numpy\ndef f(:\n")
    (tmp_path / "plain.py").write_text("import numpy as np\nx = np.append([1], [2])\n")
    proc = flake8("--select=E9,TFN", str(tmp_path))
    assert "Traceback" not in proc.stderr
    codes = [row[3] for row in parse(proc.stdout)]
    assert codes == ["E999"]
