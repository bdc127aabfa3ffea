"""The TensorFlow/Keras a project is checked against: inferred from what it declares, or configured.

A finding of a rule that only fails from some TensorFlow release on (TF1 names from 2.0, the Keras 3 switch
and `tf.estimator` from 2.16) is reported only if some version the project allows has it failing; the
newest allowed version decides.  Unpinned or unknown: the newest TensorFlow the data tables describe.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field, replace
from importlib import resources

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from tflint_notes.project.declared import Declared

TF_DISTRIBUTIONS = frozenset({
    "tensorflow", "tensorflow-cpu", "tensorflow-gpu", "tensorflow-macos", "tensorflow-intel",
    "tensorflow-aarch64", "tensorflow-rocm", "intel-tensorflow", "tensorflow-cpu-aws"})
TF_NIGHTLY = frozenset({"tf-nightly", "tf-nightly-cpu", "tf-nightly-gpu", "tf-nightly-macos"})
LEGACY_KERAS_DISTRIBUTIONS = frozenset({"tf-keras", "tf-keras-nightly"})
KERAS3_FROM = (2, 16)  # TF 2.16 made `tf.keras` Keras 3 and dropped tf.estimator


@functools.lru_cache(maxsize=1)
def newest_tensorflow() -> tuple[int, int]:
    """The TensorFlow release the data tables were generated from."""
    text = resources.files("tflint_notes").joinpath("data/api_keras.json").read_text(encoding="utf-8")
    version = json.loads(text)["versions"]["tensorflow"]
    major, minor = version.split(".")[:2]
    return int(major), int(minor)


def releases() -> list[tuple[int, int]]:
    """TensorFlow's minor releases up to the newest the tables describe."""
    newest = newest_tensorflow()
    return [(1, minor) for minor in range(16)] + [(2, minor) for minor in range(newest[1] + 1)]


def allowed_releases(specifiers: list[SpecifierSet], candidates: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The minor releases some patch release of which satisfies every specifier set."""
    out = []
    for major, minor in candidates:
        versions = [Version(f"{major}.{minor}.{patch}") for patch in range(10)]
        if any(all(spec.contains(v, prereleases=True) for spec in specifiers) for v in versions):
            out.append((major, minor))
    return out


def _allowed(used: list[Declared], specifiers: list[SpecifierSet], candidates: list) -> list[tuple[int, int]]:
    """Requirements that always apply must all hold; those for one environment or one extra
    (`; python_version >= "3.10"`, `; sys_platform == "darwin"`, `extras_require`) are alternatives: a release
    is allowed if it satisfies every unconditional requirement and some conditional one."""
    always = [spec for req, spec in zip(used, specifiers) if not req.conditional]
    either = [spec for req, spec in zip(used, specifiers) if req.conditional]
    allowed = allowed_releases(always, candidates)
    if either:
        some = set()
        for spec in either:
            some.update(allowed_releases([spec], candidates))
        allowed = [release for release in allowed if release in some]
    return allowed


def show(version: tuple[int, int]) -> str:
    return f"{version[0]}.{version[1]}"


@dataclass(frozen=True)
class Target:
    """What the checked code runs on."""

    tf_oldest: tuple[int, int]
    tf_newest: tuple[int, int]
    tf_keras: bool = False  # `tf.keras` is Keras 2 (TF < 2.16, or tf-keras / TF_USE_LEGACY_KERAS=1)
    keras2: bool = False  # `import keras` is Keras 2 (keras<3, or TF < 2.16 without a Keras 3 requirement)
    tensorflow_why: str = ""  # "tensorflow>=2.13,<2.16 from setup.py:41"
    tf_keras_why: str = ""  # "tf-keras>=2.15 from setup.py:44"
    keras_why: str = ""
    notes: tuple[str, ...] = ()  # sources that could not be read, fallbacks, conflicts

    def fails_from(self, release: tuple[int, int]) -> bool:
        """Does some TensorFlow release the code may run on have a failure that starts at `release`?"""
        return self.tf_newest >= release

    @property
    def keras3(self) -> bool:
        return not self.tf_keras

    def tensorflow_text(self) -> str:
        if self.tf_oldest == self.tf_newest:
            return show(self.tf_newest)
        return f"{show(self.tf_oldest)} to {show(self.tf_newest)}"

    def describe(self) -> str:
        tf_keras = "Keras 2 (legacy)" if self.tf_keras else "Keras 3"
        keras = "Keras 2" if self.keras2 else "Keras 3"
        return (f"TensorFlow {self.tensorflow_text()} ({self.tensorflow_why}); tf.keras: {tf_keras} "
                f"({self.tf_keras_why or 'default'}); keras: {keras} ({self.keras_why or 'default'})")

    def as_dict(self) -> dict:
        return {"tensorflow": [show(self.tf_oldest), show(self.tf_newest)], "tensorflow_from": self.tensorflow_why,
                "tf_keras_legacy": self.tf_keras, "tf_keras_from": self.tf_keras_why,
                "keras2": self.keras2, "keras_from": self.keras_why,
                "notes": list(self.notes)}

    def fingerprint(self) -> str:
        return f"{show(self.tf_oldest)}-{show(self.tf_newest)}:{int(self.tf_keras)}{int(self.keras2)}"


def default_target(why: str = "no TensorFlow requirement found: the newest the tables describe") -> Target:
    newest = newest_tensorflow()
    return Target(newest, newest, tensorflow_why=why)


@dataclass
class Evidence:
    """What the project says beyond its requirements."""

    legacy_keras: list[str] = field(default_factory=list)  # "TF_USE_LEGACY_KERAS=1 in pkg/__init__.py:3"
    refuses_keras3: list[str] = field(default_factory=list)


def infer(declared: list[Declared], evidence: Evidence, problems: list[str]) -> Target:
    candidates = releases()
    notes = list(problems)
    tf_reqs = [d for d in declared if d.name in TF_DISTRIBUTIONS]
    nightly = [d for d in declared if d.name in TF_NIGHTLY]
    specifiers, used = [], []
    for req in tf_reqs:
        try:
            specifiers.append(SpecifierSet(req.specifier))
        except InvalidSpecifier:  # packaging parsed it once already; cannot happen, but never crash
            notes.append(f"{req.where}: cannot read the version of {req.text!r}")
            continue
        used.append(req)
    newest = newest_tensorflow()
    pinned = [u for u, s in zip(used, specifiers) if str(s)]
    if nightly and not pinned:
        target = default_target(f"{nightly[0].text} from {nightly[0].where}: the newest the tables describe")
    elif not pinned:
        why = (f"{used[0].text} from {used[0].where}: unpinned, the newest the tables describe" if used
               else "no TensorFlow requirement found: the newest the tables describe")
        target = default_target(why)
    else:
        allowed = _allowed(used, specifiers, candidates)
        shown = "; ".join(f"{u.text.split(';')[0].strip()} from {u.where}" for u in pinned)
        if not allowed:
            above = _allowed(used, specifiers, [(2, minor) for minor in range(newest[1] + 1, newest[1] + 20)])
            if above:
                target = default_target(f"{shown}: newer than the tables, checked against {show(newest)}")
            else:
                notes.append(f"no TensorFlow release satisfies every requirement ({shown}): the requirements "
                             f"conflict, so the default is used")
                target = default_target(f"conflicting requirements: the newest the tables describe")
        else:
            target = Target(allowed[0], allowed[-1], tensorflow_why=shown)
    return _keras(target, declared, evidence, notes)


def _keras(target: Target, declared: list[Declared], evidence: Evidence, notes: list[str]) -> Target:
    old_tf = target.tf_newest < KERAS3_FROM
    # tf-keras as a required dependency: an optional one (an extra, a test group) leaves Keras 3 users
    legacy = [d for d in declared if d.name in LEGACY_KERAS_DISTRIBUTIONS and not d.group]
    keras_reqs = [d for d in declared if d.name == "keras"]
    tf_keras, why = False, ""
    if old_tf:
        tf_keras, why = True, f"TensorFlow {show(target.tf_newest)} ships Keras 2"
    elif legacy:
        tf_keras, why = True, f"{legacy[0].text} from {legacy[0].where}"
    elif evidence.legacy_keras:
        tf_keras, why = True, evidence.legacy_keras[0]
    elif evidence.refuses_keras3:
        tf_keras, why = True, evidence.refuses_keras3[0]
    keras2 = old_tf or bool(evidence.refuses_keras3)
    keras_why = why if keras2 else ""
    if keras_reqs:
        specs = []
        for req in keras_reqs:
            try:
                specs.append(SpecifierSet(req.specifier))
            except InvalidSpecifier:
                continue
        majors = {major for major in (2, 3) if any(
            all(s.contains(Version(f"{major}.{minor}.0"), prereleases=True) for s in specs) for minor in range(20))}
        if majors == {2}:
            keras2, keras_why = True, f"{keras_reqs[0].text} from {keras_reqs[0].where}"
        elif 3 in majors and not evidence.refuses_keras3:
            keras2, keras_why = False, f"{keras_reqs[0].text} from {keras_reqs[0].where}"
    return replace(target, tf_keras=tf_keras, tf_keras_why=why, keras2=keras2, keras_why=keras_why,
                   notes=tuple(notes))


def override(target: Target, tensorflow: str | None, keras: str | None, where: str) -> Target:
    """Apply the configuration: `target-tensorflow` ("2.15" or a specifier set) and `keras`."""
    if tensorflow:
        allowed = allowed_releases([_setting_specifier(tensorflow)], releases())
        if allowed:
            target = replace(target, tf_oldest=allowed[0], tf_newest=allowed[-1],
                             tensorflow_why=f"target-tensorflow = {tensorflow!r} from {where}")
            old = target.tf_newest < KERAS3_FROM
            why = f"TensorFlow {show(target.tf_newest)} ships Keras 2" if old else ""
            target = replace(target, tf_keras=old, keras2=old, tf_keras_why=why, keras_why=why)
    if keras == "tf_keras":
        target = replace(target, tf_keras=True, tf_keras_why=f"keras = 'tf_keras' from {where}")
    elif keras == "keras3":
        why = f"keras = 'keras3' from {where}"
        target = replace(target, tf_keras=False, keras2=False, tf_keras_why=why, keras_why=why)
    return target


def _setting_specifier(value: str) -> SpecifierSet:
    """`target-tensorflow`: "2.15" (any 2.15.x), "2.15.1", or a specifier set; InvalidSpecifier otherwise."""
    spec = value.strip()
    if spec[:1].isdigit():
        spec = f"=={spec}.*" if spec.count(".") == 1 else f"=={spec}"
    return SpecifierSet(spec)


def valid_tensorflow_setting(value: str) -> bool:
    if not value.strip():
        return False
    try:
        return bool(allowed_releases([_setting_specifier(value)], releases()))
    except InvalidSpecifier:
        return False
