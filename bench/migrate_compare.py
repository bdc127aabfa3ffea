"""tflint-notes `migrate` beside `tf_upgrade_v2` (the TF1 -> TF2 script shipped inside TensorFlow) on the fixture
projects of fixtures/migrate/ (written for TF1 / Keras 2), each result run under the installed TensorFlow:

    python bench/migrate_compare.py            # prints a Markdown table (the README's comparison)

Per tool: does the project's script run (train, save, reload), do its modules import, does the notebook run,
how many `tf.*`/`keras.*` attribute chains are still missing from the real modules (tests/migrate_checker.py),
and how many items the tool's report hands to a person.  Every run is a fresh copy in a temporary folder.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROJECTS = sorted(p for p in (ROOT / "fixtures" / "migrate").iterdir() if (p / "entry.json").is_file())
CHECKER = ROOT / "tests" / "migrate_checker.py"


def _env() -> dict:
    env = {k: v for k, v in os.environ.items() if k != "TF_USE_LEGACY_KERAS"}
    env.update(TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="-1", PYTHONDONTWRITEBYTECODE="1")
    return env


def tf_upgrade_v2(project: Path, entry: dict) -> int:
    """Run tf_upgrade_v2 in place over the tree and the notebook; the number of items its report raises."""
    report = project.parent / "tf_upgrade_v2_report.txt"
    main = [sys.executable, "-m", "tensorflow.tools.compatibility.tf_upgrade_v2_main"]
    subprocess.run([*main, "--intree", str(project), "--inplace", "--reportfile", str(report)],
                   capture_output=True, text=True, env=_env(), timeout=600, check=True)
    text = report.read_text()
    notebook = project / entry["notebook"]
    converted = project.parent / "converted.ipynb"
    subprocess.run([*main, "--infile", str(notebook), "--outfile", str(converted), "--reportfile", str(report)],
                   capture_output=True, text=True, env=_env(), timeout=600, check=True)
    shutil.move(converted, notebook)
    text += report.read_text()
    # each raised item appears once in the report's summary lines: "<file>:<line>:<col>: WARNING|ERROR: ..."
    return len(set(re.findall(r"^(\S+:\d+:\d+): (?:WARNING|ERROR):", text, re.MULTILINE)))


def tflint_notes(route: str):
    def run(project: Path, entry: dict) -> int:
        done = subprocess.run([sys.executable, "-m", "tflint_notes", "migrate", "--no-cache", "--write", "--route",
                               route, "--output-format", "json", "--report", "-", "."], cwd=project,
                              capture_output=True, text=True, timeout=600)
        totals = json.loads(done.stdout)["totals"]
        return totals["needs_a_person"] + totals["could_not_decide"]
    return run


def nothing(project: Path, entry: dict) -> int:
    return 0


TOOLS = [("as written", nothing), ("tf_upgrade_v2", tf_upgrade_v2),
         ("tflint-notes migrate --route keras3", tflint_notes("keras3")),
         ("tflint-notes migrate --route tf_keras", tflint_notes("tf_keras"))]


def check(project: Path, entry: dict) -> dict:
    done = subprocess.run([sys.executable, str(CHECKER), str(project), entry["script"], entry["package"],
                           entry["notebook"]], capture_output=True, text=True, env=_env(), timeout=900)
    if done.returncode != 0:
        raise SystemExit(f"checker failed on {project}:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _first_error(trace: str | None) -> str:
    if not trace:
        return "runs"
    last = [line for line in trace.strip().splitlines() if line and not line.startswith(" ")][-1]
    return "fails: " + last[:90].replace("|", "\\|")


def main() -> None:
    print("| project | tool | script | modules import | notebook | missing tf/keras names | items for a person |")
    print("|---|---|---|---|---|---|---|")
    for source in PROJECTS:
        entry = json.loads((source / "entry.json").read_text())
        for label, tool in TOOLS:
            with tempfile.TemporaryDirectory() as folder:
                project = Path(folder) / source.name
                shutil.copytree(source, project)
                items = tool(project, entry)
                result = check(project, entry)
            imports = sum(1 for error in result["imports"].values() if error is None)
            print(f"| {source.name} | {label} | {_first_error(result['script_error'])} | "
                  f"{imports}/{len(result['imports'])} | {_first_error(result['notebook_error'])} | "
                  f"{len(result['unresolved'])} | {items} |", flush=True)


if __name__ == "__main__":
    main()
