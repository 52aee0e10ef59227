"""A journal of many closed daily trades, written through the real store API, for `icbot report`'s benchmark and
its browser check (not a test module).

Every trade is what run-today and check would leave: the decision figures, the four entry legs' executions and
the four of the exit with IB-like commissions, and the trade row's credit, debit and P/L computed from those
legs. Outcomes are deterministic under a seed: mostly profit targets, some time exits, a few stops.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

from icbot.clock import ny_datetime
from icbot.core.journal import Role
from icbot.store.repo import Store

COMMISSION = 1.05  # per leg execution of one contract
FIRST_DAY = date(2016, 11, 24)


def weekdays(first: date, n: int) -> list[date]:
    """`n` weekdays from `first` on (the bundled XNYS calendar starts in 2020; weekdays make a stricter load)."""
    days: list[date] = []
    day = first
    while len(days) < n:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def _tick(x: float) -> float:
    return round(round(x / 0.05) * 0.05, 2)


def seed_journal(db: Path, *, trades: int = 2520, mode: str = "paper", seed: int = 11, first: date = FIRST_DAY) -> int:
    """Write `trades` closed trades (one per weekday from `first`) into the journal at `db`; return how many."""
    rng = random.Random(seed)
    store = Store.open(db)
    try:
        with store.transaction():
            for n, day in enumerate(weekdays(first, trades)):
                _one_day(store, rng, n, day, mode)
    finally:
        store.close()
    return trades


def _one_day(store: Store, rng: random.Random, n: int, day: date, mode: str) -> None:
    spx = round(2200 + n * 1.6 + rng.uniform(-40, 40), 2)
    vix = round(rng.uniform(11, 34), 2)
    short_put = round((spx - 45) / 5) * 5
    short_call = round((spx + 45) / 5) * 5
    strikes = {
        "long_put": short_put - 20,
        "short_put": short_put,
        "short_call": short_call,
        "long_call": short_call + 20,
    }
    put_side, call_side = _tick(rng.uniform(1.4, 2.8)), _tick(rng.uniform(1.3, 2.6))
    entry = {  # leg → (side, price): the credit is the sum of what was sold minus what was bought
        "long_put": ("BOT", _tick(rng.uniform(0.5, 1.2))),
        "long_call": ("BOT", _tick(rng.uniform(0.4, 1.0))),
    }
    entry["short_put"] = ("SLD", round(entry["long_put"][1] + put_side, 2))
    entry["short_call"] = ("SLD", round(entry["long_call"][1] + call_side, 2))
    credit = round(put_side + call_side, 2)
    mid = -round(credit + rng.choice((0.0, 0.05, 0.05, 0.1)), 2)
    natural = round(mid + rng.choice((0.3, 0.4, 0.5)), 2)
    roll = rng.random()
    if roll < 0.80:
        role, debit, minutes = Role.TAKE_PROFIT, _tick(credit * 0.75), rng.uniform(8, 115)
    elif roll < 0.95:
        role, debit, minutes = Role.TIME_EXIT, _tick(credit * rng.uniform(0.2, 1.6)), 118.0
    else:
        role, debit, minutes = Role.STOP, _tick(credit * 3.0), rng.uniform(10, 110)
    exit_prices = _exit_legs(entry, credit, debit)
    opened = ny_datetime(day.isoformat(), "09:32:05") + timedelta(seconds=rng.choice((0, 5, 10)))
    closed = opened + timedelta(minutes=round(minutes, 1))
    prefix = f"icbot:{day.isoformat()}:{mode}"
    for k, name in enumerate(("long_put", "short_put", "short_call", "long_call")):
        right = "P" if "put" in name else "C"
        for which, (side, price), at, ref in (
            (0, entry[name], opened, f"{prefix}:entry"),
            (1, exit_prices[name], closed, f"{prefix}:{role.value}"),
        ):
            store.record_fill(
                exec_id=f"{n:08x}.{which:04x}.{k + 2:02d}.01",
                order_ref=ref,
                order_id=2 * n + which + 1,
                perm_id=None,
                trade_date=day,
                mode=mode,
                con_id=1000 + k,
                local_symbol=f"SPXW  {day:%y%m%d}{right}{int(strikes[name] * 1000):08d}",
                right=right,
                strike=float(strikes[name]),
                side=side,
                quantity=1.0,
                price=price,
                at=at,
                role=Role.ENTRY if which == 0 else role,
                commission=COMMISSION,
            )
    pnl = round((credit - debit) * 100 - 8 * COMMISSION, 2)
    store.save_trade(
        day,
        mode,
        closed,
        status="closed",
        **{k: float(v) for k, v in strikes.items()},
        put_delta=round(rng.uniform(13.0, 16.9), 2),
        call_delta=round(rng.uniform(13.0, 16.9), 2),
        spx_at_entry=spx,
        vix=vix,
        mid_at_decision=mid,
        natural_at_decision=natural,
        limit_price=-credit,
        ladder_attempts=1 + round((-mid - credit) / 0.05),
        seconds_to_fill=round(rng.uniform(0.4, 24.0), 1),
        quantity=1,
        credit=credit,
        entry_commission=4 * COMMISSION,
        entry_filled_at=opened,
        entry_order_ref=f"{prefix}:entry",
        exit_reason=role.value,
        exit_debit=debit,
        exit_commission=4 * COMMISSION,
        exited_at=closed,
        pnl=pnl,
        minutes_in_trade=round(minutes, 1),
        exits_ok=True,
    )


def _exit_legs(entry: dict[str, tuple[str, float]], credit: float, debit: float) -> dict[str, tuple[str, float]]:
    """Closing prices of the four legs whose net is exactly `debit` (each leg's price stays ≥ 0.05)."""
    scale = debit / credit if credit else 1.0
    out: dict[str, tuple[str, float]] = {}
    for name, (side, price) in entry.items():
        out[name] = ("SLD" if side == "BOT" else "BOT", max(0.05, _tick(price * scale)))
    net = round(
        sum(p if side == "BOT" else -p for side, p in out.values()), 2
    )  # what closing pays: buy back shorts, sell longs
    side, price = out["short_put"]
    out["short_put"] = (side, round(price + (debit - net), 2))
    return out
