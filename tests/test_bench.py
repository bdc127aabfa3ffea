"""The benchmark script works (smoke mode: 30 real files, one run). The numbers come from bench/run.py."""

from __future__ import annotations

import subprocess
import sys

import pytest

from fixture_cases import ROOT

pytestmark = pytest.mark.integration


def test_bench_smoke():
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), "--smoke"], capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    for row in ("bare libcst parse", "check cold", "check warm", "flake8 E,F,W,TFN warm", "fix --diff / check",
                "peak memory, ours (MB)", "peak memory, flake8 E,F,W", "parsed with libcst", "parsed / with findings",
                "plugin ms, quiet file", "server keystroke ms"):
        assert row in proc.stdout, proc.stdout


def test_bench_verify_screen_smoke():
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), "--verify-screen", "--smoke"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "screen verified: identical findings" in proc.stdout, proc.stdout
