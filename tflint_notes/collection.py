"""Keeping CPython's cyclic garbage collector out of the way of one file's work.

Linting a file builds large short-lived trees (CPython's AST, libcst's tree, the analysis), several of them
cyclic, freed when the file is done.  While they are alive, allocations keep starting collections that rescan
them and every other live object of the process (in a flake8 worker, flake8's own state too).  Measured over
the 2,692 files of the bench tree with `check -j2`: the collector cost 8-10 s of 35-39 s of CPU.

So the collector is paused for one file's work and switched back on when it is done; CPython then runs the
collection its own schedule calls for at the next allocation.  The file's trees must be dead by then (the
CLI drops the parse it kept for the project index: `Linter.forget_parse`), so their cycles die in the young
generation instead of being promoted.  Full collections are left to CPython's schedule, which waits until
the objects promoted since the last one reach a quarter of the long-lived heap: forcing one whenever the
counts reached their thresholds rescanned the whole project index every tenth file (realcode corpus,
`check -j1`: 251 full collections, 35.9 s of 107 s).  At the first full collection the survivors (rule
tables, API tables, flake8's plugins) are frozen out of the collector's sight, as CPython documents for
long-lived state: later full collections scan only what came after.
"""

from __future__ import annotations

import contextlib
import gc

_frozen = False
_paused = False  # has a pause run in this process?  Until then a full collection is none of ours to act on


@contextlib.contextmanager
def collection_paused(young: bool = False):
    """No cyclic collection inside; then the collection that is due.  A nested use leaves the collector paused
    for the outer one; with `young`, it first collects the young generation: the project index derives
    hundreds of modules inside the first file's pause, and their cycles must not wait for the file to end
    (tried: a flake8 worker grew to 550 MB).  Without it, nothing is scanned while the file's own trees are
    still alive (a young collection then would only promote them, and their cycles would wait in the oldest
    generation for a full collection)."""
    global _paused
    _paused = True
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()  # the collection that is due runs at the next allocation, on CPython's schedule
        elif young:
            gc.collect(0)


def _freeze_first_survivors(phase: str, info: dict) -> None:
    """What survives the process's first full collection lives as long as the process (rule tables, API
    tables, flake8's plugins): frozen out of the collector's sight, as CPython documents for long-lived state.
    Garbage that joins it later is still freed by reference counting; only its cycles would stay."""
    global _frozen
    if phase == "stop" and info.get("generation") == 2 and not _frozen and _paused:
        _frozen = True
        gc.freeze()


gc.callbacks.append(_freeze_first_survivors)
