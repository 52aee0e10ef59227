"""A dead alert endpoint never delays an order: alerts are delivered beside the trading work, not in its way.

The endpoint accepts TCP connections and never answers — the worst case for apprise (it waits out its read
timeout). An alert is fired right before the entry is sent (ICBOT_TEST_ALERT_AT=order:start); the ladder's rungs
must still go out every `entry.reprice_seconds`, and the alert must still be journaled, as not delivered.
"""

from __future__ import annotations

import itertools
import socket
import statistics
import threading
from collections.abc import Iterator

import pytest

from icbot.core.zones import NEW_YORK
from icbot.sim.fills import FillParams

NO_FILLS = FillParams(p_mid=0.0, p_near=0.0)


class Silent:
    """A loopback port that accepts connections and never says a word."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []
        self.stopped = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)  # kept open, never read, never answered

    def url(self) -> str:
        return f"json://127.0.0.1:{self.port}/hook"

    def close(self) -> None:
        self.stopped.set()
        self.sock.close()
        for conn in self.held:
            conn.close()


@pytest.fixture
def silent() -> Iterator[Silent]:
    endpoint = Silent()
    yield endpoint
    endpoint.close()


@pytest.mark.slow
def test_a_dead_alert_endpoint_during_the_ladder_delays_no_rung(make_day, silent):
    day = make_day(sim_config={"fill": NO_FILLS})  # nothing fills before the natural
    result = day.run(
        "run-today",
        extra_env={"ICBOT_NOTIFY_URLS": silent.url(), "ICBOT_TEST_ALERT_AT": "order:start"},
    )
    # No fill inside the natural: the ladder walks every rung (it may fill at the natural, or end at 09:33).
    assert result.returncode in (0, 3), result.stdout + result.stderr
    store = day.store()
    try:
        entry = store.entry_order(day.session, day.mode)
        assert entry is not None and entry.placed_at is not None
        ref = entry.order_ref
        rungs = [entry.placed_at] + [p.at for p in store.price_history(ref)]
        alerts = store.alerts()
    finally:
        store.close()
    # The entry went out in the entry minute although an alert to a dead endpoint was started just before it.
    assert entry.placed_at.astimezone(NEW_YORK).strftime("%H:%M") == "09:32"
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(rungs)]
    assert len(gaps) >= 5, rungs
    # Every 5 s (virtual). A blocked event loop would stall a rung by the alert's whole deadline, 12 s real =
    # 240 s virtual at x20; a busy CI machine may add a few virtual seconds, never that.
    assert all(4.0 <= g <= 20.0 for g in gaps), gaps
    assert 4.5 <= statistics.median(gaps) <= 7.0, gaps
    test_alerts = [a for a in alerts if a.title.endswith("test alert")]
    assert len(test_alerts) == 1 and not test_alerts[0].delivered and test_alerts[0].error
