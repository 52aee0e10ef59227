"""`icbot sim` as a real subprocess: prints ICBOT_CLOCK first, serves ib_async, stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from icbot.clock import Clock
from tests.sim.helpers import connect, run

ICBOT = Path(sys.executable).with_name("icbot")


def test_icbot_sim_prints_the_clock_serves_and_stops_on_sigterm():
    env = {k: v for k, v in os.environ.items() if k != "ICBOT_CLOCK"}
    proc = subprocess.Popen(
        [str(ICBOT), "sim", "--port", "0", "--seed", "7", "--start", "2026-11-24T09:31:00", "--speed", "60"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        first, second = proc.stdout.readline().strip(), proc.stdout.readline().strip()
        assert first.startswith("ICBOT_CLOCK=2026-11-24T09:31:00-05:00@"), first
        clock = Clock.parse(first.split("=", 1)[1])
        assert clock.speed == 60
        port = int(second.split("127.0.0.1:")[1].split()[0])

        async def go() -> None:
            ib = await connect("127.0.0.1", port)
            server_now = await ib.reqCurrentTimeAsync()
            assert abs((server_now - clock.now()).total_seconds()) < 3  # both sides read the same clock
            ib.disconnect()

        run(go())
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert "icbot sim stopped" in out


def test_icbot_sim_rejects_a_bad_fault_with_exit_code_2():
    result = subprocess.run(
        [str(ICBOT), "sim", "--port", "0", "--start", "2026-11-24T09:31:00", "--fault", "explode"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "unknown fault 'explode'" in result.stderr and result.stderr.count("\n") == 1
