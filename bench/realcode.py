"""What every rule reports on real code nobody here wrote, compared with a committed baseline.

    python bench/realcode.py                    # installed keras, tf_keras, tensorflow/python + the corpus
    python bench/realcode.py --download         # first fetch the corpus of TF projects (pip download --no-deps)
    python bench/realcode.py --installed-only   # only the installed packages (what CI has)
    python bench/realcode.py --write-baseline   # record the current counts in bench/realcode-baseline.json
    python bench/realcode.py --list FILE        # also write every finding (path:line:col: CODE message) to FILE
    python bench/realcode.py --rules TFN6       # only these rules (prefixes)
    python bench/realcode.py --silenced         # also count what the projects' declared targets silence

Each root is linted as its own project (issue 22): the installed packages and the unpacked wheels through their
`*.dist-info/METADATA`, the repositories under `$TFLINT_NOTES_CORPUS/repos/` through their requirement files.
The baseline records each root's target (`tflint-notes check --show-target`), so its diff says why findings
went silent; `--silenced` runs every root a second time against TF 2.21 + Keras 3 (the fixed world of earlier
versions) and counts, per rule, the findings that only the declared target silences.

Every rule runs, the off-by-default ones included.  Findings are counted per rule and per kind of directory:
`tests` (a tests/ or test/ folder, test_*.py, *_test.py), `examples` (examples, tutorials, docs, notebooks,
colabs) and `library` (the rest).  The table shows, per rule, the counts now and the baseline's, so a change
that adds or removes findings on real code is visible in the diff of the baseline file.  Exit status 1 with
`--check` when the counts differ from the baseline (CI runs it on the installed packages).
"""

from __future__ import annotations

import argparse
import json
import random
import os
import re
import subprocess
import sys
import sysconfig
import tempfile
import zipfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "bench" / "realcode-baseline.json"
CORPUS = Path(os.environ.get("TFLINT_NOTES_CORPUS", Path.home() / ".cache" / "tflint-notes-corpus"))
INSTALLED = ("keras", "tf_keras", "tensorflow/python")
# Real TF/Keras projects from PyPI (sources only, no dependencies): Keras 3, tf_keras and TF1-era code.
PROJECTS = (
    "transformers==4.46.3", "tensorflow-probability==0.25.0", "tensorflow-datasets==4.9.10",
    "tensorflow-hub==0.16.1", "tensorflow-text==2.21.1", "tensorflow-ranking==0.5.5", "keras-tuner==1.4.8",
    "autokeras==3.0.0", "keras-cv-attention-models==1.4.3", "kapre==0.4.1", "larq==0.14.0", "larq-zoo==2.4.0",
    "deepface==0.0.103", "mtcnn==1.0.0", "deepctr==0.9.4", "gpflow==2.11.2", "ddsp==3.7.0", "magenta==2.1.4",
    "mesh-tensorflow==0.1.21", "lingvo==0.14.2", "tf-models-official==2.20.0", "tensorflow-addons==0.23.0",
    "tf-agents==0.19.0", "keras-cv==0.9.0", "tensor2tensor==1.15.7", "dm-sonnet==2.0.2", "tensorflow-gan==2.1.0",
    "tensorflow-model-optimization==0.8.1", "tensorflow-recommenders==0.7.7", "keras-hub==0.32.0",
    "tensorflow-io==0.37.1", "trfl==1.2.0", "edward2==0.0.2", "tensorflow-similarity==0.17.1",
)
_TESTS = re.compile(r"(^|/)(tests?|testing)/|(^|/)test_[^/]*\.py$|_test\.py$")
_EXAMPLES = re.compile(r"(^|/)(examples?|tutorials?|docs?|notebooks?|colabs?|samples?|demos?)/")


def kind_of(relative: str) -> str:
    if _TESTS.search(relative):
        return "tests"
    if _EXAMPLES.search(relative):
        return "examples"
    return "library"


def installed_roots() -> list[tuple[str, Path]]:
    site = Path(sysconfig.get_paths()["purelib"])
    return [(name, site / name) for name in INSTALLED if (site / name).is_dir()]


def corpus_roots() -> list[tuple[str, Path]]:
    """Unpacked wheels (`src/`) and whole repositories with their requirement files (`repos/`)."""
    roots = []
    for folder in ("src", "repos"):
        source = CORPUS / folder
        if source.is_dir():
            roots += sorted((p.name, p) for p in source.iterdir() if p.is_dir())
    return roots


def targets(root: Path) -> list[str]:
    """`--show-target` of a root, its first line (the project folder) made relative."""
    with tempfile.TemporaryDirectory() as tmp:  # from a neutral directory: roots are shown as absolute paths
        proc = subprocess.run([sys.executable, "-m", "tflint_notes", "check", "--isolated", "--no-cache",
                               "--show-target", str(root)], capture_output=True, text=True, cwd=tmp,
                              env=dict(os.environ, PYTHONPATH=str(ROOT)))
    lines = []
    for line in proc.stdout.splitlines():
        if not line.startswith(" ") and ": " in line:
            path, count = line.rsplit(": ", 1)
            line = f"{os.path.relpath(path, root) if os.path.isabs(path) else path}: {count}"
        if "TensorFlow" in line or "tf.keras" in line or "keras:" in line or not line.startswith(" "):
            lines.append(line.strip())
    return lines


def download() -> None:
    wheels, source = CORPUS / "wheels", CORPUS / "src"
    wheels.mkdir(parents=True, exist_ok=True)
    for project in PROJECTS:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", project, "-d", str(wheels)],
                       check=False)
    for wheel in sorted(wheels.glob("*.whl")):
        target = source / wheel.name.split("-", 1)[0]
        if not target.is_dir():
            with zipfile.ZipFile(wheel) as archive:
                archive.extractall(target)


def findings(name: str, root: Path, codes: str, jobs: int, extra: tuple = ()) -> list[dict]:
    """Every finding of `codes` under `root` (through the CLI, as a user runs it)."""
    with tempfile.TemporaryDirectory() as tmp:
        # a copy-free run: the CLI is pointed at the tree itself, from a neutral directory
        proc = subprocess.run([sys.executable, "-m", "tflint_notes", "check", "--isolated", "--no-cache",
                               "--select", codes, "--output-format", "json", "--jobs", str(jobs),
                               "--exit-zero", *extra, str(root)], capture_output=True, text=True, cwd=tmp,
                              env=dict(os.environ, PYTHONPATH=str(ROOT)))
    if proc.returncode not in (0, 2):
        sys.exit(f"realcode: tflint-notes failed on {root}:\n{proc.stderr[-3000:]}")
    items = json.loads(proc.stdout or "[]")
    for item in items:
        relative = os.path.relpath(item["filename"], root)
        item["relative"] = f"{name}/{relative}"
        item["kind"] = kind_of(relative.replace(os.sep, "/"))
    return items


def print_sample(items: list[dict], code: str, n: int, seed: int, context: int = 4) -> None:
    """N findings of `code`, drawn at random (reproducibly: `seed`), each with the source lines around it:
    what a reader needs to say whether the code really fails."""
    pool = sorted((i for i in items if i["code"] == code), key=lambda i: (i["relative"], i["location"]["row"]))
    picked = random.Random(seed).sample(pool, min(n, len(pool)))
    print(f"\n{len(picked)} of {len(pool)} {code} findings (seed {seed}):")
    for item in sorted(picked, key=lambda i: (i["relative"], i["location"]["row"])):
        row = item["location"]["row"]
        print(f"\n--- {item['relative']}:{row}: {item['message']}")
        try:
            text = Path(item["filename"]).read_text(encoding="utf-8", errors="replace")
            if item.get("cell") is not None:  # a notebook: rows count within the code cell
                source = json.loads(text)["cells"][item["cell"] - 1]["source"]
                text = "".join(source) if isinstance(source, list) else source
                print(f"    (cell {item['cell']})")
        except (OSError, ValueError, LookupError):
            continue
        lines = text.splitlines()
        for number in range(max(1, row - context), min(len(lines), row + context) + 1):
            print(f"{'>' if number == row else ' '}{number:>6}  {lines[number - 1]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--download", action="store_true", help="fetch the corpus of TF projects first")
    parser.add_argument("--installed-only", action="store_true", help="only the installed keras/tf_keras/tensorflow")
    parser.add_argument("--write-baseline", action="store_true", help="record these counts as the baseline")
    parser.add_argument("--check", action="store_true", help="exit 1 if the counts differ from the baseline")
    parser.add_argument("--list", metavar="FILE", help="write every finding to FILE")
    parser.add_argument("--rules", default="TFN", help="codes or prefixes, comma-separated (default: all)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--sample", type=int, metavar="N",
                        help="print N findings of --rule with their source lines, for a reader to judge")
    parser.add_argument("--rule", metavar="CODE", help="the rules --sample draws from, comma-separated (only they run)")
    parser.add_argument("--seed", type=int, default=0, help="which sample --sample draws (default 0)")
    parser.add_argument("--silenced", action="store_true",
                        help="also run against TF 2.21 + Keras 3 and count what the declared targets silence")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from tflint_notes.rule import all_rules

    if args.sample is not None and not args.rule:
        parser.error("--sample needs --rule CODE")
    if args.rule:
        args.rules = args.rule
    prefixes = tuple(p.strip().upper() for p in args.rules.split(",") if p.strip())
    rules = {code: rule for code, rule in all_rules().items() if code.startswith(prefixes)}
    codes = ",".join(rules)
    if args.download:
        download()
    roots = installed_roots() + ([] if args.installed_only else corpus_roots())
    if not roots:
        sys.exit("realcode: nothing to read (install the test extra; --download for the corpus)")
    counts: dict[str, Counter] = {}
    per_root: dict[str, Counter] = {}
    listed: list[str] = []
    every: list[dict] = []
    root_targets: dict[str, list[str]] = {}
    silenced: dict[str, Counter] = {}
    silenced_by_root: dict[str, Counter] = {}
    for name, root in roots:
        root_targets[name] = targets(root)
        found = findings(name, root, codes, args.jobs)
        every.extend(found)
        for item in found:
            counts.setdefault(item["code"], Counter())[item["kind"]] += 1
            per_root.setdefault(name, Counter())[item["code"]] += 1
            listed.append(f"{item['relative']}:{item['location']['row']}:{item['location']['column']}: "
                          f"{item['code']} {item['message']}")
        if args.silenced:
            seen = {(i["relative"], i["location"]["row"], i["location"]["column"], i["code"]) for i in found}
            for item in findings(name, root, codes, args.jobs, ("--target-tensorflow", "2.21", "--keras", "keras3")):
                if (item["relative"], item["location"]["row"], item["location"]["column"], item["code"]) not in seen:
                    silenced.setdefault(item["code"], Counter())[item["kind"]] += 1
                    silenced_by_root.setdefault(name, Counter())[item["code"]] += 1
    section = "installed" if args.installed_only else "all"
    current = {code: dict(sorted(counts.get(code, Counter()).items())) for code in rules}
    baseline_data = json.loads(BASELINE.read_text()) if BASELINE.exists() else {}
    baseline = baseline_data.get(section, {}).get("rules", {})

    kinds = ("library", "tests", "examples")
    print(f"{'rule':<7} {'default':<7} " + " ".join(f"{k:>8}" for k in kinds) + f" {'total':>7} {'baseline':>8}")
    changed = []
    for code, rule in rules.items():
        now = current[code]
        total = sum(now.values())
        before = sum(baseline.get(code, {}).values()) if code in baseline else None
        mark = ""
        if before is not None and baseline.get(code, {}) != now:
            mark = "  *"
            changed.append(code)
        print(f"{code:<7} {'on' if rule.default_enabled else 'off':<7} " + " ".join(f"{now.get(k, 0):>8}" for k in kinds)
              + f" {total:>7} {before if before is not None else '-':>8}{mark}")
    default_total = sum(sum(current[c].values()) for c, r in rules.items() if r.default_enabled)
    print(f"default rules: {default_total} findings; all rules: {sum(sum(v.values()) for v in current.values())}; "
          f"files read under {len(roots)} roots")
    print("per root (top 15): " + ", ".join(f"{name} {sum(c.values())}" for name, c in
                                            sorted(per_root.items(), key=lambda kv: -sum(kv[1].values()))[:15]))
    if args.silenced:
        print("silenced by the declared targets (reported against TF 2.21 + Keras 3): " + (", ".join(
            f"{code} {sum(c.values())}" for code, c in sorted(silenced.items())) or "none"))
        for name, c in sorted(silenced_by_root.items(), key=lambda kv: -sum(kv[1].values())):
            print(f"  {name}: {sum(c.values())} ({', '.join(f'{k} {v}' for k, v in sorted(c.items()))}); "
                  f"{' | '.join(root_targets[name][1:3])}")
    if args.sample is not None:
        for code in rules:
            print_sample(every, code, args.sample, args.seed)
    if args.list:
        Path(args.list).write_text("\n".join(sorted(listed)) + "\n", encoding="utf-8")
    if args.write_baseline:
        baseline_data[section] = {"roots": [name for name, _ in roots], "rules": current, "targets": root_targets}
        if args.silenced:
            baseline_data[section]["silenced_by_target"] = {
                code: dict(sorted(c.items())) for code, c in sorted(silenced.items())}
        BASELINE.write_text(json.dumps(baseline_data, indent=1, sort_keys=True) + "\n")
        print(f"wrote {BASELINE.relative_to(ROOT)} [{section}]")
    if args.check and changed:
        print(f"differs from the baseline: {', '.join(changed)} (run with --write-baseline if intended)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
