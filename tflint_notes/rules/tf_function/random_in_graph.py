"""TFN102: see the class docstring (the rule pages are generated from it)."""

from __future__ import annotations

import libcst as cst

from tflint_notes.fixes import keyword_arg
from tflint_notes.rule import PendingFix, Replacement, Rule
from tflint_notes.screen import FileFacts
from tflint_notes.rules.tf_function._shared import _is_none_node


def _bound_args(node: cst.Call, names: tuple[str, ...]) -> dict | None:
    """Map a call's arguments onto parameter `names` (positional then keyword); None if it cannot."""
    out: dict = {}
    for index, arg in enumerate(node.args):
        if arg.star:
            return None
        if arg.keyword is None:
            if index >= len(names):
                return None
            out[names[index]] = arg.value
        elif arg.keyword.value in names:
            out[arg.keyword.value] = arg.value
        else:
            return None
    return out


# np.random.<f> / random.<f> -> (parameter names, tf.random function, mapping of tf keyword -> np parameter)
_RANDOM_FIXES = {
    "numpy.random.uniform": (("low", "high", "size"), "uniform", (("minval", "low"), ("maxval", "high"))),
    "numpy.random.normal": (("loc", "scale", "size"), "normal", (("mean", "loc"), ("stddev", "scale"))),
    "random.uniform": (("a", "b"), "uniform", (("minval", "a"), ("maxval", "b"))),
    "random.gauss": (("mu", "sigma"), "normal", (("mean", "mu"), ("stddev", "sigma"))),
    "random.normalvariate": (("mu", "sigma"), "normal", (("mean", "mu"), ("stddev", "sigma"))),
    "random.random": ((), "uniform", ()),
}


_SEEDING = frozenset({"seed", "get_state", "set_state", "getstate", "setstate"})
_GENERATORS = frozenset({"RandomState", "default_rng", "Generator", "PCG64", "MT19937", "Philox", "SFC64",
                         "SeedSequence", "Random"})


class RandomInGraph(Rule):
    """## What it does
    Flags `np.random.*` and the standard library's `random.*` called in graph code (a
    `@tf.function`, a Keras `call`/`train_step`, a `tf.data` `map` function, or a helper called from
    one of these).

    ## Why is this bad?
    Graph code runs its Python once, while tracing. The random number is drawn at that moment and
    baked into the graph as a constant: every later call returns the *same* "random" value. Nothing
    fails; augmentation, noise and dropout written this way silently stop being random.

    ## Example
    ```python
    @tf.function
    def jitter(x):
        return x + np.random.normal(0.0, 0.1, size=(3,))
    ```

    ## Use instead
    ```python
    @tf.function
    def jitter(x):
        return x + tf.random.normal((3,), mean=0.0, stddev=0.1)
    ```

    ## Fix safety
    **Unsafe** (`--unsafe-fixes`) for `np.random.uniform/normal/rand/randn` and `random.random/uniform/
    gauss/normalvariate`: they become `tf.random.uniform`/`tf.random.normal` with the same shape and
    bounds. The values now change per call, as intended, but the random stream (and the dtype:
    float32 instead of float64) differs. Other functions (`randint`, `choice`, `shuffle`) get no fix,
    nor does a draw whose result is used as a NumPy array (`np.random.rand(3).astype(...)`) or passed to
    `tf.constant(...)` (which rejects a symbolic tensor).
    Seeding calls and generators built with a literal seed (`np.random.RandomState(0)`) are
    deterministic by design and are not flagged.

    ## Proof
    [`fixtures/TFN102/`](../fixtures/TFN102/): `before.py` returns the same value on three calls;
    `after_unsafe.py` returns different values.
    """

    code = "TFN102"
    fix_kind = "unsafe"
    name = "random-in-graph"
    summary = "np.random / random called in graph code (drawn once at trace time)"

    @staticmethod
    def screen(facts: FileFacts) -> bool:
        return any(q.startswith(("numpy.random.", "random.")) for c in facts.graph_calls()
                   for q in facts.qualnames(c.node.func))
    triggers = ("random",)

    def visit_Call(self, node: cst.Call) -> None:
        qual = self.ctx.resolve(node.func)
        if qual is None or not (qual.startswith("numpy.random.") or qual.startswith("random.")):
            return
        if qual.count(".") != (2 if qual.startswith("numpy.") else 1):
            return  # np.random.Generator methods etc. are reached through objects, not here
        last = qual.rsplit(".", 1)[-1]
        if last in _SEEDING or (last in _GENERATORS and node.args and all(
                isinstance(a.value, (cst.Integer, cst.SimpleString)) for a in node.args)):
            return  # seeding, or a generator with a fixed seed: deterministic by design
        callee = cst.Module(body=[]).code_for_node(node.func)
        alias = self.module_alias_for("tensorflow", "tf")
        fix = self._fix(node, qual, alias) if alias is not None and self.ctx.needs_array(node) is None else None
        self.report(node, f"{callee}() in {{context}} runs once at trace time: every call reuses the same value; "
                          f"use tf.random.*", fix=fix, in_graph=True)

    def _fix(self, node: cst.Call, qual: str, alias) -> PendingFix | None:
        tf_name, add_import = alias
        if qual in ("numpy.random.rand", "numpy.random.randn"):
            if any(a.keyword is not None or a.star for a in node.args):
                return None
            dims = [a.value for a in node.args]
            shape = cst.Tuple([cst.Element(d) for d in dims]) if len(dims) != 1 else cst.Tuple(
                [cst.Element(dims[0], comma=cst.Comma())])
            if not dims:
                shape = cst.List([])
            fn = "uniform" if qual.endswith("rand") else "normal"
            new = cst.Call(cst.parse_expression(f"{tf_name}.random.{fn}"), [cst.Arg(shape)])
            return PendingFix([Replacement(node, new)], safe=False, description=f"use tf.random.{fn}",
                              add_import=add_import)
        spec = _RANDOM_FIXES.get(qual)
        if spec is None:
            return None
        names, fn, mapping = spec
        bound = _bound_args(node, names)
        if bound is None:
            return None
        shape = bound.get("size", cst.List([]))
        if _is_none_node(shape):
            shape = cst.List([])
        args = [cst.Arg(shape)] + [keyword_arg(tf_kw, bound[np_kw]) for tf_kw, np_kw in mapping if np_kw in bound]
        new = cst.Call(cst.parse_expression(f"{tf_name}.random.{fn}"), args)
        return PendingFix([Replacement(node, new)], safe=False, description=f"use tf.random.{fn}",
                          add_import=add_import)
