"""numpy deferred to its first use in icbot's commands (icbot/deferred_numpy.py), each case in a fresh interpreter:
the broker's imports leave it unrun, and whatever does use numpy (eventkit's array operator, pandas, the exchange
calendar) gets the real package."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def _python(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_the_entry_point_defers_numpy_and_the_broker_imports_leave_it_unrun():
    out = _python(
        """
        import atexit, sys
        from icbot import deferred_numpy
        def after_main():
            import icbot.broker.gateway, icbot.runner.run_today  # ib_async, eventkit and the runner
            print(deferred_numpy.is_deferred(), "numpy._core" in sys.modules)
        atexit.register(after_main)
        sys.argv = ["icbot", "--version"]
        from icbot.cli.app import main
        main()
        """
    )
    assert out.splitlines()[-1] == "True False"


def test_eventkit_array_operator_gets_the_real_numpy_through_the_stand_in():
    out = _python(
        """
        import asyncio
        from icbot import deferred_numpy
        assert deferred_numpy.defer()
        import eventkit
        assert deferred_numpy.is_deferred()

        async def main():
            return await eventkit.Event.sequence([1, 2, 3]).array(3).list()

        array = asyncio.run(main())[-1]  # the window of the last three values
        import numpy
        print(type(array).__module__, array.tolist(), numpy.asarray([4]).sum(), deferred_numpy.is_deferred())
        """
    )
    assert out == "numpy [1, 2, 3] 4 False"


def test_pandas_and_the_exchange_calendar_work_after_a_deferral():
    out = _python(
        """
        from icbot import deferred_numpy
        assert deferred_numpy.defer()
        import ib_async  # binds the stand-in inside eventkit first, as a command does
        import exchange_calendars, pandas
        import numpy.linalg
        cal = exchange_calendars.get_calendar("XNYS", start="2026-01-01", end="2026-12-31")
        print(cal.is_session("2026-11-27"), cal.is_session("2026-11-26"), int(pandas.Series([1, 2]).sum()),
              float(numpy.linalg.norm([3.0, 4.0])), deferred_numpy.is_deferred())
        """
    )
    assert out == "True False 3 5.0 False"


def test_nothing_is_deferred_where_numpy_is_already_imported_or_other_threads_run():
    out = _python(
        """
        import threading
        from icbot import deferred_numpy
        stop = threading.Event()
        worker = threading.Thread(target=stop.wait)
        worker.start()
        with_a_thread = deferred_numpy.defer()
        stop.set()
        worker.join()
        import numpy
        print(with_a_thread, deferred_numpy.defer(), deferred_numpy.is_deferred())
        """
    )
    assert out == "False False False"


def test_the_journal_writer_keeps_a_numpy_already_imported_and_sets_the_stand_in_back():
    out = _python(
        """
        import sys, warnings
        warnings.simplefilter("error")  # numpy run twice warns "The NumPy module was reloaded"
        import numpy
        import icbot.store.lite
        import exchange_calendars
        kept = sys.modules["numpy"] is numpy
        del sys.modules["numpy"], sys.modules["icbot.store.lite"]
        for name in [m for m in sys.modules if m.startswith(("sqlite_utils", "numpy", "pandas", "exchange_cal"))]:
            del sys.modules[name]
        from icbot import deferred_numpy
        assert deferred_numpy.defer()
        stand_in = sys.modules["numpy"]
        import icbot.store.lite
        print(kept, sys.modules["numpy"] is stand_in, deferred_numpy.is_deferred())
        """
    )
    assert out == "True True True"
