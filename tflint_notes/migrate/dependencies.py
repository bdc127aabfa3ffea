"""A project's dependency files on the way to one TensorFlow release, edited where they are written.

- `tensorflow` (any distribution: -cpu, -gpu, [and-cuda]) pinned so that the target is not allowed, or so that
  a Keras 2 release still is: rewritten to `==X.Y.*` (name, extras, marker and comment kept).  Unpinned stays.
- `tf-keras`: the tf_keras route adds `tf-keras==X.Y.*` (it must match TensorFlow's minor) beside each
  TensorFlow requirement, or re-pins one that does not match; the keras3 route removes it when no migrated
  module imports `tf_keras`.
- `keras` pinned below 3: TensorFlow >= 2.16 itself requires Keras 3, so the pin would conflict: `>=3`.
- `tensorflow-estimator` and `tensorflow-addons` pins: a person decides (no release works with Keras 3).

Edited: `requirements*.txt`/`constraints*.txt` (and `requirements/*.txt`) line by line, `pyproject.toml` with
tomlkit (comments and layout kept), `setup.cfg` line by line.  `setup.py` is code, and `Pipfile` / conda
`environment*.yml` are not edited yet: what to change in them is reported.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name

from tflint_notes.project import declared as _declared
from tflint_notes.project.declared import ENVIRONMENT_FILE, REQUIREMENT_FILE, Reading, poetry_specifier
from tflint_notes.project.layout import listdir
from tflint_notes.project.target import KERAS3_FROM, LEGACY_KERAS_DISTRIBUTIONS, TF_DISTRIBUTIONS, allowed_releases, \
    releases

NEEDS_A_PERSON = {
    "tensorflow-estimator": "tf.estimator was removed in TensorFlow 2.16 and this package has no release for it: "
                            "port the Estimator code to Keras (see TFN601), then drop the requirement",
    "tensorflow-addons": "TensorFlow Addons reached end of life and does not support Keras 3: replace the pieces "
                         "you use (most are in keras / keras-cv / keras-nlp), then drop the requirement",
}


@dataclass(frozen=True)
class DependencyChange:
    file: str  # relative to the project root
    line: int
    before: str  # "" for an added requirement
    after: str  # "" for a removed one
    why: str


@dataclass
class DependencyPlan:
    root: str
    changes: list[DependencyChange] = field(default_factory=list)
    new_bytes: dict[str, tuple[bytes, bytes]] = field(default_factory=dict)  # path -> (old, new)
    items: list[tuple[str, str]] = field(default_factory=list)  # (file:line, what a person must do)
    problems: list[str] = field(default_factory=list)  # files that could not be read or edited


@dataclass(frozen=True)
class Policy:
    route: str
    to: tuple[int, int]
    keep_tf_keras: bool  # keras3 route: some migrated module still imports tf_keras

    @property
    def pin(self) -> str:
        return f"=={self.to[0]}.{self.to[1]}.*"

    def new_specifier(self, name: str, specifier: str) -> tuple[str | None, str]:
        """(the specifier to write, why) for one requirement; None when it stays."""
        try:
            spec = SpecifierSet(specifier)
        except InvalidSpecifier:
            return None, ""
        if name in TF_DISTRIBUTIONS:
            if not str(spec):
                return None, ""
            allowed = allowed_releases([spec], releases())
            if self.to in allowed and all(r >= KERAS3_FROM for r in allowed):
                return None, ""
            why = (f"allowed only TensorFlow below {self.to[0]}.{self.to[1]}" if self.to not in allowed else
                   "still allowed a TensorFlow with Keras 2 as tf.keras")
            return self.pin, why
        if name in LEGACY_KERAS_DISTRIBUTIONS and self.route == "tf_keras":
            version = f"{self.to[0]}.{self.to[1]}.0"
            if spec.contains(version, prereleases=True) and str(spec):
                return None, ""
            return self.pin, "tf-keras must match TensorFlow's minor release"
        if name == "keras" and str(spec):
            if any(spec.contains(f"3.{minor}.0", prereleases=True) for minor in range(40)):
                return None, ""
            return ">=3", f"TensorFlow {self.to[0]}.{self.to[1]} requires Keras 3 (a Keras 2 pin cannot be installed with it)"
        return None, ""

    def removes(self, name: str) -> bool:
        return self.route == "keras3" and name in LEGACY_KERAS_DISTRIBUTIONS and not self.keep_tf_keras

    def adds_tf_keras(self) -> bool:
        return self.route == "tf_keras"


def plan(root: str, policy: Policy) -> DependencyPlan:
    """What to change in the dependency files at `root` (nothing is written here)."""
    out = DependencyPlan(root)
    names = sorted(listdir(root))
    requirement_files = [os.path.join(root, n) for n in names if REQUIREMENT_FILE.match(n)]
    folder = os.path.join(root, "requirements")
    if os.path.isdir(folder):
        requirement_files += [os.path.join(folder, n) for n in sorted(listdir(folder)) if n.endswith((".txt", ".in"))]
    for path in requirement_files:
        if os.path.isfile(path):
            _edit(out, path, policy, _requirements_txt)
    for name, editor in (("pyproject.toml", _pyproject), ("setup.cfg", _setup_cfg)):
        path = os.path.join(root, name)
        if os.path.isfile(path):
            _edit(out, path, policy, editor)
    setup_py = os.path.join(root, "setup.py")
    if os.path.isfile(setup_py):
        _report_only(out, setup_py, policy, _declared.read_setup_py)
    for name in names:
        if name == "Pipfile":
            _report_only(out, os.path.join(root, name), policy, _declared.read_pipfile)
        elif ENVIRONMENT_FILE.match(name):
            _report_only(out, os.path.join(root, name), policy, _declared.read_environment_yml)
    return out


def _relative(path: str, root: str) -> str:
    return os.path.relpath(path, root).replace(os.sep, "/")


def _edit(out: DependencyPlan, path: str, policy: Policy, editor) -> None:
    shown = _relative(path, out.root)
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
        text = raw.decode("utf-8")
    except OSError as exc:
        out.problems.append(f"{shown}: cannot read ({exc.strerror or exc})")
        return
    except UnicodeDecodeError:
        out.problems.append(f"{shown}: not UTF-8, not edited")
        return
    before = len(out.changes)
    try:
        new_text = editor(text, shown, policy, out)
    except _Unreadable as exc:
        del out.changes[before:]
        out.problems.append(f"{shown}: {exc}, not edited")
        return
    if new_text != text:
        out.new_bytes[path] = (raw, new_text.encode("utf-8"))


class _Unreadable(Exception):
    pass


# --- one requirement string ----------------------------------------------------------------------------

_NAME = re.compile(r"^(\s*[A-Za-z0-9][A-Za-z0-9._-]*\s*(?:\[[^\]]*\])?)([^;#]*?)(\s*(?:[;#].*)?)$", re.DOTALL)


def _with_specifier(text: str, specifier: str) -> str:
    """`text` with its version specifier replaced (name as written, extras, marker and comment kept)."""
    match = _NAME.match(text)
    if match is None:
        return text
    head, _, tail = match.groups()
    if tail.lstrip().startswith(";") and not tail.startswith(" "):
        tail = " " + tail
    return head.rstrip() + specifier + tail


def _requirement(text: str) -> Requirement | None:
    try:
        req = Requirement(text)
    except InvalidRequirement:
        return None
    return None if req.url else req


REMOVED = ("", "the migrated code no longer imports tf_keras")


def _consider(text: str, where: str, policy: Policy, out: DependencyPlan) -> tuple[str, str] | None:
    """(the requirement's new text, why) — REMOVED to drop it — or None to keep it."""
    req = _requirement(text.split(" #")[0].strip())
    if req is None:
        return None
    name = canonicalize_name(req.name)
    if name in NEEDS_A_PERSON:
        out.items.append((where, f"`{text.strip()}`: {NEEDS_A_PERSON[name]}"))
        return None
    if policy.removes(name):
        return REMOVED
    specifier, why = policy.new_specifier(name, str(req.specifier))
    if specifier is None:
        return None
    return _with_specifier(text, specifier), why


def _tf_keras_line(policy: Policy) -> str:
    return f"tf-keras{policy.pin}"


# --- requirements*.txt ---------------------------------------------------------------------------------

def _requirements_txt(text: str, shown: str, policy: Policy, out: DependencyPlan) -> str:
    lines = text.splitlines(keepends=True)
    constraints = os.path.basename(shown).lower().startswith("constraints")
    names = set()
    for line in lines:
        req = _requirement(re.sub(r"(^|\s)#.*$", "", line).strip())
        if req is not None:
            names.add(canonicalize_name(req.name))
    result = []
    for number, line in enumerate(lines, 1):
        body = line.rstrip("\r\n")
        ending = line[len(body):]
        stripped = re.sub(r"(^|\s)#.*$", "", body).strip()
        if not stripped or stripped.startswith("-") or body.endswith("\\"):
            result.append(line)
            continue
        where = f"{shown}:{number}"
        if "--hash" in body:
            req = _requirement(stripped.split()[0])
            if req is not None and canonicalize_name(req.name) in TF_DISTRIBUTIONS:
                out.items.append((where, "hash-pinned TensorFlow requirement: regenerate the file (pip-compile) for "
                                         f"TensorFlow {policy.to[0]}.{policy.to[1]}"))
            result.append(line)
            continue
        new = _consider(body, where, policy, out)
        req = _requirement(stripped)
        if new is None:
            result.append(line)
        elif new == REMOVED:
            out.changes.append(DependencyChange(shown, number, body, *REMOVED))
        else:
            new_text, why = new
            result.append(new_text + ending)
            out.changes.append(DependencyChange(shown, number, body, new_text, why))
        if (req is not None and canonicalize_name(req.name) in TF_DISTRIBUTIONS and policy.adds_tf_keras()
                and not constraints and not names & LEGACY_KERAS_DISTRIBUTIONS):
            added = _tf_keras_line(policy)
            if ending:
                result.append(added + ending)
            else:
                result[-1] += "\n"
                result.append(added)
            out.changes.append(DependencyChange(shown, number + 1, "", added,
                                                "the tf_keras route: tf.keras is tf-keras (Keras 2)"))
            names |= {"tf-keras"}
    return "".join(result)


# --- pyproject.toml ------------------------------------------------------------------------------------

def _pyproject(text: str, shown: str, policy: Policy, out: DependencyPlan) -> str:
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    try:
        document = tomlkit.parse(text)
    except TOMLKitError as exc:
        raise _Unreadable(f"invalid TOML ({exc})") from exc
    project = document.get("project")
    lists = []
    if isinstance(project, dict):
        lists.append(project.get("dependencies"))
        optional = project.get("optional-dependencies")
        lists += list(optional.values()) if isinstance(optional, dict) else []
    groups = document.get("dependency-groups")
    lists += list(groups.values()) if isinstance(groups, dict) else []
    for values in lists:
        if isinstance(values, list):
            _toml_list(values, text, shown, policy, out)
    tool = document.get("tool")
    poetry = tool.get("poetry") if isinstance(tool, dict) else None
    if isinstance(poetry, dict):
        tables = [poetry.get("dependencies")]
        if isinstance(poetry.get("group"), dict):
            tables += [t.get("dependencies") for t in poetry["group"].values() if isinstance(t, dict)]
        for table in tables:
            if isinstance(table, dict):
                _poetry_table(table, text, shown, policy, out)
    return tomlkit.dumps(document)


def _line_of(text: str, needle: str) -> int:
    index = text.find(needle)
    return text.count("\n", 0, index) + 1 if index >= 0 else 1


def _toml_list(values, text: str, shown: str, policy: Policy, out: DependencyPlan) -> None:
    requirements = [_requirement(str(v)) if isinstance(v, str) else None for v in values]
    has_tf_keras = any(r is not None and canonicalize_name(r.name) in LEGACY_KERAS_DISTRIBUTIONS for r in requirements)
    index = 0
    while index < len(values):
        value = values[index]
        if not isinstance(value, str):
            index += 1
            continue
        value = str(value)
        line = _line_of(text, value)
        new = _consider(value, f"{shown}:{line}", policy, out)
        req = _requirement(value)
        if new == REMOVED:
            values.pop(index)
            out.changes.append(DependencyChange(shown, line, value, *REMOVED))
            continue
        if new is not None:
            new_text, why = new
            values[index] = new_text
            out.changes.append(DependencyChange(shown, line, value, new_text, why))
        if (req is not None and canonicalize_name(req.name) in TF_DISTRIBUTIONS and policy.adds_tf_keras()
                and not has_tf_keras):
            added = _tf_keras_line(policy)
            values.insert(index + 1, added)
            out.changes.append(DependencyChange(shown, line + 1, "", added,
                                                "the tf_keras route: tf.keras is tf-keras (Keras 2)"))
            has_tf_keras = True
            index += 1
        index += 1


def _poetry_table(table, text: str, shown: str, policy: Policy, out: DependencyPlan) -> None:
    keys = list(table.keys())
    has_tf_keras = any(canonicalize_name(k) in LEGACY_KERAS_DISTRIBUTIONS for k in keys)
    for key in keys:
        name = canonicalize_name(key)
        value = table[key]
        spec_text = value.get("version") if isinstance(value, dict) else value
        if not isinstance(spec_text, str):
            continue
        spec_text = str(spec_text)
        line = _line_of(text, key)
        converted = poetry_specifier(spec_text)
        if converted is None:
            out.problems.append(f"{shown}:{line}: cannot read Poetry version {spec_text!r} of {key}")
            continue
        if name in NEEDS_A_PERSON:
            out.items.append((f"{shown}:{line}", f"`{key} = {spec_text!r}`: {NEEDS_A_PERSON[name]}"))
            continue
        if policy.removes(name):
            del table[key]
            out.changes.append(DependencyChange(shown, line, f"{key} = {spec_text!r}", *REMOVED))
            continue
        specifier, why = policy.new_specifier(name, converted)
        if specifier is not None:
            poetry_text = specifier[2:] if specifier.startswith("==") else specifier
            if isinstance(value, dict):
                value["version"] = poetry_text
            else:
                table[key] = poetry_text
            out.changes.append(DependencyChange(shown, line, f"{key} = {spec_text!r}", f"{key} = {poetry_text!r}", why))
        if name in TF_DISTRIBUTIONS and policy.adds_tf_keras() and not has_tf_keras:
            poetry_pin = policy.pin[2:]
            table.add("tf-keras", poetry_pin)
            out.changes.append(DependencyChange(shown, line, "", f"tf-keras = {poetry_pin!r}",
                                                "the tf_keras route: tf.keras is tf-keras (Keras 2)"))
            has_tf_keras = True


# --- setup.cfg -----------------------------------------------------------------------------------------

_SECTION = re.compile(r"^\[([^\]]+)\]\s*$")
_KEY = re.compile(r"^([A-Za-z0-9_.-]+)\s*[=:]\s*(.*)$")


def _setup_cfg(text: str, shown: str, policy: Policy, out: DependencyPlan) -> str:
    """`install_requires` in [options] and every key of [options.extras_require]: one requirement per
    line, edited in place (configparser would drop the comments)."""
    lines = text.splitlines(keepends=True)
    section, key_in = "", None
    result = []
    has_tf_keras = bool(re.search(r"^\s*tf[-_]keras\b", text, re.MULTILINE | re.IGNORECASE))
    for number, line in enumerate(lines, 1):
        body = line.rstrip("\r\n")
        ending = line[len(body):]
        header = _SECTION.match(body)
        if header:
            section, key_in = header.group(1).strip(), None
            result.append(line)
            continue
        value = None
        key = _KEY.match(body) if body and not body[0].isspace() else None
        if key:
            name = key.group(1)
            wanted = (section == "options" and name == "install_requires") or section == "options.extras_require"
            key_in = name if wanted else None
            value = key.group(2) if wanted and key.group(2).strip() else None
            prefix = body[:len(body) - len(key.group(2))] if value is not None else None
        elif key_in is not None and body[:1].isspace() and body.strip() and not body.strip().startswith(("#", ";")):
            value, prefix = body.strip(), body[:len(body) - len(body.lstrip())]
        elif body.strip() and not body[:1].isspace():
            key_in = None
        if value is None:
            result.append(line)
            continue
        where = f"{shown}:{number}"
        new = _consider(value, where, policy, out)
        req = _requirement(value.split(" #")[0].strip())
        if new == REMOVED:
            out.changes.append(DependencyChange(shown, number, value, *REMOVED))
            if key:
                result.append(prefix.rstrip() + ending)
            continue
        if new is not None:
            new_text, why = new
            result.append(prefix + new_text + ending)
            out.changes.append(DependencyChange(shown, number, value, new_text, why))
        else:
            result.append(line)
        if (req is not None and canonicalize_name(req.name) in TF_DISTRIBUTIONS and policy.adds_tf_keras()
                and not has_tf_keras and not key):
            added = _tf_keras_line(policy)
            result.append(prefix + added + (ending or "\n"))
            out.changes.append(DependencyChange(shown, number + 1, "", added,
                                                "the tf_keras route: tf.keras is tf-keras (Keras 2)"))
            has_tf_keras = True
    return "".join(result)


# --- setup.py, Pipfile, environment.yml: reported -----------------------------------------------------

def _report_only(out: DependencyPlan, path: str, policy: Policy, reader) -> None:
    """setup.py is code; Pipfile and conda's environment.yml are not edited yet: say what to change."""
    reading = Reading()
    reader(reading, path, out.root)
    shown = _relative(path, out.root)
    out.problems.extend(f"{p} (edit by hand)" for p in reading.problems)
    names = {d.name for d in reading.declared}
    for req in reading.declared:
        if req.name in NEEDS_A_PERSON:
            out.items.append((req.where, f"`{req.text}`: {NEEDS_A_PERSON[req.name]}"))
            continue
        if policy.removes(req.name):
            out.items.append((req.where, f"{shown} is not edited: remove `{req.text}` (the migrated code no "
                                         f"longer imports tf_keras)"))
            continue
        specifier, why = policy.new_specifier(req.name, req.specifier)
        if specifier is not None:
            out.items.append((req.where, f"{shown} is not edited: change `{req.text}` to "
                                         f"`{_with_specifier(req.text, specifier)}` ({why})"))
        if req.name in TF_DISTRIBUTIONS and policy.adds_tf_keras() and not names & LEGACY_KERAS_DISTRIBUTIONS:
            out.items.append((req.where, f"{shown} is not edited: add `{_tf_keras_line(policy)}` beside "
                                         f"`{req.text}` (the tf_keras route)"))
            names |= {"tf-keras"}
