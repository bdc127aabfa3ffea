"""Rule families.  Importing this package registers every rule (see `Rule.__init_subclass__`)."""

import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
