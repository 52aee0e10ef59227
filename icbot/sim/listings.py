"""What IB says about listings beyond today's 0DTE series: trading hours, and the SPX chains' expirations.

Only today's SPXW and XSP series exist as contracts in the simulator (icbot.sim.catalog), but IB describes more
around them, and a client must cope with it:

* contract details carry a week of `tradingHours` / `liquidHours` in IB's `YYYYMMDD:HHMM-YYYYMMDD:HHMM;…`
  format (`YYYYMMDD:CLOSED` for a day without a session), and an option's last trading time;
* reqSecDefOptParams lists every SPX chain: the AM-settled monthly class SPX and the PM-settled SPXW, each with
  all its expirations and the union of its strikes, on SMART and on CBOE.

Sessions come from the shared XNYS calendar (built lazily, once per process); outside its range weekdays stand
in for sessions.
"""

from __future__ import annotations

import math
from datetime import date, time, timedelta

from icbot.sim.sessions import early_close

GTH_START = time(20, 15)  # Cboe Global Trading Hours for SPX/SPXW/XSP: 20:15 the evening before ...
GTH_END = time(9, 15)  # ... to 09:15 ET
RTH_OPEN = time(9, 30)
INDEX_CLOSE = time(16, 0)
HOURS_DAYS = 7  # IB's contract details describe about a week of sessions, from today
SPXW_DAILY_DAYS = 45  # SPXW (and XSP) list an expiry for every session this far ahead ...
MONTHLY_MONTHS = 12  # ... then month-ends and third Fridays for a year; SPX AM: third Fridays for a year ...
AM_LEAPS_YEARS = 5  # ... and each December for five years


def _is_session(day: date) -> bool:
    from icbot.core.schedule import shared_calendar

    try:
        return bool(shared_calendar().is_session(day.isoformat()))
    except Exception:  # outside the bundled calendar's range: weekdays stand in
        return day.weekday() < 5


def _hhmm(d: date, t: time) -> str:
    return f"{d:%Y%m%d}:{t:%H%M}"


def _close_of(day: date, regular: time, session_close: time | None) -> time:
    """A session's close: `regular`, or the early close when the exchange closes sooner that day."""
    early = session_close if session_close is not None else early_close(day)
    return min(regular, early) if early is not None else regular


def index_hours(session_date: date, session_close: time) -> str:
    """An index's tradingHours (= liquidHours): the calculation session of each day of the coming week."""
    out = []
    for n in range(HOURS_DAYS):
        d = session_date + timedelta(days=n)
        if n and not _is_session(d):
            out.append(f"{d:%Y%m%d}:CLOSED")
            continue
        close = _close_of(d, INDEX_CLOSE, session_close if n == 0 else None)
        out.append(f"{_hhmm(d, RTH_OPEN)}-{_hhmm(d, close)}")
    return ";".join(out)


def expiring_option_hours(expiry: date, last_trade: time) -> tuple[str, str]:
    """(tradingHours, liquidHours) of an option expiring today: the GTH session from 20:15 the evening before
    and the regular session up to its last trade (16:00, earlier on a half day); nothing after its expiry."""
    gth = f"{_hhmm(expiry - timedelta(days=1), GTH_START)}-{_hhmm(expiry, GTH_END)}"
    rth = f"{_hhmm(expiry, RTH_OPEN)}-{_hhmm(expiry, last_trade)}"
    return f"{gth};{rth}", rth


def _third_friday(year: int, month: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(4 - first.weekday()) % 7 + 14)


def _session_on_or_before(day: date) -> date:
    while not _is_session(day):
        day -= timedelta(days=1)
    return day


def _add_months(d: date, n: int) -> tuple[int, int]:
    m = d.month - 1 + n
    return d.year + m // 12, m % 12 + 1


def _month_end(year: int, month: int) -> date:
    nxt = date(year + month // 12, month % 12 + 1, 1)
    return _session_on_or_before(nxt - timedelta(days=1))


def pm_expirations(session_date: date) -> list[str]:
    """SPXW (PM-settled): every session for SPXW_DAILY_DAYS, then month-ends and third Fridays for a year."""
    days: set[date] = set()
    for n in range(SPXW_DAILY_DAYS):
        d = session_date + timedelta(days=n)
        if n == 0 or _is_session(d):
            days.add(d)
    for k in range(MONTHLY_MONTHS + 1):
        y, m = _add_months(session_date, k)
        days.add(_month_end(y, m))
        days.add(_session_on_or_before(_third_friday(y, m)))
    return sorted(f"{d:%Y%m%d}" for d in days if d >= session_date)


def am_expirations(session_date: date) -> list[str]:
    """SPX (AM-settled monthlies): the last trading day, the session before the settlement (third) Friday, of
    the next twelve months and of each December for five years. IB's lastTradeDateOrContractMonth is that day."""
    days: set[date] = set()
    months = [_add_months(session_date, k) for k in range(MONTHLY_MONTHS + 1)]
    months += [(session_date.year + k, 12) for k in range(AM_LEAPS_YEARS + 1)]
    for y, m in months:
        settle = _session_on_or_before(_third_friday(y, m))
        days.add(_session_on_or_before(settle - timedelta(days=1)))
    return sorted(f"{d:%Y%m%d}" for d in days if d >= session_date)


def chain_strikes(listed: list[float], spot: float, wide_step: float, reach: float) -> list[float]:
    """The union of a class's strikes over its expirations: today's listing plus the `wide_step` grid that
    longer expiries list out to ±`reach` of the spot."""
    lo = math.ceil(spot * (1 - reach) / wide_step)
    hi = math.floor(spot * (1 + reach) / wide_step)
    return sorted(set(listed) | {round(k * wide_step, 6) for k in range(lo, hi + 1)})
