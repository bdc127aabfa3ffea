"""The README's two set-up commands: CI runs the second verbatim; the first lints the bundled examples."""

from __future__ import annotations

import re

from fixture_cases import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def setup_commands() -> list[str]:
    section = README.split("## Set-up: the two commands", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.+?)\n```", section)


def test_exactly_two_setup_commands():
    commands = setup_commands()
    assert len(commands) == 2, commands
    assert "tflint-notes check examples/" in commands[0]
    assert "'.[test]'" in commands[1] and "pytest" in commands[1]


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert setup_commands()[1] in ci.splitlines()


def test_examples_have_findings(capsys, monkeypatch):
    from tflint_notes.cli import main

    monkeypatch.chdir(ROOT)
    assert main(["check", "--isolated", "examples"]) == 1
    out = capsys.readouterr().out
    assert "examples/augment.py:8:19: TFN101" in out
