"""Fix application: overlaps, shared edits, fixes that would break the code, bounded rounds."""

from __future__ import annotations

import textwrap

import libcst as cst
import pytest

from tflint_notes.engine import Linter, LintResult, apply_edits, fix_text
from tflint_notes.results import Diagnostic, Edit, Fix


def test_identical_edits_from_two_fixes_are_applied_once():
    shared = Edit(0, 0, "import tensorflow as tf\n")
    fixes = [Fix((shared, Edit(5, 6, "X")), True), Fix((shared, Edit(8, 9, "Y")), True)]
    text, applied = apply_edits("aaaaabbbccc\n", fixes)
    assert applied == [0, 1]
    assert text == "import tensorflow as tf\naaaaaXbbYcc\n"


def test_overlapping_fix_is_deferred_not_lost():
    fixes = [Fix((Edit(0, 10, "outer"),), True), Fix((Edit(2, 4, "in"),), True)]
    text, applied = apply_edits("0123456789rest", fixes)
    assert applied == [0] and text == "outerrest"


class _StubLinter:
    """Reports one diagnostic with a fix that breaks the syntax, and one good fix."""

    def lint(self, text, **_):
        diags = []
        if "bad_target" in text:
            at = text.index("bad_target")
            diags.append(Diagnostic("TFN101", "m", 1, at, 1, at + 10,
                                    Fix((Edit(at, at + 10, "("),), True)))
        if "good_target" in text:
            at = text.index("good_target")
            diags.append(Diagnostic("TFN101", "m", 2, 0, 2, 11, Fix((Edit(at, at + 11, "x"),), True)))
        return LintResult(diags)


def test_fix_that_would_not_parse_is_dropped_and_reported():
    outcome = fix_text(_StubLinter(), "x = bad_target\ny = good_target\n")
    assert outcome.text == "x = bad_target\ny = x\n"
    [(_, why)] = outcome.dropped
    assert why.startswith("the fixed code would not compile: ")
    cst.parse_module(outcome.text)


class _OneEdit:
    """Reports one finding whose fix replaces `old` by `new`."""

    def __init__(self, old, new):
        self.old, self.new = old, new

    def lint(self, text, **_):
        if self.old not in text:
            return LintResult([])
        at = text.index(self.old)
        return LintResult([Diagnostic("TFN301", "m", 1, at, 1, at, Fix((Edit(at, at + len(self.old), self.new),), True))])


@pytest.mark.parametrize("source, old, new, reason", [
    # ast.parse accepts all of these; the compiler does not
    ("f(a=1, b=2)\n", "b=2", "a=2", "keyword argument repeated"),
    ("def f():\n    x = 1\n", "x = 1", "nonlocal y", "no binding for nonlocal 'y' found"),
    ("x = 1\n", "x = 1", "return 1", "'return' outside function"),
    # compiles, but reads a name that nothing defines
    ("import numpy as np\nnp.exp(1)\n", "np.exp", "tf.exp", "would use `tf`, which nothing defines"),
    ("def f(x):\n    return np.exp(x)\nimport numpy as np\n", "np.exp", "tnp.exp", "`tnp`"),
])
def test_the_gate_refuses_code_that_would_fail(source, old, new, reason):
    outcome = fix_text(_OneEdit(old, new), source)
    assert outcome.text == source and not outcome.applied
    [(_, why)] = outcome.dropped
    assert reason in why


@pytest.mark.parametrize("source, old, new", [
    ("import tensorflow as tf\nimport numpy as np\nnp.exp(1)\n", "np.exp", "tf.exp"),
    ("def f():\n    global tf\n    import tensorflow as tf\nnp.exp(1)\n", "np.exp", "tf.exp"),  # bound by `global`
    ("from numpy import *\nexp(1)\n", "exp(1)", "log(1)"),  # a star import may bind anything: not judged
    ("print(undefined_before)\n", "print", "len"),  # names that were undefined before do not count
])
def test_the_gate_lets_working_fixes_through(source, old, new):
    outcome = fix_text(_OneEdit(old, new), source)
    assert outcome.dropped == [] and outcome.text == source.replace(old, new, 1)


def test_nested_fixes_converge_and_refix_is_a_no_op():
    src = textwrap.dedent("""\
        import numpy as np
        import tensorflow as tf

        @tf.function
        def f(x):
            return np.append(np.exp(np.square(x)), np.abs(x), axis=-1)  # keep me
        """)
    linter = Linter(["TFN101"])
    once = fix_text(linter, src)
    assert "return tf.concat([tf.exp(tf.square(x)), tf.abs(x)], axis=-1)  # keep me" in once.text
    assert len(once.applied) == 4 and once.remaining == []
    assert fix_text(linter, once.text).text == once.text


def test_multiline_replacement_keeps_block_indentation():
    src = textwrap.dedent("""\
        import numpy as np
        import tensorflow as tf

        class A:
            @tf.function
            def f(self, x):
                if True:
                    y = np.append(
                        x,  # first
                        x,
                        axis=0,
                    )
                return y
        """)
    fixed = fix_text(Linter(["TFN101"]), src).text
    assert fixed == src.replace("y = np.append(\n                x,  # first\n                x,",
                                "y = tf.concat(\n                [x,  # first\n                x],")


LAYER = "class Debug(keras.layers.Layer):\n    def call(self, x):\n        print('x', x)\n        return x\n"


@pytest.mark.parametrize("head, expected_head", [
    # no import at all of TensorFlow: after the shebang, the encoding line, the docstring, __future__, imports
    ("#!/usr/bin/env python\n# -*- coding: utf-8 -*-\nimport keras\n\n\n",
     "#!/usr/bin/env python\n# -*- coding: utf-8 -*-\nimport keras\nimport tensorflow as tf\n\n\n"),
    ('#!/usr/bin/env python\n"""Doc."""\nfrom __future__ import annotations\nimport keras\n\n',
     '#!/usr/bin/env python\n"""Doc."""\nfrom __future__ import annotations\nimport keras\nimport tensorflow as tf\n\n'),
    # the module's only import is inside the function: before the first statement, below the file header
    ("#!/usr/bin/env python\n# -*- coding: utf-8 -*-\n# Copyright header\n\n# The layer\n",
     "#!/usr/bin/env python\n# -*- coding: utf-8 -*-\n# Copyright header\n\nimport tensorflow as tf\n\n\n# The layer\n"),
    ("#!/usr/bin/env python\n# The layer\n",
     "#!/usr/bin/env python\n# The layer\nimport tensorflow as tf\n\n\n"),
])
def test_an_added_import_lands_below_the_file_header(head, expected_head):
    body = LAYER if "import keras" in head else "def make():\n    import keras\n\n    " + LAYER.replace("\n", "\n    ").rstrip() + "\n"
    source = head + body
    fixed = fix_text(Linter(["TFN103"]), source, unsafe=True).text
    assert fixed == expected_head + body.replace("print(", "tf.print("), fixed
    compile(fixed, "<fixed>", "exec")


def test_an_added_import_keeps_crlf():
    source = "import keras\r\n\r\n\r\n" + LAYER.replace("\n", "\r\n")
    fixed = fix_text(Linter(["TFN103"]), source, unsafe=True).text
    assert fixed.startswith("import keras\r\nimport tensorflow as tf\r\n\r\n") and "\n" not in fixed.replace("\r\n", "")


def test_the_parse_skips_node_validation_only_while_it_parses():
    """parse_with_lines builds the tree without libcst's per-node `_validate()` (13 % of the parse): the same
    tree as libcst's own parse, and nodes built afterwards (by fixes) are validated again."""
    import libcst as cst

    from tflint_notes.engine import parse_with_lines

    text = "import tensorflow as tf\n\n\n@tf.function\ndef f(x, *, y=1):\n    return [a for a in x if a](y)\n"
    module, _ = parse_with_lines(text)
    assert module.deep_equals(cst.parse_module(text)) and module.code == text
    with pytest.raises(cst.CSTValidationError):
        cst.Name("not a name")
