"""What the modules of a project say about each other: the project index.

Rules see one module at a time.  Real projects put a Keras base class in one file and its subclasses in
others, and a `@tf.function` training step in one file and the NumPy helper it calls in another.  The index
reads every module of the project once (CPython's AST, never libcst, never importing anything), keeps a few
facts per module (`facts.collect`), and answers three questions for the file being linted (`ModuleView`):

- is an imported class of the project (transitively) a Keras Layer/Model, and through which Keras base;
- which keywords a project class's `__init__`/`call` accepts;
- which of this module's functions are graph code because graph code of *another* module calls them with
  tensors, and who that caller is (for the message).

Facts are cached on disk per module, keyed by the module's contents; the cross-module conclusions are
recomputed from them on each run (cheap).  A file's lint results are cached under the fingerprint of the facts
its view used, so a changed module re-lints only the files whose view changed.  Whatever cannot be resolved
(star imports, a module that does not parse, a name bound in two ways, `sys.path` tricks) is unknown: never
Keras, never graph code.
"""

from __future__ import annotations

import hashlib
import json
import marshal
import os
import sys
import tempfile
from pathlib import Path

from tflint_notes.analysis.names import is_keras_base
from tflint_notes.collection import collection_paused
from tflint_notes.project.facts import collect_module_facts
from tflint_notes.project.layout import listdir
from tflint_notes.project.roots import may_hold_root
from tflint_notes.project.view import NO_VIEW, Entry, ModuleView

__all__ = ["ProjectIndex", "ModuleView", "NO_VIEW", "Entry", "module_files"]

_FORMAT = 4
_MISSING = object()
_CLAIMED = object()
_PYTHON = sys.version.encode()  # the marshal format of cached facts
_KERAS_GRAPH_METHODS = ("call", "train_step", "test_step", "predict_step")
# Folders that are not the project's own code.
_SKIPPED_DIRS = frozenset({
    "__pycache__", "node_modules", "site-packages", "dist-packages", "build", "dist", "venv", "env",
    ".venv", ".env", ".git", ".hg", ".tox", ".nox", ".eggs",
})
MAX_MODULES = 20_000  # beyond this a "project" is a whole disk; the index stays empty (everything unknown)
MAX_BYTES = 2_000_000  # generated files this large are not hand-written project code


class ProjectIndex:
    """Module facts of one project, read on demand, and the conclusions drawn from them together.

    Facts come from the linter's own parse when the caller has one (`supply`), else from the disk cache
    (keyed by the module's bytes), else from a parse of the module.  A module is read only when a question
    needs it: a class chain, a call target, or a search for graph roots (only modules whose text can hold one).
    """

    def __init__(self, root: str, top: str | None = None, cache_dir: str | None = None):
        self.root = root
        self.files: dict[str, str] = {}  # dotted name -> absolute path
        for path, name in module_files(root, top):
            self.files.setdefault(name, path)  # src/pkg and pkg both present: the first wins
        self.paths = {path: name for name, path in self.files.items()}
        self._facts: dict[str, dict | None] = {}
        self._supplied: dict[str, dict | None] = {}
        self._stats: dict[str, tuple] = {}  # path -> (mtime_ns, size) when read, for `stale()`
        # one small file per module's facts, keyed by its bytes, name and path: written once when first read,
        # never rewritten (concurrent flake8 workers and runs share them; nothing depends on saving at exit)
        self._cache_dir = Path(cache_dir) / "index" if cache_dir else None
        self._key = hashlib.blake2b(f"{_FORMAT}\0{root}\0{top}".encode(), digest_size=16).hexdigest()
        self._keras: dict = {}
        self._lookup: dict = {}
        self._entries: dict | None = None
        self._packed: dict | None = None  # module -> view, from a pack made for these exact module contents

    def supply(self, path: str, name: str, facts: dict | None, cached: bool = False) -> None:
        """Facts the linter derived from its own parse of `path` (saves parsing it again).  `cached`: the
        supplier wrote them to the cache already (then the index neither reads nor writes them there)."""
        if facts is not None and self.paths.get(os.path.abspath(path)) == name and name not in self._facts:
            self._supplied[name] = (facts, cached)

    def has_facts(self, module: str) -> bool:
        """Are the module's facts read already (a caller need not derive them to `supply` them)?"""
        return module in self._facts

    def facts(self, module: str) -> dict | None:
        """The facts of a module of the project (None: it does not parse or cannot be read)."""
        if module in self._facts:
            return self._facts[module]
        found = self._read(module, need_facts=True)
        return found

    def _read(self, module: str, need_facts: bool, claim: bool = False) -> dict | None | bool:
        """The module's facts; with `need_facts=False`, False when its text shows it holds no graph root;
        with `claim=True`, _CLAIMED when another process is deriving them right now (see `_claim`)."""
        path = self.files[module]
        try:
            stat = os.stat(path)
            with open(path, "rb") as handle:
                data = handle.read() if stat.st_size <= MAX_BYTES else b""
        except OSError:
            self._facts[module] = None
            return None
        self._stats[path] = (stat.st_mtime_ns, stat.st_size)
        if not need_facts and not may_hold_root(data):
            return False
        relative = os.path.relpath(path, self.root).replace(os.sep, "/")
        key = _facts_key(module, relative, data)
        supplied, cached = self._supplied.pop(module, (_MISSING, False))
        facts = supplied if cached else _load_facts(self._cache_dir, key)
        if facts is _MISSING:
            if supplied is not _MISSING:
                facts = supplied
            elif claim and not self._claim(key):
                return _CLAIMED
            else:
                with collection_paused(young=True):
                    facts = collect_module_facts(data, module, path.endswith("__init__.py"), relative) if data else None
            self._store(key, facts)
            if claim and supplied is _MISSING:
                self._unclaim(key)
        if self._entries is not None:
            _slim(facts)
        self._facts[module] = facts
        return facts

    def _claim(self, key: str) -> bool:
        """Concurrent processes (flake8's workers) all look for the project's graph roots at their first file:
        each derives the facts of the modules it claims first and reads the others' from the cache afterwards,
        instead of every process parsing every module.  Without a cache, or when the claim cannot be written,
        the caller derives the facts itself."""
        if self._cache_dir is None:
            return True
        path = self._cache_dir / key[:2] / f"{key}.claim"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            return True
        except FileExistsError:
            return False
        except OSError:
            return True

    def _unclaim(self, key: str) -> None:
        if self._cache_dir is not None:
            try:
                os.unlink(self._cache_dir / key[:2] / f"{key}.claim")
            except OSError:
                pass

    def _state(self) -> str:
        """A digest of every module's name and bytes: the views of a project whose state did not change are
        the views computed last time (a warm run reads the modules once and one small file)."""
        digest = hashlib.blake2b(digest_size=20)
        for name in sorted(self.files):
            path = self.files[name]
            try:
                with open(path, "rb") as handle:
                    data = handle.read()
            except OSError:
                data = b"\0unreadable"
            digest.update(b"%s\0%d\0" % (name.encode(), len(data)))
            digest.update(data)
        return digest.hexdigest()

    def load_views(self) -> bool:
        """Use the views packed by `save_views` when no module changed since; True if so."""
        if self._cache_dir is None:
            return False
        try:
            with open(self._cache_dir / f"{self._key}.views.json", encoding="utf-8") as handle:
                data = json.load(handle)
            if data["state"] != self._state():
                return False
            self._packed = {module: NO_VIEW for module in data["covered"]}
            self._packed.update((module, _view_from(item)) for module, item in data["views"].items())
            return True
        except (OSError, ValueError, KeyError, TypeError, IndexError):
            return False

    def packed_view(self, path: str) -> ModuleView | None:
        """The view `load_views` found for the module at `path` (NO_VIEW outside the index); None if the
        pack does not hold it."""
        module = self.module_name(path)
        if module is None:
            return NO_VIEW
        return self._packed.get(module) if self._packed is not None else None

    def save_views(self, views: dict) -> None:
        """Pack the views a run computed ({module: view}; only those that say something are written out,
        the others are listed as covered) for the next run over the same module contents."""
        if self._cache_dir is None or self._packed is not None or not views:
            return
        packed = {name: _view_to(view) for name, view in sorted(views.items()) if not view.trivial}
        _write_json(self._cache_dir / f"{self._key}.views.json",
                    {"state": self._state(), "covered": sorted(views), "views": packed})

    def _store(self, key: str, facts: dict | None) -> None:
        _store_facts(self._cache_dir, key, facts)

    def stale(self) -> bool:
        """Has a module the index read changed on disk since?  (New modules are seen when the language server
        invalidates the store on a save.)"""
        for path, known in self._stats.items():
            try:
                stat = os.stat(path)
            except OSError:
                return True
            if (stat.st_mtime_ns, stat.st_size) != known:
                return True
        return False

    def module_name(self, path: str | None) -> str | None:
        return self.paths.get(os.path.abspath(path)) if path else None

    def view(self, path: str | None) -> ModuleView:
        """The answers the module at `path` may need (see view.py); NO_VIEW outside the index."""
        module = self.module_name(path)
        if module is None:
            return NO_VIEW
        if self._packed is not None and module in self._packed:
            return self._packed[module]
        facts = self.facts(module)
        if facts is None:
            return NO_VIEW
        entries = tuple(sorted(self.entries().get(module, {}).items()))
        keras, keywords, methods, models = [], [], [], []
        for qualname in facts["refs"]:
            if is_keras_base(qualname):
                continue  # Keras by its name already (`keras.src.layers.Dense` inside keras): nothing to add
            base = self.keras_base(qualname)
            if base is None:
                factory = self.model_factory(qualname)
                if factory is not None:
                    models.append((qualname, factory))
                continue
            keras.append((qualname, base))
            for method in ("__init__", "call"):
                keywords.append((qualname, method, self.keywords(qualname, method)))
            methods.append((qualname, self.project_methods(qualname)))
        if not entries and not keras and not models:
            return NO_VIEW  # says nothing: the module is analysed exactly as alone
        package = module if facts["package"] else module.rpartition(".")[0]
        return ModuleView(module, package, entries, tuple(keras), tuple(keywords), tuple(methods), tuple(models))

    def model_factory(self, qualname: str) -> str | None:
        """The Keras model factory a project function returns the result of, None if not one."""
        where = self.lookup(qualname)
        if where is None or where[0] != "function":
            return None
        return self.facts(where[1])["functions"].get(where[2], {}).get("model")

    # -- names --

    def module_of(self, qualname: str) -> str | None:
        """The longest module name that `qualname` starts with."""
        parts = qualname.split(".")
        for end in range(len(parts), 0, -1):
            name = ".".join(parts[:end])
            if name in self.files:
                return name
        return None

    def lookup(self, qualname: str, _depth: int = 0) -> tuple | None:
        """("class" | "function" | "module", module, local name) that `qualname` names in the project,
        following re-exports (`from .layers import Gate` in `__init__.py`); None when unknown."""
        if qualname in self._lookup:
            return self._lookup[qualname]
        self._lookup[qualname] = None  # a re-export cycle resolves to unknown
        found = self._find(qualname, _depth)
        self._lookup[qualname] = found
        return found

    def _find(self, qualname: str, depth: int) -> tuple | None:
        if depth > 20:
            return None
        module = self.module_of(qualname)
        if module is None:
            return None
        facts = self.facts(module)
        rest = qualname[len(module) + 1:] if len(qualname) > len(module) else ""
        if not rest:
            return ("module", module, "")
        if facts is None:
            return None
        head, _, tail = rest.partition(".")
        if head in facts["classes"]:
            if not tail:
                return ("class", module, head)
            return ("function", module, f"{head}.{tail}") if f"{head}.{tail}" in facts["functions"] else None
        if head in facts["functions"] and not tail:
            return ("function", module, head)
        target = facts["imports"].get(head)
        if target is not None and target != qualname:
            return self.lookup(f"{target}.{tail}" if tail else target, depth + 1)
        return None

    # -- Keras classes --

    def keras_base(self, qualname: str, _seen: frozenset = frozenset()) -> str | None:
        if qualname in self._keras:
            return self._keras[qualname]
        found = None
        where = self.lookup(qualname)
        if where is not None and where[0] == "class" and qualname not in _seen:
            _, module, name = where
            for base in self.facts(module)["classes"][name]["bases"]:
                if base is None:
                    continue
                if is_keras_base(base):
                    found = base
                    break
                found = self.keras_base(base, _seen | {qualname})
                if found is not None:
                    break
        if not _seen:
            self._keras[qualname] = found
        return found

    def _class_chain(self, qualname: str) -> list[tuple[str, str]]:
        """(module, class name) of the project classes in `qualname`'s bases, nearest first, no cycles."""
        out: list = []
        todo = [qualname]
        seen: set = set()
        while todo:
            current = todo.pop(0)
            where = self.lookup(current)
            if where is None or where[0] != "class" or (where[1], where[2]) in seen:
                continue
            seen.add((where[1], where[2]))
            out.append((where[1], where[2]))
            todo.extend(b for b in self.facts(where[1])["classes"][where[2]]["bases"] if b)
        return out

    def keywords(self, qualname: str, method: str) -> frozenset | None:
        for module, name in self._class_chain(qualname):
            func = self.facts(module)["functions"].get(f"{name}.{method}")
            if func is not None:
                names = set(func["params"][1:]) | set(func["kwonly"])
                if func["kwargs"]:
                    names.add("**")
                return frozenset(names)
        return None

    def project_methods(self, qualname: str) -> frozenset:
        """Method names defined by the project classes in a class's bases (the class itself included)."""
        names: set = set()
        for module, name in self._class_chain(qualname):
            prefix = name + "."
            names.update(key[len(prefix):] for key in self.facts(module)["functions"] if key.startswith(prefix))
        return frozenset(names)

    def own_call_protocol(self, qualname: str) -> bool:
        """A project class in the bases defines `__call__`: it decides when and how `call` runs (keras_hub's
        preprocessing layers run a pure-Python path when not tracing), so `call` is not taken for graph code."""
        return "__call__" in self.project_methods(qualname)

    def method_owner(self, class_qual: str, method: str) -> str | None:
        """The qualified name of the function `self.<method>` runs in a project class (nearest definition)."""
        for module, name in self._class_chain(class_qual):
            if f"{name}.{method}" in self.facts(module)["functions"]:
                return f"{module}.{name}.{method}"
        return None

    # -- graph code across modules --

    def _function(self, qualname: str) -> tuple[str, str, dict] | None:
        where = self.lookup(qualname)
        if where is None or where[0] != "function":
            return None
        func = self.facts(where[1])["functions"].get(where[2])
        return (where[1], where[2], func) if func is not None else None

    def _roots(self) -> list[tuple]:
        """(module, function, tensor parameters, why, origin) of every graph root of the project; `origin`
        names where another module makes it a root (`ds.map(helpers.parse)`), else None."""
        candidates = {}
        deferred = []
        for module in sorted(self.files):
            facts = self._facts[module] if module in self._facts else self._read(module, False, claim=True)
            if facts is _CLAIMED:
                deferred.append(module)
            elif facts:
                candidates[module] = facts
        for module in deferred:  # claimed by another process, which has most likely cached them by now
            facts = self._read(module, need_facts=False)
            if facts:
                candidates[module] = facts
        roots = []
        for module, facts in sorted(candidates.items()):  # the same order whoever derived the facts
            for name, func in sorted(facts["functions"].items()):
                if func["eager"]:
                    continue
                if func["root"]:
                    roots.append((module, name, frozenset(func["cand"]), func["root"], None))
                elif "." in name:
                    cls, method = name.split(".", 1)
                    if (method in _KERAS_GRAPH_METHODS and self.keras_base(f"{module}.{cls}") is not None
                            and not self.own_call_protocol(f"{module}.{cls}")):
                        roots.append((module, name, frozenset(func["cand"]), f"Keras `{name}`", None))
            for target, why, line in facts["wraps"]:
                found = self._function(target)
                if found is not None and not found[2]["eager"]:
                    params = found[2]["params"][1:] if "." in found[1] else found[2]["params"]
                    tensors = frozenset(params) if why == "a tf.data callback" else frozenset(found[2]["cand"])
                    # wrapped in another module: the function's own module cannot see it
                    origin = f"{why} in {facts['path']}:{line}" if found[0] != module else None
                    roots.append((found[0], found[1], tensors, why, origin))
        return roots

    def entries(self) -> dict[str, dict[str, Entry]]:
        """{module: {function: Entry}} for functions graph code of another module calls with tensors."""
        if self._entries is None:
            self._entries = self._propagate()
            for facts in self._facts.values():
                _slim(facts)
        return self._entries

    def _propagate(self) -> dict:
        """Graph code reaches across modules through calls that pass tensors.  Within a module every call
        from graph code counts (as the per-file analysis does); into another module, only a call with at
        least one tensor argument (a call with Python values only is not evidence of anything)."""
        graph: dict[tuple, set] = {}  # (module, function) -> parameters that receive tensors
        why: dict[tuple, str] = {}  # graph roots only
        todo: list = []
        cross: dict[tuple, str] = {}
        for module, name, tensors, reason, origin in self._roots():
            key = (module, name)
            if key not in graph:
                graph[key] = set()
                why[key] = reason
            graph[key] |= tensors
            if origin is not None:
                cross.setdefault(key, origin)
            todo.append(key)
        while todo:
            key = todo.pop()
            module, name = key
            func = self.facts(module)["functions"][name]
            holding = graph[key]
            for callee, line, args in func["calls"]:
                target = self._callee(module, name, callee)
                if target is None:
                    continue
                t_module, t_name, t_func = target
                if t_func["eager"]:
                    continue
                tensors = _tensor_params(t_func, args, holding, method="." in t_name)
                other = t_module != module
                if other and not tensors:
                    continue
                t_key = (t_module, t_name)
                before = graph.get(t_key)
                if before is None:
                    graph[t_key] = set(tensors)
                elif tensors <= before:
                    if not (other and t_key not in cross and t_key not in why):
                        continue
                else:
                    before |= tensors
                if other and t_key not in cross and t_key not in why:  # a root is graph code in its own module
                    cross[t_key] = f"called from {_describe(name, why.get(key))} in {self._shown(module)}:{line}"
                todo.append(t_key)
        entries: dict[str, dict[str, Entry]] = {}
        for (module, name), reason in sorted(cross.items()):
            entries.setdefault(module, {})[name] = Entry(reason, frozenset(graph[(module, name)]))
        return entries

    def _callee(self, module: str, caller: str, callee: str) -> tuple | None:
        if callee.startswith("self."):
            if "." not in caller:
                return None
            owner = self.method_owner(f"{module}.{caller.split('.', 1)[0]}", callee[5:])
            return self._function(owner) if owner is not None else None
        return self._function(callee)

    def _shown(self, module: str) -> str:
        facts = self.facts(module)
        return facts["path"] if facts is not None else module


def _slim(facts: dict | None) -> None:
    """Once the graph entries are known, calls, tensor candidates and wraps answer nothing more; a process
    keeps the facts of every module it read, and fewer live containers make every garbage collection of the
    process cheaper (flake8's own checks run in the same workers)."""
    if facts is None or "wraps" not in facts:
        return
    del facts["wraps"]
    for func in facts["functions"].values():
        del func["calls"], func["cand"]


def _view_to(view: ModuleView) -> list:
    return [view.module, view.package, [[n, e.reason, sorted(e.tensor_params)] for n, e in view.entries],
            [list(k) for k in view.keras], [[q, m, sorted(k) if k is not None else None] for q, m, k in view.keywords],
            [[q, sorted(m) if m is not None else None] for q, m in view.methods], [list(m) for m in view.models]]


def _view_from(item: list) -> ModuleView:
    module, package, entries, keras, keywords, methods, models = item
    return ModuleView(module, package, tuple((n, Entry(r, frozenset(p))) for n, r, p in entries),
                      tuple((q, b) for q, b in keras),
                      tuple((q, m, frozenset(k) if k is not None else None) for q, m, k in keywords),
                      tuple((q, frozenset(m) if m is not None else None) for q, m in methods),
                      tuple((q, f) for q, f in models))


def _describe(name: str, root_reason: str | None) -> str:
    """How a caller is named in messages: the root it is, or a function that graph code calls."""
    if root_reason is None:
        return f"graph code `{name}`"
    if root_reason == "@tf.function":
        return f"@tf.function `{name}`"
    if root_reason.startswith("Keras `"):
        return root_reason
    return f"{root_reason} `{name}`"


def _tensor_params(func: dict, args: list, holding: set, method: bool) -> set:
    """The callee's parameters that receive a tensor at this call."""
    params = func["params"][1:] if method else func["params"]
    out = set()
    for key, evidence in args:
        if not evidence or not ("T" in evidence or any(reason[2:] in holding for reason in evidence)):
            continue
        if isinstance(key, int):
            if key < len(params):
                out.add(params[key])
        elif key in params or key in func["kwonly"]:
            out.add(key)
    return out & set(func["cand"])


# -- building and caching --


def module_files(root: str, top: str | None = None) -> list[tuple[str, str]]:
    """(absolute path, dotted module name) of the project's Python modules, sorted.  Subfolders that are
    projects of their own (a monorepo's services) and environment/build folders are not part of it."""
    from tflint_notes.project.layout import is_project_dir

    found: list = []
    stack = [root]
    while stack and len(found) <= MAX_MODULES:
        folder = stack.pop()
        names = sorted(listdir(folder))
        if folder != root and is_project_dir(names):
            continue
        for name in names:
            full = os.path.join(folder, name)
            if name.endswith(".py") and os.path.isfile(full):
                found.append(full)
            elif (not name.startswith(".") and name not in _SKIPPED_DIRS and not name.endswith(".dist-info")
                  and os.path.isdir(full) and not os.path.islink(full)):
                stack.append(full)
    if len(found) > MAX_MODULES:
        return []
    out = []
    for path in found:
        identity = module_identity(root, top, path)  # one naming rule for the index and the linted files
        if identity is not None:
            out.append((path, identity[0]))
    return sorted(out)


def _facts_key(module: str, relative: str, data: bytes) -> str:
    return hashlib.blake2b(b"%d\0%s\0%s\0%s\0" % (_FORMAT, _PYTHON, module.encode(), relative.encode()) + data,
                           digest_size=20).hexdigest()


def _load_facts(cache_dir: Path | None, key: str):
    if cache_dir is None:
        return _MISSING
    try:
        with open(cache_dir / key[:2] / f"{key}.facts", "rb") as handle:
            return marshal.load(handle)
    except (OSError, ValueError, EOFError, TypeError):
        return _MISSING


def _store_facts(cache_dir: Path | None, key: str, facts: dict | None) -> None:
    # marshal, not JSON: facts are plain dicts, lists and strings, and a cold run writes hundreds of them
    # (the key holds the interpreter's version, whose marshal format may differ)
    if cache_dir is not None:
        _write_atomic(cache_dir / key[:2] / f"{key}.facts", marshal.dumps(facts))


def facts_unless_cached(cache_root: str | None, path: str, identity: tuple[str, bool, str]) -> dict | None:
    """The facts of the module at `path`, derived here, for a worker that did not parse it for linting (no
    TensorFlow words in it, or its result came from the cache): the index in the main process then finds them
    supplied instead of parsing such modules itself, one after another.  None when the index's cache holds
    them already (the index reads them there as fast as they could be shipped) or the module does not parse."""
    module, is_package, relative = identity
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError:
        return None
    if len(data) > MAX_BYTES or not data:
        return None
    cache_dir = Path(cache_root) / "index" if cache_root else None
    key = _facts_key(module, relative, data)
    if cache_dir is not None and (cache_dir / key[:2] / f"{key}.facts").is_file():
        return None
    with collection_paused(young=True):
        facts = collect_module_facts(data, module, is_package, relative)
    _store_facts(cache_dir, key, facts)
    return facts


def module_identity(root: str, top: str | None, path: str) -> tuple[str, bool, str] | None:
    """(dotted name, is a package `__init__`, path relative to the root) of a file of the project, as
    `module_files` names it; None for files the index does not hold."""
    path = os.path.abspath(path)
    if not path.endswith(".py") or not path.startswith(root.rstrip(os.sep) + os.sep):
        return None
    parts = os.path.relpath(path, root).split(os.sep)
    if any(part.startswith(".") or part in _SKIPPED_DIRS for part in parts[:-1]):
        return None
    base = os.path.dirname(root) if top else root
    src = os.path.join(root, "src")
    start = src if not top and path.startswith(src + os.sep) else base
    dotted = os.path.relpath(path, start)[:-3].split(os.sep)
    package = dotted[-1] == "__init__"
    if package:
        dotted = dotted[:-1]
    if not dotted or not all(part.isidentifier() for part in dotted):
        return None
    return ".".join(dotted), package, "/".join(parts)


def build_index(root: str, top: str | None = None, cache_dir: str | None = None) -> ProjectIndex:
    """The index of the project at `root` (`top`: the package name of an installed distribution)."""
    return ProjectIndex(root, top, cache_dir)


def _write_json(path: Path, data: dict) -> None:
    _write_atomic(path, json.dumps(data).encode("utf-8"))


def _write_atomic(path: Path, data: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except OSError:
        pass  # a cache that cannot be written is a slower run, nothing more
