"""The calls where Keras serialises a module's objects: saves, loads, clones, configs taken and rebuilt, and
what a save path is (its extension, and what identifies it so that a load of the same file is recognised).

Used with instance_flow.py: a site names the expression that holds the instances (`model` in
`model.save(path)`), and InstanceFlow says which of the module's classes that expression may hold.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

import libcst as cst

from tflint_notes.analysis.calls import call_argument
from tflint_notes.analysis.names import canonical
from tflint_notes.analysis.scopes import is_self

SAVE_FUNCTIONS = frozenset({"keras.models.save_model", "keras.saving.save_model"})
LOAD_FUNCTIONS = frozenset({"keras.models.load_model", "keras.saving.load_model", "keras.saving.legacy.save.load_model"})
CLONE_FUNCTIONS = frozenset({"keras.models.clone_model"})
SERIALIZE_FUNCTIONS = frozenset({
    "keras.layers.serialize", "keras.saving.serialize_keras_object", "keras.utils.serialize_keras_object",
})
REBUILD_FUNCTIONS = frozenset({
    "keras.models.model_from_json", "keras.models.model_from_config", "keras.models.model_from_yaml",
    "keras.layers.deserialize", "keras.saving.deserialize_keras_object", "keras.utils.deserialize_keras_object",
})
_KNOWN_FUNCTIONS = SAVE_FUNCTIONS | LOAD_FUNCTIONS | CLONE_FUNCTIONS | SERIALIZE_FUNCTIONS | REBUILD_FUNCTIONS
_CONFIG_METHODS = frozenset({"get_config", "to_json", "to_yaml"})



@dataclass(frozen=True)
class Site:
    """A call where instances meet Keras serialisation.  `model` is the expression holding them."""

    kind: str  # "save", "load", "clone", "config" (get_config/to_json/serialize), "rebuild" (from_config/...)
    node: cst.Call
    scope: object
    model: cst.BaseExpression | None = None
    path: cst.BaseExpression | None = None
    save_format: str | None = None
    label: str = ""  # how the message names the call: "load_model", "model.save"


def sites_of(flow, call: cst.Call, scope):
    func = call.func
    qual = _resolve(flow, func, scope)
    name = canonical(qual) if qual is not None else None
    if name is not None:
        short = name.rsplit(".", 1)[-1]
        if name in SAVE_FUNCTIONS:
            model = call_argument(call, 0, "model")
            path = call_argument(call, 1, "filepath")
            if model is not None and path is not None:
                yield Site("save", call, scope, model, path, _save_format(call), short)
        elif name in LOAD_FUNCTIONS:
            path = call_argument(call, 0, "filepath")
            if path is not None:
                yield Site("load", call, scope, None, path, None, short)
        elif name in CLONE_FUNCTIONS:
            yield Site("clone", call, scope, call_argument(call, 0, "model"), label=short)
        elif name in SERIALIZE_FUNCTIONS:
            yield Site("config", call, scope, call_argument(call, 0, "obj" if "saving" in name else "layer"),
                       label=short)
        elif name in REBUILD_FUNCTIONS:
            yield Site("rebuild", call, scope, call_argument(call, 0, "config"), label=short)
        if name in _KNOWN_FUNCTIONS:
            return
    if not isinstance(func, cst.Attribute):
        return
    method = func.attr.value
    receiver = func.value
    if method == "save":
        path = call_argument(call, 0, "filepath")
        if path is not None:
            yield Site("save", call, scope, receiver, path, _save_format(call), _label(receiver, "save"))
    elif method in _CONFIG_METHODS and not call.args:
        yield Site("config", call, scope, receiver, label=_label(receiver, method))
    elif method in ("from_config", "from_json"):
        yield Site("rebuild", call, scope, call_argument(call, 0, "config"), label=_label(receiver, method))

def _resolve(flow, func: cst.BaseExpression, scope) -> str | None:
    """The qualified name of a call's callee through the import aliases of its scope chain."""
    root = func
    while isinstance(root, cst.Attribute):
        root = root.value
    if not isinstance(root, cst.Name) or flow.lookup(root.value, scope)[0] != "unknown":
        return None  # a class, function or variable of the module: not an import
    while scope is not None and scope.info is None:
        scope = scope.parent
    return flow.ctx.resolve_at(func, scope.info if scope is not None else None)


def path_key(flow, path: cst.BaseExpression, scope):
    """What identifies a save path, to match a save with the load of the same file."""
    literal = literal_path(flow, path, scope)
    if literal is not None:
        return ("literal", literal)
    if isinstance(path, cst.Name):
        what, found = flow.lookup(path.value, scope)
        bound_in = found[0] if what == "values" else _binding_scope(path.value, scope)
        return ("name", id(bound_in), path.value)
    if isinstance(path, cst.Attribute) and is_self(path.value) and scope.owner is not None:
        return ("attribute", id(scope.owner), path.attr.value)
    return ("code", id(scope), flow.ctx.module.code_for_node(path))

def literal_path(flow, path: cst.BaseExpression, scope) -> str | None:
    value = _string(path)
    if value is not None:
        return value
    if isinstance(path, cst.Name):
        what, found = flow.lookup(path.value, scope)
        if what == "values" and len(found[1]) == 1 and found[0].opaque.isdisjoint({path.value}):
            return _string(found[1][0])
    return None

def path_format(flow, path: cst.BaseExpression, scope, _depth: int = 0) -> str | None:
    """"keras", "h5" or "other" when the file name's extension is proven, None when it is not known."""
    if _depth > 10:
        return None
    text = _string(path)
    if text is None:
        text = _string_tail(path)
    if text is not None:
        lowered = text.lower()
        if lowered.endswith(".keras"):
            return "keras"
        if lowered.endswith((".h5", ".hdf5")):
            return "h5"
        return "other" if _string(path) is not None else None
    if isinstance(path, cst.BinaryOperation) and isinstance(path.operator, (cst.Add, cst.Divide)):
        return path_format(flow, path.right, scope, _depth + 1)
    if isinstance(path, cst.Call):
        func = path.func
        name = func.attr.value if isinstance(func, cst.Attribute) else func.value if isinstance(
            func, cst.Name) else None
        if name in ("join", "joinpath") and path.args:
            return path_format(flow, path.args[-1].value, scope, _depth + 1)
        if name in ("str", "Path", "fspath", "with_suffix", "abspath") and len(path.args) == 1:
            return path_format(flow, path.args[0].value, scope, _depth + 1)
        return None
    if isinstance(path, cst.Name):
        what, found = flow.lookup(path.value, scope)
        if what != "values" or path.value in found[0].opaque:
            return None
        formats = {path_format(flow, v, flow.value_scope(v, found[0]), _depth + 1) for v in found[1]}
        return formats.pop() if len(formats) == 1 else None
    return None



def _save_format(call: cst.Call) -> str | None:
    value = call_argument(call, 99, "save_format")
    text = _string(value) if value is not None else None
    return {"h5": "h5", "keras": "keras", "tf": "other"}.get(text) if text is not None else None


def _label(receiver: cst.BaseExpression, method: str) -> str:
    if isinstance(receiver, cst.Name):
        return f"{receiver.value}.{method}"
    if isinstance(receiver, cst.Attribute) and is_self(receiver.value):
        return f"self.{receiver.attr.value}.{method}"
    return method


def _string(node) -> str | None:
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


def _string_tail(node) -> str | None:
    """The literal end of an f-string or implicit concatenation: f"{d}/model.keras" ends in "model.keras"."""
    if isinstance(node, cst.ConcatenatedString):
        return _string_tail(node.right)
    if isinstance(node, cst.FormattedString) and node.parts and isinstance(node.parts[-1], cst.FormattedStringText):
        return node.parts[-1].value
    return None


def _binding_scope(name: str, scope):
    current = scope
    while current is not None:
        if name in current.opaque:
            return current
        current = current.parent
    return scope


def literal_dict_keys(func: cst.FunctionDef) -> set | None:
    """The keys of the dict a `get_config` without `super()` returns, when every return is provable:
    `return {"units": self.units}` or `config = {...}; config.update(k=...); config["k"] = ...; return config`.
    None when a key is computed or the dict comes from elsewhere."""
    try:
        tree = ast.parse(cst.Module(body=[func]).code)
    except SyntaxError:
        return None
    node = tree.body[0]
    keys: set = set()
    dicts: dict = {}
    returns = [n for n in ast.walk(node) if isinstance(n, ast.Return)]
    if not returns:
        return None

    def dict_keys(value) -> set | None:
        if isinstance(value, ast.Dict):
            if any(not (isinstance(k, ast.Constant) and isinstance(k.value, str)) for k in value.keys):
                return None
            return {k.value for k in value.keys}
        if (isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "dict"
                and not value.args and all(k.arg is not None for k in value.keywords)):
            return {k.arg for k in value.keywords}
        return None

    for stmt in ast.walk(node):
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            target = stmt.targets[0]
            if isinstance(target, ast.Name):
                found = dict_keys(stmt.value)
                if found is None:
                    dicts[target.id] = None
                elif dicts.get(target.id, set()) is not None:
                    dicts[target.id] = dicts.get(target.id, set()) | found
            elif isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
                key = target.slice
                if target.value.id in dicts and dicts[target.value.id] is not None:
                    if isinstance(key, ast.Constant) and isinstance(key.value, str):
                        dicts[target.value.id].add(key.value)
                    else:
                        dicts[target.value.id] = None
        elif (isinstance(stmt, ast.Call) and isinstance(stmt.func, ast.Attribute) and stmt.func.attr == "update"
              and isinstance(stmt.func.value, ast.Name) and stmt.func.value.id in dicts):
            name = stmt.func.value.id
            found = dict_keys(stmt.args[0]) if len(stmt.args) == 1 and not stmt.keywords else (
                {k.arg for k in stmt.keywords} if not stmt.args and all(k.arg for k in stmt.keywords) else None)
            if found is None or dicts[name] is None:
                dicts[name] = None
            else:
                dicts[name] |= found
    for ret in returns:
        value = ret.value
        found = dict_keys(value) if value is not None else None
        if found is None and isinstance(value, ast.Name):
            found = dicts.get(value.id)
        if found is None:
            return None
        keys |= found
    return keys
