"""Keeping CPython's cyclic garbage collector out of the way of one file's work.

Linting a file builds large short-lived trees (CPython's AST, libcst's tree, the analysis), freed by reference
counting when the file is done.  While they are alive, allocations keep starting collections that rescan them
and every other live object of the process (in a flake8 worker, flake8's own state too).  Measured over the
2,692 files of the bench tree with `check -j2`: the collector cost 8-10 s of 35-39 s of CPU.

So the collector is paused for one file's work, and afterwards collects what its own thresholds call for, one
generation at a time as it would have (collecting only the young generation promotes what is still alive at
that point, the last file's parse kept for the next question, and never comes back for it once it is garbage:
tried, a worker grew to 630 MB).  At the first full collection the survivors (rule tables, API tables, the
project index, flake8's plugins) are frozen out of the collector's sight, as CPython documents for long-lived
state: later full collections scan only what came after.
"""

from __future__ import annotations

import contextlib
import gc

_frozen = False


@contextlib.contextmanager
def collection_paused():
    """No cyclic collection inside; then the collection that is due.  A nested use collects the young
    generation at its end and leaves the collector paused for the outer one: the project index derives
    hundreds of modules inside the first file's pause, and their cycles must not wait for the file to end
    (tried: a flake8 worker grew to 550 MB)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
            _collect_due()
        else:
            gc.collect(0)


def _collect_due() -> None:
    global _frozen
    counts, thresholds = gc.get_count(), gc.get_threshold()
    if counts[1] + 1 < thresholds[1]:
        gc.collect(0)
    elif counts[2] + 1 < thresholds[2]:
        gc.collect(1)
    else:
        gc.collect(2)
        if not _frozen:
            # What survives the process's first full collection lives as long as the process; garbage that
            # joins it later is still freed by reference counting, only its cycles would stay (the one file
            # parse alive at this moment, once).
            gc.freeze()
            _frozen = True
