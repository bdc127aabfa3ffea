"""The package's shape: the analysis stays in modules one can read in a sitting, the rule base and the analysis
do not depend on the engine or on the rules, and rules ask the analysis questions instead of reading its
internals.  Read with `ast`, nothing is imported."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "tflint_notes"
ANALYSIS = sorted((PACKAGE / "analysis").glob("*.py"))
RULES = sorted((PACKAGE / "rules").rglob("*.py"))
MAX_MODULE_LINES = 600
MAX_CLASS_LINES = 300
FORBIDDEN_IMPORTS = ("tflint_notes.engine", "tflint_notes.rules")
# The analysis's own tables and steps: rules use its query methods (local_class, module_function, calls, ...).
ANALYSIS_TABLES = frozenset({
    "classes", "module_functions", "functions", "call_sites", "module_imports", "module_dataset_names",
    "tf_function_wraps", "eager_callback_refs", "dataset_callback_refs", "regions", "expecting_functions",
    "finalize",
})
# `rule.all_rules()` imports the rules package when called, to register every rule: loading the plugins, not a
# dependency of the Rule base (importing tflint_notes.rule does not import the rules).
ALLOWED = {("rule.py", "all_rules", "tflint_notes.rules")}


def _name(path: Path) -> str:
    return path.relative_to(PACKAGE.parent).as_posix()


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), str(path))


def _imports(path: Path):
    """(imported module, enclosing function or None) for every import statement of the module, wherever it is
    (TYPE_CHECKING blocks and function bodies included); `from x import y` yields x and x.y."""
    package = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if path.name != "__init__.py":
        package = package.rsplit(".", 1)[0]

    def visit(node, function):
        for child in ast.iter_child_nodes(node):
            inner = child.name if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) else function
            if isinstance(child, ast.Import):
                for alias in child.names:
                    yield alias.name, function
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    parts = package.split(".")
                    parts = parts[:len(parts) - (child.level - 1)]
                    base = ".".join([*parts, *([child.module] if child.module else [])])
                yield base, function
                for alias in child.names:
                    yield f"{base}.{alias.name}", function
            yield from visit(child, inner)

    yield from visit(_tree(path), None)


@pytest.mark.parametrize("path", ANALYSIS, ids=_name)
def test_analysis_modules_and_classes_stay_small(path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_MODULE_LINES, f"{_name(path)} has {lines} lines (at most {MAX_MODULE_LINES})"
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.ClassDef):
            size = node.end_lineno - node.lineno + 1
            assert size <= MAX_CLASS_LINES, f"class {node.name} in {_name(path)} has {size} lines"


@pytest.mark.parametrize("path", [PACKAGE / "rule.py", *ANALYSIS], ids=_name)
def test_rule_base_and_analysis_do_not_import_engine_or_rules(path):
    for module, function in _imports(path):
        if (path.name, function, module) in ALLOWED and path.parent == PACKAGE:
            continue
        for forbidden in FORBIDDEN_IMPORTS:
            assert module != forbidden and not module.startswith(forbidden + "."), (
                f"{_name(path)} imports {module}" + (f" (in {function})" if function else ""))


def _ctx_attributes(tree: ast.Module):
    """(attribute, line) for every `ctx.<attribute>` and `self.ctx.<attribute>`."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            value = node.value
            if (isinstance(value, ast.Name) and value.id == "ctx") or (
                    isinstance(value, ast.Attribute) and value.attr == "ctx"):
                yield node.attr, node.lineno


@pytest.mark.parametrize("path", RULES, ids=_name)
def test_rules_ask_the_analysis_instead_of_reading_its_internals(path):
    for attr, line in _ctx_attributes(_tree(path)):
        assert not attr.startswith("_"), f"{_name(path)}:{line} uses the private ctx.{attr}"
        assert attr not in ANALYSIS_TABLES, f"{_name(path)}:{line} reads ctx.{attr}: ask the analysis a question"


def test_the_checks_see_what_they_look_for():
    """The import and ctx readers find a TYPE_CHECKING import and a private ctx attribute."""
    rule_imports = {module for module, _ in _imports(PACKAGE / "rule.py")}
    assert "tflint_notes.locator.Locator" in rule_imports  # under TYPE_CHECKING
    assert ("tflint_notes.rules", "all_rules") in set(_imports(PACKAGE / "rule.py"))
    sample = ast.parse("def f(self, ctx):\n    ctx._callee_of(1)\n    self.ctx.classes\n")
    assert sorted(_ctx_attributes(sample)) == [("_callee_of", 2), ("classes", 3)]
