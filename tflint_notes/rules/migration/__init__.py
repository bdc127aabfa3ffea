"""Code written for TF1 or Keras 2 that TensorFlow 2.21 + Keras 3 reject (TFN6xx): one module per rule,
shared lookups in `_shared.py`.  Importing this package registers its rules."""

import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    if not _module.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_module.name}")
