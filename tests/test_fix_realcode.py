"""`fix --unsafe-fixes` over copies of the installed keras, tf_keras and tensorflow/python sources (every
file, every rule): each changed file compiles, pyflakes finds no new undefined name, a second run changes
nothing, and the summary and exit status are honest.  bench/fix_check.py does the work and says what it saw."""

from __future__ import annotations

import subprocess
import sys

import pytest

from fixture_cases import ROOT

pytestmark = pytest.mark.integration


def test_fix_on_real_code_keeps_every_file_working():
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "fix_check.py"), "--notebooks", "200"],
                          capture_output=True, text=True,
                          timeout=1200)
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-3000:]
    assert "every changed file compiles, no new undefined name" in proc.stdout
    files = int(proc.stdout.split("files: ", 1)[1].split(" ", 1)[0])
    assert files > 2000 and "(200 notebooks)" in proc.stdout, proc.stdout  # the packages were really there
