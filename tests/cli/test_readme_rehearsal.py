"""The README's simulator rehearsal, run as written (only the folder and the port are made private to the test)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ICBOT = Path(sys.executable).with_name("icbot")


def rehearsal_script() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("### Rehearse a morning against the simulator") :]
    match = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert match, "the README's rehearsal has no sh block"
    return match.group(1)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_rehearsal_leaves_run_today_time_before_the_entry():
    script = rehearsal_script()
    start = re.search(r"--start \S*T(\d\d):(\d\d):(\d\d)", script)
    speed = re.search(r"--speed (\d+(?:\.\d+)?)", script)
    assert start and speed
    seconds_before_entry = (9 * 3600 + 32 * 60) - (int(start[1]) * 3600 + int(start[2]) * 60 + int(start[3]))
    # Two process start-ups (simulator, run-today) of about a second of real time each, plus the chain's
    # preload, must fit before 09:32 in virtual time with a wide margin.
    assert seconds_before_entry / float(speed[1]) >= 6, "the rehearsal would start run-today after 09:32"


@pytest.mark.e2e
@pytest.mark.slow
def test_the_rehearsal_trades_and_checks(tmp_path):
    script = rehearsal_script()
    port = str(_free_port())
    script = script.replace('ICBOT="$PWD/.venv/bin/icbot"', f'ICBOT="{ICBOT}"')
    script = script.replace("/tmp/icbot-rehearsal", str(tmp_path / "rehearsal")).replace("14002", port)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ICBOT_")}
    proc = subprocess.Popen(
        ["bash", "-c", script],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # the simulator runs in the background: on a timeout the whole group goes
    )
    try:
        out, err = proc.communicate(timeout=90)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"the rehearsal did not finish in 90 s:\n{out}\n{err}")
    assert proc.returncode == 0, out + err
    assert out.count("exit 0") == 2, out + err
    assert "done       ok" in out and "3 exits working" in out, out
