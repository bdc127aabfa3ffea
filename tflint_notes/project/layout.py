"""Where a project starts, which top-level packages are its own, and whether its package or test set-up
asks for legacy Keras.  Directory listings and CPython ASTs only; nothing is imported or executed."""

from __future__ import annotations

import ast
import os
import re

from tflint_notes.project.declared import ENVIRONMENT_FILE, REQUIREMENT_FILE, Reading

PROJECT_FILES = ("pyproject.toml", "setup.py", "setup.cfg", "Pipfile")
SITE_DIRS = ("site-packages", "dist-packages")
_TRUE = ("1", "true", "True", "TRUE", "yes")
_IDENTIFIER = re.compile(r"^[A-Za-z_]\w*$")


def listdir(directory: str) -> list[str]:
    try:
        return os.listdir(directory)
    except OSError:
        return []


def is_project_dir(names: list[str]) -> bool:
    """Has a project description: pyproject.toml, setup.py, setup.cfg, Pipfile, requirements*.txt,
    environment*.yml, or the *.dist-info of an unpacked wheel."""
    for name in names:
        if name in PROJECT_FILES or REQUIREMENT_FILE.match(name) or ENVIRONMENT_FILE.match(name):
            return True
        if name.endswith(".dist-info"):
            return True
    return False


def site_package_root(directory: str) -> tuple[str, str] | None:
    """(site-packages folder, top-level name) for a directory inside an installed distribution."""
    parts = directory.split(os.sep)
    for index in range(len(parts) - 1, -1, -1):
        if parts[index] in SITE_DIRS:
            if index + 1 < len(parts):
                return os.sep.join(parts[:index + 1]) or os.sep, parts[index + 1]
            return None
    return None


def top_level_map(site: str) -> dict[str, str]:
    """{top-level package: its *.dist-info folder} for an installed site-packages folder."""
    found: dict[str, str] = {}
    by_name: dict[str, str] = {}
    for name in listdir(site):
        if not name.endswith(".dist-info"):
            continue
        info = os.path.join(site, name)
        by_name[name.split("-", 1)[0].lower().replace("-", "_")] = info
        try:
            with open(os.path.join(info, "top_level.txt"), encoding="utf-8") as handle:
                for line in handle:
                    if line.strip():
                        found.setdefault(line.strip().split("/")[0], info)
        except (OSError, UnicodeDecodeError):
            continue
    for top, info in by_name.items():
        found.setdefault(top, info)
    return found


def first_party_packages(root: str, reading: Reading) -> set[str]:
    """Top-level packages (folders with __init__.py) and modules at the root, under src/ and under the
    folders setuptools is told to look in, plus the packages setuptools names literally."""
    found = set(reading.packages)
    for folder in (root, os.path.join(root, "src"), *(os.path.join(root, d) for d in reading.package_dirs)):
        for name in listdir(folder):
            full = os.path.join(folder, name)
            if name.endswith(".py") and _IDENTIFIER.match(name[:-3]) and name not in (
                    "setup.py", "conftest.py", "__init__.py", "__main__.py"):
                found.add(name[:-3])
            elif _IDENTIFIER.match(name) and os.path.isfile(os.path.join(full, "__init__.py")):
                found.add(name)
    return {name for name in found if _IDENTIFIER.match(name)}


def package_init_files(root: str, packages: set[str], reading: Reading) -> list[str]:
    out = []
    for folder in (root, os.path.join(root, "src"), *(os.path.join(root, d) for d in reading.package_dirs)):
        for name in sorted(packages):
            init = os.path.join(folder, name, "__init__.py")
            if os.path.isfile(init):
                out.append(init)
    for name in ("conftest.py", os.path.join("tests", "conftest.py"), os.path.join("test", "conftest.py")):
        path = os.path.join(root, name)
        if os.path.isfile(path):
            out.append(path)
    return out


def legacy_keras_evidence(text: str) -> tuple[int, str] | None:
    """(line, why) if a package `__init__.py` or `conftest.py` makes `tf.keras` legacy Keras 2: it sets
    `TF_USE_LEGACY_KERAS` to "1" before it imports TensorFlow, or it refuses Keras 3 (raises when the
    installed Keras is 3)."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    for stmt in _module_statements(tree.body):
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in stmt.names] if isinstance(stmt, ast.Import) else [stmt.module or ""]
            if any(n.split(".")[0] == "tensorflow" for n in names):
                return None  # set after TensorFlow was imported: too late to choose its Keras
            continue
        value = _env_assignment(stmt)
        if value is not None:
            if value in _TRUE:
                return stmt.lineno, "TF_USE_LEGACY_KERAS=1"
            return None
        if isinstance(stmt, ast.If) and _refuses_keras3(stmt):
            return stmt.lineno, "refuses Keras 3"
    return None


def _module_statements(body):
    for stmt in body:
        yield stmt
        if isinstance(stmt, ast.Try):
            yield from _module_statements(stmt.body)
        elif isinstance(stmt, ast.If) and not _refuses_keras3(stmt):
            yield from _module_statements(stmt.body)


def _dotted(node) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return ""


def _string(node) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _env_assignment(stmt) -> str | None:
    """The value a statement gives TF_USE_LEGACY_KERAS (`os.environ[...] = `, `setdefault`, `update`, `putenv`)."""
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
        target = stmt.targets[0]
        if (isinstance(target, ast.Subscript) and _dotted(target.value) in ("os.environ", "environ")
                and _string(target.slice) == "TF_USE_LEGACY_KERAS"):
            return _string(stmt.value) or ""
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
        call = stmt.value
        func = _dotted(call.func)
        if func in ("os.environ.setdefault", "environ.setdefault", "os.putenv") and len(call.args) == 2 and (
                _string(call.args[0]) == "TF_USE_LEGACY_KERAS"):
            return _string(call.args[1]) or ""
        if func in ("os.environ.update", "environ.update"):
            for keyword in call.keywords:
                if keyword.arg == "TF_USE_LEGACY_KERAS":
                    return _string(keyword.value) or ""
            for arg in call.args:
                if isinstance(arg, ast.Dict):
                    for key, value in zip(arg.keys, arg.values):
                        if _string(key) == "TF_USE_LEGACY_KERAS":
                            return _string(value) or ""
    return None


def _refuses_keras3(stmt: ast.If) -> bool:
    """`if <keras version is 3>: raise ...` (`keras.__version__.startswith("3")`, `>= "3"`, `>= (3,)`,
    `version.parse(keras.__version__).major >= 3`)."""
    if not any(isinstance(s, ast.Raise) for s in stmt.body):
        return False
    test = stmt.test
    names = {n.id for n in ast.walk(test) if isinstance(n, ast.Name)} | {
        n.attr for n in ast.walk(test) if isinstance(n, ast.Attribute)}
    if not any("keras" in name.lower() for name in names) or not any("version" in n.lower() or n == "major" for n in names):
        return False
    for node in ast.walk(test):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "startswith":
            if node.args and (_string(node.args[0]) or "").startswith("3"):
                return True
        if isinstance(node, ast.Compare):
            for op, right in zip(node.ops, node.comparators):
                literal = right.elts[0] if isinstance(right, ast.Tuple) and right.elts else right
                value = literal.value if isinstance(literal, ast.Constant) else None
                starts3 = value == 3 or (isinstance(value, str) and value.startswith("3"))
                if not starts3 and isinstance(right, ast.Call) and right.args:
                    inner = _string(right.args[0])
                    starts3 = bool(inner and inner.startswith("3"))
                if starts3 and isinstance(op, (ast.GtE, ast.Eq)):
                    return True
    return False
