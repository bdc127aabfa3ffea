"""Graph-mode rules (TFN1xx): Python and NumPy run once, at trace time, on symbolic tensors.

One module per rule (an opt-in broad form lives with its default rule); shared helpers in `_shared.py`.
Importing this package registers its rules."""

import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    if not _module.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_module.name}")
