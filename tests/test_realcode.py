"""Every rule over the installed keras, tf_keras and tensorflow/python sources gives the counts recorded in
bench/realcode-baseline.json: a change that adds or removes findings on real code shows in the baseline's
diff (bench/realcode.py --write-baseline), it cannot slip through."""

from __future__ import annotations

import subprocess
import sys

import pytest

from fixture_cases import ROOT

pytestmark = pytest.mark.integration


def test_findings_on_installed_packages_match_the_baseline():
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "realcode.py"), "--installed-only", "--check"],
                          capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-3000:]
    assert "files read under 3 roots" in proc.stdout, proc.stdout
