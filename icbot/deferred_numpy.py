"""numpy is imported under icbot's broker commands but never used by them: it runs only when something uses it.

ib_async imports eventkit, and eventkit imports numpy at the top of one operator module (`eventkit.ops.array`, an
event operator that collects values into an array), which neither ib_async nor icbot ever uses. Running numpy's
package costs every broker command (run-today, check and kill with a trade open, status with the gateway, doctor)
about 0.08 s of CPU at its start — a tenth of a run-today's whole CPU — for a module nothing reads.

`defer()` registers a stand-in module under the name `numpy`: `import numpy as np` binds the stand-in without
running anything, and the first attribute anyone reads from it (`np.asarray`, pandas' first use, a submodule
import, which needs its `__path__`) imports the real numpy, puts it in `sys.modules` and copies its namespace into
the stand-in, so a module that bound the stand-in sees numpy from then on. (The standard library's
`importlib.util.LazyLoader` cannot be used: on Python 3.11 a second `import numpy` reads the module's `__spec__`,
which makes it load at once.) The one user of numpy in an icbot command is pandas under exchange_calendars, when
the session table is built at a command's start (icbot/runner/sessions.py) — never at the entry.

It is process-wide, so only the console-script entry point calls it, while the process has a single thread and no
numpy yet; a test process or a library user keeps the ordinary import.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
import types
from typing import Any

NAME = "numpy"


class _StandIn(types.ModuleType):
    """`numpy` until something reads from it (module attributes set here are found without `__getattr__`)."""

    def __getattr__(self, attr: str) -> Any:
        return getattr(_load(self), attr)


def _load(stand_in: _StandIn) -> types.ModuleType:
    if sys.modules.get(NAME) is stand_in:
        del sys.modules[NAME]
    real = importlib.import_module(NAME)
    vars(stand_in).update(vars(real))
    return real


def defer() -> bool:
    """Register the stand-in, if numpy is installed and not imported yet and this is the process's only thread.
    True when it was registered."""
    if NAME in sys.modules or threading.active_count() != 1:
        return False
    spec = importlib.util.find_spec(NAME)
    if spec is None:
        return False
    stand_in = _StandIn(NAME)
    stand_in.__spec__ = spec
    stand_in.__loader__ = spec.loader
    sys.modules[NAME] = stand_in
    return True


def is_deferred() -> bool:
    """True while `numpy` is the stand-in and the real package has not run."""
    return isinstance(sys.modules.get(NAME), _StandIn)
