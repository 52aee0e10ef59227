"""Python's cyclic garbage collector is paused while an icbot process starts.

Start-up is imports: ib_async, apprise and icbot's runner, loaded by the command once the entry point has run (typer,
rich and the CLI come before it and are not covered), build tens of thousands of module, class and function objects
that live as long as the process, and the collector walks them again and again as they pile up — about
0.1 s of CPU for a command that loads the broker and the runner (run-today, a check with a trade open, kill), an
eighth of its start; a light command (a quiet check, a listing) imports too little for it to matter. So the entry
point (icbot.cli.app)
pauses the collector first, and the first step of real work calls `started()`: what start-up built is frozen (never
walked again) and collection resumes. The steps that call it are the ones every long-running command passes
through — the broker connection, the simulator's server, the status screen's first redraw, the demo and what-if
runs; a command that never reaches one is a short one (a listing, a config check), whose way out freezes its heap
and ends the pause (icbot.cli.app.main).
"""

from __future__ import annotations

import gc

_paused = False  # collection paused by `starting` and not yet resumed by `started`


def starting() -> None:
    """Pause collection for the imports of start-up (the entry point's first act)."""
    global _paused
    if gc.isenabled():
        gc.disable()
        _paused = True


def started() -> None:
    """Start-up is over: freeze what it built and collect again. Only a pause made by `starting` is ended (run-today
    pauses collection itself around the entry's send), so a second call, or one in a process that never paused
    (a library user, a test), changes nothing."""
    global _paused
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()
