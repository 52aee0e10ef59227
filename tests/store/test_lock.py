"""The day lock, held by a real second process: refused while it lives, free the moment it dies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from datetime import date, datetime
from pathlib import Path

import pytest

from icbot.errors import EXIT_OK, IcbotError
from icbot.store import AlreadyRunning, day_lock
from icbot.store.lock import lock_path

DAY = date(2026, 11, 24)

HOLD = textwrap.dedent(
    """
    import sys
    from datetime import date
    from pathlib import Path
    from icbot.store import day_lock
    with day_lock(Path(sys.argv[1]), date(2026, 11, 24), sys.argv[2]) as path:
        print(path, flush=True)
        sys.stdin.readline()  # hold until told (or killed)
    print("released", flush=True)
    """
)


def _holder(lock_dir: Path, mode: str = "paper") -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(lock_dir), mode],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    assert line.endswith(f"icbot-2026-11-24-{mode}.lock"), proc.stderr
    return proc


def test_a_second_process_is_refused_while_the_first_holds_the_lock(tmp_path: Path):
    holder = _holder(tmp_path / "locks")
    try:
        with pytest.raises(AlreadyRunning) as info, day_lock(tmp_path / "locks", DAY, "paper"):
            pytest.fail("the lock was granted twice")
        assert f"pid {holder.pid}" in str(info.value), "the message names the holder"
        assert info.value.exit_code == EXIT_OK and isinstance(info.value, IcbotError)
        # a different mode or day is an independent lock
        with day_lock(tmp_path / "locks", DAY, "experiment"), day_lock(tmp_path / "locks", date(2026, 11, 25), "paper"):
            pass
    finally:
        holder.kill()
        holder.wait(timeout=10)


def test_the_lock_is_released_when_the_holder_is_killed(tmp_path: Path):
    holder = _holder(tmp_path)
    os.kill(holder.pid, signal.SIGKILL)  # no cleanup code runs; only the kernel can release it
    holder.wait(timeout=10)
    with day_lock(tmp_path, DAY, "paper") as path:
        assert path == lock_path(tmp_path, DAY, "paper")
        assert path.read_text().startswith(f"pid {os.getpid()} ")


def test_the_lock_is_released_on_normal_exit_of_the_block(tmp_path: Path):
    holder = _holder(tmp_path)
    assert holder.stdin is not None and holder.stdout is not None
    holder.stdin.write("\n")
    holder.stdin.flush()
    assert holder.stdout.readline().strip() == "released"
    holder.wait(timeout=10)
    with day_lock(tmp_path, DAY, "paper"):
        pass


def test_the_lock_is_reentrant_only_after_release_within_one_process(tmp_path: Path):
    with day_lock(tmp_path, DAY, "paper"), pytest.raises(AlreadyRunning), day_lock(tmp_path, DAY, "paper"):
        pass
    with day_lock(tmp_path, DAY, "paper"):
        pass
    assert lock_path(tmp_path, DAY, "paper").exists(), "the lock file is never deleted"


def test_bad_names_are_refused(tmp_path: Path):
    with pytest.raises(ValueError, match="mode"):
        lock_path(tmp_path, DAY, "../etc")
    with pytest.raises(TypeError):
        lock_path(tmp_path, datetime(2026, 11, 24, 9, 31), "paper")
