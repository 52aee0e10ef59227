"""Small JSON files that icbot keeps beside the journal to spare later processes work it has done once (the
session table, icbot/runner/sessions.py; the apprise plugin per alert scheme, icbot/alert_plugins.py).

They are caches: a reader that finds one missing, unreadable or damaged does the work again, and a folder that
cannot be written to only means no cache. Each is replaced atomically, so a reader in another process never sees
half a file.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any


def read(path: Path) -> Any:
    """The file's JSON value, or None when it is missing or is not JSON."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def write(path: Path, value: Any) -> None:
    """Replace the file with `value` as compact JSON, atomically; nothing happens where the folder is missing or
    cannot be written to."""
    if not path.parent.is_dir():
        return
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=path.suffix, dir=path.parent)
    except OSError:
        return
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(value, fh, separators=(",", ":"))
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
