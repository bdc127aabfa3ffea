"""The project a linted file belongs to: its root, its own top-level packages, and the TensorFlow/Keras it
declares (see target.py).  One model per root, built once per process and cached on disk, keyed by the
contents of the files it read.

A file's project is the nearest enclosing folder with a pyproject.toml, setup.py, setup.cfg, Pipfile,
requirements*.txt, environment*.yml or *.dist-info (a monorepo's subproject with its own requirements is its
own project); a file inside site-packages belongs to its distribution (read from its METADATA).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from tflint_notes.project import declared as _declared
from tflint_notes.project.declared import ENVIRONMENT_FILE, REQUIREMENT_FILE, Reading
from tflint_notes.project.layout import (
    first_party_packages, is_project_dir, legacy_keras_evidence, listdir, package_init_files, site_package_root,
    top_level_map)
from tflint_notes.project.target import Evidence, Target, default_target, infer

__all__ = ["Project", "ProjectStore", "Target", "NO_PROJECT", "build_project"]
_FORMAT = 1


@dataclass(frozen=True)
class Project:
    root: str | None  # None: the file belongs to no project (defaults apply)
    target: Target
    first_party: frozenset = frozenset()
    sources: tuple[str, ...] = ()  # the description files read, relative to the root
    files: tuple[tuple[str, str], ...] = field(default=(), compare=False)  # (path, digest) of every file read

    def fingerprint(self) -> str:
        return f"{self.target.fingerprint()};{','.join(sorted(self.first_party))}"


NO_PROJECT = Project(None, default_target())


def build_project(root: str, dist_info: str | None = None, top: str | None = None) -> Project:
    """Read a project's description files (never executing them)."""
    reading = Reading()
    names = sorted(listdir(root))
    if dist_info is None and top is None:
        for name in names:
            full = os.path.join(root, name)
            if name == "pyproject.toml":
                _declared.read_pyproject(reading, full, root)
            elif name == "setup.py":
                _declared.read_setup_py(reading, full, root)
            elif name == "setup.cfg":
                _declared.read_setup_cfg(reading, full, root)
            elif name == "Pipfile":
                _declared.read_pipfile(reading, full, root)
            elif REQUIREMENT_FILE.match(name) and os.path.isfile(full) and full not in reading.files:
                _declared.read_requirements_file(reading, full, root)
            elif ENVIRONMENT_FILE.match(name):
                _declared.read_environment_yml(reading, full, root)
            elif name.endswith(".dist-info"):
                metadata = os.path.join(full, "METADATA")
                if os.path.isfile(metadata):
                    _declared.read_metadata(reading, metadata, root)
                    _top_level(full, reading)
        requirements_dir = os.path.join(root, "requirements")
        if os.path.isdir(requirements_dir):
            for name in sorted(listdir(requirements_dir)):
                full = os.path.join(requirements_dir, name)
                if name.endswith((".txt", ".in")) and full not in reading.files:
                    _declared.read_requirements_file(reading, full, root)
        packages = first_party_packages(root, reading)
    else:
        if dist_info is not None:
            _declared.read_metadata(reading, os.path.join(dist_info, "METADATA"), os.path.dirname(root))
        packages = {top} if top else set()
    evidence = Evidence()
    inits = package_init_files(root if top is None else os.path.dirname(root), packages, reading)
    for path in inits:
        text = reading.read_text(path, root)
        found = legacy_keras_evidence(text) if text is not None else None
        if found is not None:
            line, why = found
            shown = os.path.relpath(path, root).replace(os.sep, "/")
            (evidence.refuses_keras3 if why.startswith("refuses") else evidence.legacy_keras).append(
                f"{why} in {shown}:{line}")
    target = infer(reading.declared, evidence, reading.problems)
    sources = tuple(sorted(os.path.relpath(p, root).replace(os.sep, "/") for p in reading.files if p not in inits))
    return Project(root, target, frozenset(packages), sources, tuple(sorted(reading.files.items())))


def _top_level(dist_info: str, reading: Reading) -> None:
    try:
        with open(os.path.join(dist_info, "top_level.txt"), encoding="utf-8") as handle:
            reading.packages.update(line.strip() for line in handle if line.strip())
    except (OSError, UnicodeDecodeError):
        pass


class ProjectStore:
    """Finds and builds the project of each file, once per root per process, with a disk cache in
    `<cache_dir>/projects/`.  `revalidate=True` (the language server) re-reads the files a model came from
    on every lookup, so a saved requirements file is seen at once."""

    def __init__(self, cache_dir: str | None = None, revalidate: bool = False):
        self.cache_dir = Path(cache_dir) / "projects" if cache_dir else None
        self.revalidate = revalidate
        self._roots: dict[str, tuple] = {}  # directory -> (root, dist_info, top) or None
        self._projects: dict[tuple, Project] = {}
        self._site_maps: dict[str, dict] = {}
        self._cache_root = cache_dir
        self._indexes: dict[str, object] = {}

    def index_for(self, project: Project):
        """The project index (see index.py) of a project, built once per process (the language server
        rebuilds it when a module it read changed on disk); None for files outside any project."""
        from tflint_notes.project.index import build_index

        if project.root is None:
            return None
        found = self._indexes.get(project.root)
        if found is not None and not (self.revalidate and found.stale()):
            return found
        site = site_package_root(project.root)
        found = build_index(project.root, site[1] if site is not None else None, self._cache_root)
        self._indexes[project.root] = found
        return found

    def view_for(self, path: str | None, project: Project, file_facts=None):
        """What the project index says to the module at `path` (NO_VIEW without a project or a path).
        `file_facts`: the screen's walk of the module's AST, or a function that makes it, if the caller has
        one (called only when the index needs the module's facts; it then does not parse the module again)."""
        from tflint_notes.project.view import NO_VIEW

        if not path or path in ("-", "stdin"):
            return NO_VIEW
        index = self.index_for(project)
        if index is None:
            return NO_VIEW
        if file_facts is not None:
            from tflint_notes.project.facts import module_facts
            from tflint_notes.project.index import module_identity

            site = site_package_root(project.root)
            identity = module_identity(project.root, site[1] if site is not None else None, path)
            if identity is not None and index.module_name(path) == identity[0] and not index.has_facts(identity[0]):
                walked = file_facts() if callable(file_facts) else file_facts
                try:
                    if walked is not None:
                        index.supply(path, identity[0], module_facts(walked, *identity))
                except RecursionError:
                    pass
        return index.view(path)

    def for_path(self, path: str | None) -> Project:
        if not path or path == "-":
            directory = os.getcwd()
        else:
            absolute = os.path.abspath(path)
            directory = absolute if os.path.isdir(absolute) else os.path.dirname(absolute)
        where = self.locate(directory)
        if where is None:
            return NO_PROJECT
        project = self._projects.get(where)
        if project is not None and (not self.revalidate or _unchanged(project)):
            return project
        project = self._load(where)
        self._projects[where] = project
        return project

    def locate(self, directory: str) -> tuple | None:
        """(root, dist-info, top-level name) of the project that owns `directory`."""
        if directory in self._roots:
            return self._roots[directory]
        site = site_package_root(directory)
        if site is not None:
            site_dir, top = site
            mapping = self._site_maps.get(site_dir)
            if mapping is None:
                mapping = self._site_maps[site_dir] = top_level_map(site_dir)
            found = (os.path.join(site_dir, top), mapping.get(top), top)
        else:
            found = None
            current = directory
            visited = []
            while True:
                if current in self._roots:
                    found = self._roots[current]
                    break
                visited.append(current)
                if is_project_dir(listdir(current)):
                    found = (current, None, None)
                    break
                parent = os.path.dirname(current)
                if parent == current or len(visited) > 200:
                    break
                current = parent
            for seen in visited:
                self._roots[seen] = found
        self._roots[directory] = found
        return found

    def _load(self, where: tuple) -> Project:
        root, dist_info, top = where
        key = hashlib.blake2b(f"{_FORMAT}\0{root}\0{dist_info}\0{top}".encode(), digest_size=16).hexdigest()
        cached = self._read_cache(key)
        if cached is not None and _unchanged(cached):
            return cached
        project = build_project(root, dist_info, top)
        self._write_cache(key, project)
        return project

    def _read_cache(self, key: str) -> Project | None:
        if self.cache_dir is None:
            return None
        try:
            with open(self.cache_dir / f"{key}.json", encoding="utf-8") as handle:
                data = json.load(handle)
            t = data["target"]
            target = Target(tuple(t["tf_oldest"]), tuple(t["tf_newest"]), t["tf_keras"], t["keras2"],
                            t["tensorflow_why"], t["tf_keras_why"], t["keras_why"], tuple(t["notes"]))
            return Project(data["root"], target, frozenset(data["first_party"]), tuple(data["sources"]),
                           tuple((p, d) for p, d in data["files"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _write_cache(self, key: str, project: Project) -> None:
        if self.cache_dir is None:
            return
        t = project.target
        data = {"root": project.root, "first_party": sorted(project.first_party), "sources": list(project.sources),
                "files": [list(f) for f in project.files],
                "target": {"tf_oldest": list(t.tf_oldest), "tf_newest": list(t.tf_newest), "tf_keras": t.tf_keras,
                           "keras2": t.keras2, "tensorflow_why": t.tensorflow_why, "tf_keras_why": t.tf_keras_why,
                           "keras_why": t.keras_why, "notes": list(t.notes)}}
        try:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.cache_dir, prefix=".tmp-")
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(data, handle)
            os.replace(tmp, self.cache_dir / f"{key}.json")
        except OSError:
            pass  # a cache that cannot be written is just a slower run

    def invalidate_indexes(self) -> None:
        self._indexes.clear()

    def invalidate(self) -> None:
        self._indexes.clear()
        self._projects.clear()
        self._roots.clear()
        self._site_maps.clear()


def _unchanged(project: Project) -> bool:
    """Do the files a model was built from still have the same contents?  (A new description file in the
    root is not seen: the language server calls `invalidate` when one is saved.)"""
    for path, digest in project.files:
        try:
            with open(path, "rb") as handle:
                if hashlib.blake2b(handle.read(), digest_size=16).hexdigest() != digest:
                    return False
        except OSError:
            return False
    return True


_STORES: dict = {}


def store_for(cache_dir: str | None, revalidate: bool = False) -> ProjectStore:
    """The process's store for a cache directory (the CLI's workers and the flake8 plugin share one)."""
    key = (cache_dir, revalidate)
    store = _STORES.get(key)
    if store is None:
        store = _STORES[key] = ProjectStore(cache_dir, revalidate)
    return store
