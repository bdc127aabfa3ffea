"""What a project declares it depends on, read from its description files and never executed.

Sources: `pyproject.toml` (PEP 621 dependencies and optional dependencies, dependency groups, Poetry),
`setup.py` (`install_requires`/`extras_require` when they are literals, read from CPython's AST),
`setup.cfg`, `requirements*.txt`/`constraints*.txt` (and `requirements/*.txt`, following `-r`/`-c`),
`environment*.yml` (conda and its `pip:` list), `Pipfile`, and the `*.dist-info/METADATA` of an unpacked
wheel or an installed distribution.  Requirement strings are parsed by PyPA `packaging`.

Everything that cannot be read (a computed `install_requires`, a line `packaging` rejects, a file that is not
UTF-8) becomes a `problem` naming the file and line: the target then rests on what could be read.
"""

from __future__ import annotations

import ast
import configparser
import hashlib
import os
import re
import tomllib
from dataclasses import dataclass, field

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

REQUIREMENT_FILE = re.compile(r"^(requirements|constraints)[\w.-]*\.(txt|in)$", re.IGNORECASE)
ENVIRONMENT_FILE = re.compile(r"^environment[\w.-]*\.ya?ml$", re.IGNORECASE)
MAX_FILE_BYTES = 2 << 20  # a "requirements.txt" of megabytes is not a requirement file
MAX_INCLUDE_DEPTH = 10


@dataclass(frozen=True)
class Declared:
    """One requirement on a distribution, as written in one place."""

    name: str  # canonical distribution name: "tensorflow-cpu", "tf-keras"
    specifier: str  # PEP 440 specifier set, "" for any version
    where: str  # "setup.py:41", relative to the project root
    text: str  # the requirement as written
    extras: tuple[str, ...] = ()
    group: str = ""  # the extra / optional group it belongs to ("" = required)
    conditional: bool = False  # only in some environments or with an extra (a marker, an optional group)


@dataclass
class Reading:
    """What reading a project's description files gave."""

    declared: list[Declared] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)  # path read -> digest of its bytes
    packages: set[str] = field(default_factory=set)  # top-level packages/modules named by setuptools
    package_dirs: list[str] = field(default_factory=list)  # folders setuptools finds packages in ("src")

    def read_text(self, path: str, root: str) -> str | None:
        """The text of `path`, recorded in `files`; None (and a problem) if it cannot be read as UTF-8."""
        shown = _relative(path, root)
        try:
            if os.path.getsize(path) > MAX_FILE_BYTES:
                self.problems.append(f"{shown}: larger than {MAX_FILE_BYTES >> 20} MB, not read")
                return None
            with open(path, "rb") as handle:
                raw = handle.read()
        except OSError as exc:
            self.problems.append(f"{shown}: cannot read ({exc.strerror or exc})")
            return None
        self.files[path] = hashlib.blake2b(raw, digest_size=16).hexdigest()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            self.problems.append(f"{shown}: not UTF-8 ({exc.reason} at byte {exc.start}), not read")
            return None
        return text

    def add(self, raw: str, where: str, group: str = "") -> None:
        """Parse one requirement string; unparsable ones become problems."""
        text = raw.strip()
        if not text:
            return
        try:
            req = Requirement(text)
        except InvalidRequirement as exc:
            self.problems.append(f"{where}: cannot parse requirement {text!r} ({str(exc).splitlines()[0]})")
            return
        self.declared.append(Declared(canonicalize_name(req.name), str(req.specifier), where, text,
                                      tuple(sorted(req.extras)), group, req.marker is not None or bool(group)))


def _relative(path: str, root: str) -> str:
    try:
        rel = os.path.relpath(path, root)
    except ValueError:
        return path
    return rel.replace(os.sep, "/")


def _line_of(text: str, needle: str, default: int = 1) -> int:
    """The line on which `needle` first appears in `text` (TOML and INI parsers give no positions)."""
    index = text.find(needle)
    return text.count("\n", 0, index) + 1 if index >= 0 else default


# -- requirement files --------------------------------------------------------------------------------

_OPTION_WITH_FILE = re.compile(r"^(-r|--requirement|-c|--constraint)(\s*=\s*|\s+)(?P<file>\S+)")
_TRAILING_OPTIONS = re.compile(r"\s+(--hash|--install-option|--global-option|--config-settings)\b.*$")


def read_requirements_file(reading: Reading, path: str, root: str, group: str = "", _depth: int = 0,
                           _seen: set | None = None) -> None:
    seen = _seen if _seen is not None else set()
    real = os.path.realpath(path)
    if real in seen:
        return  # `-r` cycles
    seen.add(real)
    text = reading.read_text(path, root)
    if text is None:
        return
    shown = _relative(path, root)
    logical: list[tuple[int, str]] = []
    pending, start = "", 0
    for number, line in enumerate(text.splitlines(), 1):
        if not pending:
            start = number
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append((start, pending + line))
        pending = ""
    if pending:
        logical.append((start, pending))
    for number, line in logical:
        line = re.sub(r"(^|\s)#.*$", "", line).strip()
        if not line:
            continue
        where = f"{shown}:{number}"
        include = _OPTION_WITH_FILE.match(line)
        if include:
            if _depth >= MAX_INCLUDE_DEPTH:
                reading.problems.append(f"{where}: includes nested more than {MAX_INCLUDE_DEPTH} deep, not followed")
                continue
            target = include.group("file")
            if "://" in target:
                reading.problems.append(f"{where}: {target} is a URL, not read")
                continue
            full = os.path.normpath(os.path.join(os.path.dirname(path), target))
            if not os.path.isfile(full):
                reading.problems.append(f"{where}: included file {target} not found")
                continue
            read_requirements_file(reading, full, root, group, _depth + 1, seen)
            continue
        if line.startswith("-"):
            continue  # -e ., --index-url, --pre, -f ...: not a requirement on a distribution
        if "://" in line.split(";")[0] and "@" not in line:
            continue  # a bare URL or VCS reference names no distribution we can judge
        if line.startswith((".", "/")) or line.endswith((".whl", ".tar.gz", ".zip")):
            continue  # a local path
        reading.add(_TRAILING_OPTIONS.sub("", line), where, group)


def _toml(reading: Reading, text: str, shown: str) -> dict | None:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        reading.problems.append(f"{shown}: invalid TOML ({exc}), not read")
        return None


# -- pyproject.toml -----------------------------------------------------------------------------------

def read_pyproject(reading: Reading, path: str, root: str) -> dict | None:
    text = reading.read_text(path, root)
    if text is None:
        return None
    shown = _relative(path, root)
    data = _toml(reading, text, shown)
    if data is None:
        return None
    project = data.get("project") if isinstance(data.get("project"), dict) else {}

    def strings(values, group: str) -> None:
        if not isinstance(values, list):
            return
        for value in values:
            if isinstance(value, str):
                reading.add(value, f"{shown}:{_line_of(text, value)}", group)

    strings(project.get("dependencies"), "")
    optional = project.get("optional-dependencies")
    if isinstance(optional, dict):
        for group, values in optional.items():
            strings(values, str(group))
    groups = data.get("dependency-groups")
    if isinstance(groups, dict):
        for group, values in groups.items():
            strings(values, str(group))
    tool = data.get("tool") if isinstance(data.get("tool"), dict) else {}
    setuptools = tool.get("setuptools") if isinstance(tool.get("setuptools"), dict) else {}
    dynamic = setuptools.get("dynamic") if isinstance(setuptools.get("dynamic"), dict) else {}
    for key in ("dependencies", "optional-dependencies"):
        spec = dynamic.get(key)
        if key in project.get("dynamic", ()) and isinstance(spec, dict) and isinstance(spec.get("file"), (str, list)):
            files = [spec["file"]] if isinstance(spec["file"], str) else spec["file"]
            for name in files:
                full = os.path.normpath(os.path.join(root, str(name)))
                if os.path.isfile(full) and full not in reading.files:
                    read_requirements_file(reading, full, root)
    packages = setuptools.get("packages")
    if isinstance(packages, list):
        reading.packages.update(p.split(".")[0] for p in packages if isinstance(p, str))
    elif isinstance(packages, dict) and isinstance(packages.get("find"), dict):
        where = packages["find"].get("where")
        if isinstance(where, list):
            reading.package_dirs.extend(w for w in where if isinstance(w, str))
    package_dir = setuptools.get("package-dir")
    if isinstance(package_dir, dict):
        _package_dir(reading, package_dir)
    poetry = tool.get("poetry") if isinstance(tool.get("poetry"), dict) else {}
    _poetry(reading, poetry, text, shown)
    return data


def _package_dir(reading: Reading, mapping: dict) -> None:
    for name, folder in mapping.items():
        if not isinstance(folder, str):
            continue
        if name == "":
            reading.package_dirs.append(folder)
        elif isinstance(name, str):
            reading.packages.add(name.split(".")[0])


def _poetry(reading: Reading, poetry: dict, text: str, shown: str) -> None:
    tables = [("", poetry.get("dependencies")), ("dev", poetry.get("dev-dependencies"))]
    groups = poetry.get("group")
    if isinstance(groups, dict):
        tables += [(str(g), t.get("dependencies")) for g, t in groups.items() if isinstance(t, dict)]
    for group, table in tables:
        if not isinstance(table, dict):
            continue
        for name, value in table.items():
            if name == "python":
                continue
            spec = value.get("version") if isinstance(value, dict) else value
            if not isinstance(spec, str):
                spec = "*"
            where = f"{shown}:{_line_of(text, name)}"
            converted = poetry_specifier(spec)
            if converted is None:
                reading.problems.append(f"{where}: cannot read Poetry version {spec!r} of {name}")
                continue
            reading.add(f"{name}{converted}", where, group)


def poetry_specifier(spec: str) -> str | None:
    """Poetry's `^2.12`, `~2.12`, `2.12.*`, `>=2.10,<2.16` and `*` as a PEP 440 specifier set."""
    parts = []
    for piece in re.split(r"\s*,\s*|\s+", spec.strip()):
        if piece in ("", "*"):
            continue
        match = re.fullmatch(r"([\^~])(\d+(?:\.\d+)*)", piece)
        if match:
            numbers = [int(n) for n in match.group(2).split(".")]
            if match.group(1) == "^":
                index = next((i for i, n in enumerate(numbers) if n), len(numbers) - 1)
            else:
                index = min(1, len(numbers) - 1) if len(numbers) > 1 else 0
            upper = numbers[:index + 1]
            upper[-1] += 1
            parts += [f">={match.group(2)}", "<" + ".".join(map(str, upper))]
        elif re.fullmatch(r"\d+(?:\.\d+)*(?:\.\*)?", piece):
            parts.append(f"=={piece}")
        elif re.fullmatch(r"(===|==|!=|<=|>=|<|>|~=)\s*[\w.*+!-]+", piece):
            parts.append(piece.replace(" ", ""))
        else:
            return None
    return ",".join(parts)


# -- setup.py -----------------------------------------------------------------------------------------

class _NotLiteral(Exception):
    pass


def read_setup_py(reading: Reading, path: str, root: str) -> None:
    text = reading.read_text(path, root)
    if text is None:
        return
    shown = _relative(path, root)
    try:
        tree = ast.parse(text, filename=path)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        line = getattr(exc, "lineno", None)
        reading.problems.append(f"{shown}{':' + str(line) if line else ''}: does not parse "
                                f"({getattr(exc, 'msg', exc)}), not read")
        return
    names: dict[str, ast.expr] = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            names[stmt.targets[0].id] = stmt.value
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value is not None:
            names[stmt.target.id] = stmt.value
    for name in _changed_names(tree):
        names.pop(name, None)  # `REQUIRED += [...]` under an `if`, assigned in branches: computed
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call) and (
        (isinstance(node.func, ast.Name) and node.func.id == "setup")
        or (isinstance(node.func, ast.Attribute) and node.func.attr == "setup"))]
    for call in calls:
        for keyword in call.keywords:
            if keyword.arg == "install_requires":
                _setup_requirements(reading, keyword.value, names, shown, "", "install_requires")
            elif keyword.arg == "extras_require":
                value = _resolve(keyword.value, names)
                if isinstance(value, ast.Dict):
                    for key, item in zip(value.keys, value.values):
                        group = key.value if isinstance(key, ast.Constant) and isinstance(key.value, str) else "?"
                        _setup_requirements(reading, item, names, shown, group, f"extras_require[{group!r}]")
                else:
                    reading.problems.append(f"{shown}:{keyword.value.lineno}: extras_require is computed, not read")
            elif keyword.arg in ("packages", "py_modules"):
                try:
                    values = _literal_strings(keyword.value, names)
                except _NotLiteral:
                    continue  # find_packages(): the layout says which packages there are
                reading.packages.update(v.split(".")[0] for v in values)
            elif keyword.arg == "package_dir":
                value = _resolve(keyword.value, names)
                try:
                    mapping = ast.literal_eval(value)
                except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                    continue
                if isinstance(mapping, dict):
                    _package_dir(reading, mapping)


_CONTAINERS = (ast.If, ast.Try, ast.For, ast.While, ast.With, ast.ExceptHandler)


def _changed_names(tree: ast.Module) -> set[str]:
    """Module-level names bound more than once, augmented, or grown with `.append`/`.extend`/`.insert`
    (outside functions): their value is not the literal they were first given."""
    counts: dict[str, int] = {}
    changed: set[str] = set()
    stack = list(tree.body)
    while stack:
        stmt = stack.pop()
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        for node in ast.walk(stmt) if not isinstance(stmt, _CONTAINERS) else ():
            if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
                changed.add(node.target.id)
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                for target in (node.targets if isinstance(node, ast.Assign) else [node.target]):
                    if isinstance(target, ast.Name):
                        counts[target.id] = counts.get(target.id, 0) + 1
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                  and node.func.attr in ("append", "extend", "insert") and isinstance(node.func.value, ast.Name)):
                changed.add(node.func.value.id)
        for field in ("body", "orelse", "finalbody", "handlers"):
            stack.extend(getattr(stmt, field, ()) if not isinstance(stmt, (ast.FunctionDef, ast.ClassDef)) else ())
    return changed | {name for name, count in counts.items() if count > 1}


def _resolve(node: ast.expr, names: dict, depth: int = 0) -> ast.expr:
    while isinstance(node, ast.Name) and node.id in names and depth < 10:
        node, depth = names[node.id], depth + 1
    return node


def _literal_strings(node: ast.expr, names: dict, depth: int = 0) -> list[tuple[str, int] | str]:
    """The strings of a literal list/tuple (through module-level names and `+`), else _NotLiteral."""
    if depth > 20:
        raise _NotLiteral
    node = _resolve(node, names)
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        out = []
        for element in node.elts:
            if isinstance(element, ast.Constant) and isinstance(element.value, str):
                out.append(element.value)
            elif isinstance(element, ast.Starred):
                out.extend(_literal_strings(element.value, names, depth + 1))
            else:
                raise _NotLiteral
        return out
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _literal_strings(node.left, names, depth + 1) + _literal_strings(node.right, names, depth + 1)
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [line for line in node.value.splitlines() if line.strip()]
    raise _NotLiteral


def _setup_requirements(reading: Reading, node: ast.expr, names: dict, shown: str, group: str, what: str) -> None:
    resolved = _resolve(node, names)
    try:
        values = _literal_strings(resolved, names)
    except _NotLiteral:
        reading.problems.append(f"{shown}:{node.lineno}: {what} is computed, not read")
        return
    lines = {}
    for element in ast.walk(resolved):
        if isinstance(element, ast.Constant) and isinstance(element.value, str):
            lines.setdefault(element.value, element.lineno)
    for value in values:
        reading.add(value, f"{shown}:{lines.get(value, node.lineno)}", group)


# -- setup.cfg ----------------------------------------------------------------------------------------

def read_setup_cfg(reading: Reading, path: str, root: str) -> None:
    text = reading.read_text(path, root)
    if text is None:
        return
    shown = _relative(path, root)
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(text, source=path)
    except configparser.Error as exc:
        reading.problems.append(f"{shown}: invalid INI ({str(exc).splitlines()[0]}), not read")
        return

    def requirements(value: str, group: str) -> None:
        value = value.strip()
        if value.startswith("file:"):
            for name in value[5:].replace(",", " ").split():
                full = os.path.normpath(os.path.join(root, name))
                if os.path.isfile(full):
                    read_requirements_file(reading, full, root, group)
            return
        for line in value.splitlines():
            line = line.split("#", 1)[0].strip()
            if line:
                reading.add(line, f"{shown}:{_line_of(text, line)}", group)

    if parser.has_option("options", "install_requires"):
        requirements(parser.get("options", "install_requires"), "")
    if parser.has_section("options.extras_require"):
        for group, value in parser.items("options.extras_require"):
            requirements(value, group)
    if parser.has_option("options", "packages"):
        value = parser.get("options", "packages").strip()
        if not value.startswith("find"):
            reading.packages.update(v.strip().split(".")[0] for v in value.split() if v.strip())
    if parser.has_option("options", "package_dir"):
        for line in parser.get("options", "package_dir").splitlines():
            if "=" in line:
                name, folder = (s.strip() for s in line.split("=", 1))
                _package_dir(reading, {name: folder})
    if parser.has_option("options.packages.find", "where"):
        reading.package_dirs.extend(parser.get("options.packages.find", "where").split())


# -- Pipfile, environment.yml, METADATA ----------------------------------------------------------------

def read_pipfile(reading: Reading, path: str, root: str) -> None:
    text = reading.read_text(path, root)
    if text is None:
        return
    shown = _relative(path, root)
    data = _toml(reading, text, shown)
    if data is None:
        return
    for section, group in (("packages", ""), ("dev-packages", "dev")):
        table = data.get(section)
        if not isinstance(table, dict):
            continue
        for name, value in table.items():
            spec = value.get("version", "*") if isinstance(value, dict) else value
            spec = "" if not isinstance(spec, str) or spec.strip() == "*" else spec.strip()
            reading.add(f"{name}{spec}", f"{shown}:{_line_of(text, name)}", group)


_CONDA_ITEM = re.compile(r"^(?:[\w.-]+::)?(?P<name>[A-Za-z0-9][\w.-]*)\s*(?P<spec>.*)$")


def read_environment_yml(reading: Reading, path: str, root: str) -> None:
    """The `dependencies:` list of a conda environment file, and its `- pip:` list (no YAML library: the
    two lists are all we read, one item a line)."""
    text = reading.read_text(path, root)
    if text is None:
        return
    shown = _relative(path, root)
    in_dependencies, pip_indent = False, None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        stripped = line.strip()
        if indent == 0:
            in_dependencies = stripped.startswith("dependencies:")
            pip_indent = None
            continue
        if not in_dependencies or not stripped.startswith("- "):
            continue
        item = stripped[2:].strip().strip("'\"")
        if pip_indent is not None and indent <= pip_indent:
            pip_indent = None
        if item.rstrip(":") == "pip" and item.endswith(":"):
            pip_indent = indent
            continue
        where = f"{shown}:{number}"
        if pip_indent is not None:
            reading.add(item, where)
            continue
        match = _CONDA_ITEM.match(item)
        if not match:
            reading.problems.append(f"{where}: cannot read conda requirement {item!r}")
            continue
        name, spec = match.group("name"), match.group("spec").replace(" ", "")
        converted = conda_specifier(spec)
        if converted is None:
            reading.problems.append(f"{where}: cannot read conda version {spec!r} of {name}")
            continue
        reading.add(f"{name}{converted}", where)


def conda_specifier(spec: str) -> str | None:
    """conda's `=2.12` and `2.12` (both 2.12.*), `=2.12.0=py39_0` (a build), `==2.12.0`, `>=2.10,<2.16` as
    PEP 440."""
    out = []
    for piece in filter(None, spec.split(",")):
        fuzzy = piece[1:].split("=")[0] if piece.startswith("=") and not piece.startswith("==") else piece
        if re.fullmatch(r"\d+(\.\d+)*(\.\*)?", fuzzy):
            out.append(f"=={fuzzy}" if fuzzy.endswith("*") else f"=={fuzzy}.*")
        elif re.fullmatch(r"(==|!=|<=|>=|<|>|~=)\d+(\.\d+)*(\.\*)?", piece):
            out.append(piece)
        else:
            return None
    return ",".join(out)


def read_metadata(reading: Reading, path: str, root: str) -> None:
    """`Requires-Dist:` lines of a wheel's / an installed distribution's METADATA."""
    text = reading.read_text(path, root)
    if text is None:
        return
    shown = _relative(path, root)
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            break  # the headers end at the first blank line
        if line.startswith("Requires-Dist:"):
            requirement = line.split(":", 1)[1].strip()
            group = ""
            extra = re.search(r"extra\s*==\s*['\"]([^'\"]+)['\"]", requirement)
            if extra:
                group = extra.group(1)
            reading.add(requirement, f"{shown}:{number}", group)
