"""Several real processes on one journal file: fresh-file migration race, concurrent writers, busy timeout."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

from icbot.store import Store
from icbot.store.schema import known_migration_names

PRELUDE = textwrap.dedent(
    """
    import sys, time
    from datetime import UTC, date, datetime, timedelta
    from pathlib import Path
    from icbot.core.journal import EventStatus, OrderStatus, Phase, Role
    from icbot.store import Store
    path, go, name, n = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    DAY, T0 = date(2026, 11, 24), datetime(2026, 11, 24, 14, 32, tzinfo=UTC)
    while not go.exists():
        time.sleep(0.001)
    """
)

WRITER = PRELUDE + textwrap.dedent(
    """
    store = Store.open(path)
    run = store.start_run(command=name, mode="paper", trade_date=DAY, at=T0, argv=[name])
    ref = f"{name}-entry"
    store.record_intent(trade_date=DAY, mode="paper", role=Role.ENTRY, order_ref=ref, action="BUY",
                        order_type="LMT", quantity=1, legs=[], at=T0, limit_price=-2.0)
    for i in range(n):
        at = T0 + timedelta(milliseconds=i)
        store.event(run, trade_date=DAY, mode="paper", phase=Phase.RECONCILE, status=EventStatus.INFO,
                    message=str(i), at=at)
        store.record_order_status(ref, status=OrderStatus.SUBMITTED, filled=0, remaining=1, avg_fill_price=None,
                                  at=at, message=str(i % 2))
        store.update_order_prices(ref, limit_price=-2.0 + i * 0.01, at=at)
        store.record_fill(exec_id=f"{name}.{i}", order_ref=ref, order_id=1, perm_id=None, trade_date=DAY,
                          mode="paper", con_id=i, local_symbol=None, right="P", strike=5900.0, side="SLD",
                          quantity=1, price=1.0, at=at, role=Role.ENTRY)
    store.finish_run(run, exit_code=0, at=T0, summary="ok")
    store.close()
    """
)


def _spawn(script: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", script, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def test_processes_racing_to_create_a_new_journal_and_writing_at_once_all_succeed(tmp_path: Path):
    path, go = tmp_path / "icbot.db", tmp_path / "go"
    n = 60
    procs = [_spawn(WRITER, str(path), str(go), f"w{k}", str(n)) for k in range(4)]
    time.sleep(0.5)  # let every interpreter start and wait at the barrier
    go.touch()
    for proc in procs:
        _out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
    with Store.open(path) as store:
        assert store.db["_sqlite_migrations"].count == len(known_migration_names()), "each migration ran once"
        assert store.db["events"].count == 4 * n
        assert store.db["fills"].count == 4 * n
        assert store.db["order_prices"].count == 4 * n
        assert {r.exit_code for r in store.runs()} == {0}
        # status alternates message only: history grew once for the first Submitted, never for repeats
        assert store.db["order_status"].count == 4 * 2


HOLDER = PRELUDE + textwrap.dedent(
    """
    store = Store.open(path)
    with store.transaction():
        store.halt("held", at=T0)
        print("holding", flush=True)
        time.sleep(float(n) / 1000)
    print("released", flush=True)
    """
)


def test_a_second_writer_waits_for_a_held_write_lock_instead_of_failing(tmp_path: Path):
    path, go = tmp_path / "icbot.db", tmp_path / "go"
    Store.open(path).close()
    go.touch()
    holder = _spawn(HOLDER, str(path), str(go), "holder", "1200")
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "holding"
    with Store.open(path) as store:
        started = time.monotonic()
        store.resume(at=store_time())
        waited = time.monotonic() - started
        assert [h.action for h in store.halts()] == ["halt", "resume"]
    assert holder.wait(timeout=30) == 0
    assert 0.5 < waited < 5.0, f"the writer should have waited for the lock, waited {waited:.2f}s"


def store_time():
    from datetime import UTC, datetime

    return datetime(2026, 11, 24, 14, 33, tzinfo=UTC)


def test_a_reader_is_not_blocked_by_a_writer(tmp_path: Path):
    path, go = tmp_path / "icbot.db", tmp_path / "go"
    with Store.open(path) as store:
        store.halt("before", at=store_time())
    go.touch()
    holder = _spawn(HOLDER, str(path), str(go), "holder", "1500")
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "holding"
    with Store.open(path, readonly=True) as ro:
        started = time.monotonic()
        assert ro.halted() == (True, "before"), "the uncommitted halt is not visible yet"
        assert time.monotonic() - started < 1.0, "the holder keeps its write lock for 1.5 s"
    assert holder.wait(timeout=30) == 0
