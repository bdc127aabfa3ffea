"""Keyword rules (TFN3xx): misspelled keywords (TFN301), TF1 keywords (TFN302), dropout rates (TFN303), and the
opt-in reduce-without-axis (TFN901).

One module per rule, shared helpers in `_shared.py` (other families use its signature tables and helpers through
this package).  Importing this package registers its rules."""

import importlib
import pkgutil

from tflint_notes.rules.keywords._shared import (  # noqa: F401  (the helpers other families use)
    LAYER_CALL_KEYWORDS, MODEL_METHOD_PREFIX, OPEN, accepted_keywords, callee_text, closest, edit_distance,
    keras3_signatures, own_method, signatures, tf1_keyword, without_arg,
)

for _module in pkgutil.iter_modules(__path__):
    if not _module.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_module.name}")
