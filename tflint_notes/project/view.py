"""What the project index tells the analysis of one module: a small frozen answer sheet.

The view holds only answers about names the module itself uses (its `refs`: class bases and call targets that
may be the project's own) and about its own functions, so it is complete for that module, can be shipped to a
worker process, and its fingerprint goes into the file's result-cache key: when another module changes in a way
that changes one of these answers, the file is linted again; otherwise its cached result stands.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Entry:
    """A function of the viewed module that graph code of another module calls with tensors."""

    reason: str  # for messages: "called from @tf.function `train_step` in pkg/train.py:42"
    tensor_params: frozenset


@dataclass(frozen=True)
class ModuleView:
    module: str | None = None  # dotted name ("pkg.blocks"); None outside a project index
    package: str | None = None  # where its relative imports start
    entries: tuple = ()  # ((function or "Class.method", Entry), ...)
    keras: tuple = ()  # ((project class qualname, its Keras base qualname), ...)
    keywords: tuple = ()  # ((class qualname, method, accepted keywords or None), ...)
    methods: tuple = ()  # ((class qualname, method names its project classes define), ...)
    models: tuple = ()  # ((project function qualname, the Keras model factory every return of it calls), ...)
    _maps: dict = field(default_factory=dict, compare=False, repr=False, hash=False)

    def _map(self, name: str) -> dict:
        found = self._maps.get(name)
        if found is None:
            if name == "entries":
                found = dict(self.entries)
            elif name == "keras":
                found = dict(self.keras)
            elif name == "models":
                found = dict(self.models)
            elif name == "keywords":
                found = {(q, m): k for q, m, k in self.keywords}
            else:
                found = dict(self.methods)
            self._maps[name] = found
        return found

    @property
    def trivial(self) -> bool:
        """Nothing here changes what the module's own analysis concludes."""
        return not self.entries and not self.keras and not self.models

    def entry(self, name: str) -> Entry | None:
        return self._map("entries").get(name)

    def keras_base(self, qualname: str | None) -> str | None:
        """The Keras base a project class derives from through other modules, e.g. `keras.layers.Layer`."""
        return self._map("keras").get(qualname) if qualname else None

    def keywords_of(self, qualname: str, method: str) -> frozenset | None:
        """Keywords `method` of a project Keras class accepts ("**" when it takes **kwargs); None: unknown."""
        return self._map("keywords").get((qualname, method))

    def project_methods(self, qualname: str) -> frozenset | None:
        """Method names the project classes in a Keras class's bases define (None: not a class we know)."""
        return self._map("methods").get(qualname)

    def model_factory(self, qualname: str) -> str | None:
        """For a function of another project module that returns a Keras model, the factory it calls
        (`tensorflow.keras.Sequential`): its flavour is the model's."""
        return self._map("models").get(qualname)

    def fingerprint(self) -> str:
        if self.trivial:
            return ""
        # sets are written sorted: repr of a frozenset follows string hashing, which differs between processes
        # (the result cache would miss every file with a view on the next run)
        text = repr(_canonical((self.module, self.entries, self.keras, self.keywords, self.methods, self.models)))
        return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


def _canonical(value):
    """`value` with every set replaced by a sorted tuple (dataclasses by their fields), for a stable repr."""
    if isinstance(value, (set, frozenset)):
        return ("set", tuple(sorted((_canonical(v) for v in value), key=repr)))
    if isinstance(value, (tuple, list)):
        return tuple(_canonical(v) for v in value)
    if hasattr(value, "__dataclass_fields__"):
        return (type(value).__name__, tuple((name, _canonical(getattr(value, name)))
                                            for name in value.__dataclass_fields__ if not name.startswith("_")))
    return value


NO_VIEW = ModuleView()
