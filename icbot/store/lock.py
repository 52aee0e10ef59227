"""The day lock: at most one process works on a (trade date, mode) at a time.

A kernel ``flock`` on ``<lock_dir>/icbot-<YYYY-MM-DD>-<mode>.lock``. The kernel drops it when the holder
exits for any reason (crash, SIGKILL, power-off), so there is no stale lock to clean up and no PID-file
guesswork. The file itself is never deleted (unlinking a flock file races with a process about to lock it);
it holds the holder's pid and host as a hint for the message a second process prints.

The lock complements, and does not replace, the broker-side guard (a date-stamped orderRef looked up at the
gateway before any entry): the lock covers two processes on this machine, the orderRef covers everything.

Exit code of `AlreadyRunning`: 0. Another icbot process is already doing today's work, so for this process
there is "nothing to do" (exit 0, docs/operations.md) — it is not a failed or skipped trade (3), and it must not alert
as one. The message names the holder so a hung process is still visible in the logs.
"""

from __future__ import annotations

import errno
import fcntl
import os
import re
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path

from icbot.errors import EXIT_OK, IcbotError

_MODE_RE = re.compile(r"^[a-z][a-z0-9_]*$")


class AlreadyRunning(IcbotError):
    """Another process holds today's lock for this mode; this one has nothing to do (exit 0)."""

    exit_code = EXIT_OK

    def __init__(self, path: Path, holder: str) -> None:
        self.path = path
        self.holder = holder
        super().__init__(
            f"another icbot process ({holder or 'unknown holder'}) already works on this day; "
            f"nothing to do (lock {path})"
        )


def lock_path(lock_dir: Path, trade_date: date, mode: str) -> Path:
    if isinstance(trade_date, datetime) or not isinstance(trade_date, date):
        raise TypeError(f"trade_date must be a datetime.date, got {type(trade_date).__name__}")
    if not _MODE_RE.match(mode):
        raise ValueError(f"mode {mode!r} cannot name a lock file")
    return Path(lock_dir).expanduser() / f"icbot-{trade_date.isoformat()}-{mode}.lock"


@contextmanager
def day_lock(lock_dir: Path, trade_date: date, mode: str) -> Iterator[Path]:
    """Hold the (trade_date, mode) lock for the block; raise AlreadyRunning at once if another process has it."""
    path = lock_path(lock_dir, trade_date, mode)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)  # not inherited by children (PEP 446)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise
            raise AlreadyRunning(path, _read_holder(fd)) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()}\n".encode(), 0)
        try:
            yield path
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _read_holder(fd: int) -> str:
    try:
        return os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
    except OSError:
        return ""
