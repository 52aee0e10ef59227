"""Helpers for driving the simulator through the real clients (ib_async's public API, ibapi's EClient)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from ib_async import IB, Bag, ComboLeg, Contract, Option

T = TypeVar("T")
SESSION = "20261124"
# Decoder trouble as each client reports it: ib_async logs "Error handling fields" / "Error for <method>";
# ibapi logs "diff len fields and params" or raises BadMessage (reported as error 505 / "BadMessage").
DECODE_MARKERS = (
    "Error handling fields",
    "Error for ",
    "diff len fields",
    "BadMessage",
    "Bad message",
    "no more fields",
)


def run(coro: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
    """Run a test coroutine on a fresh loop, failing instead of hanging."""
    return asyncio.run(asyncio.wait_for(coro, timeout))


async def wait_until(pred: Callable[[], bool], timeout: float = 5.0, step: float = 0.02) -> bool:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not pred():
        if loop.time() > end:
            return False
        await asyncio.sleep(step)
    return True


class LogCapture(logging.Handler):
    """Collects WARNING+ records from the client libraries; `decode_problems()` filters decoding errors."""

    def __init__(self, *names: str) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []
        self.names = names or ("ib_async", "ibapi")

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def __enter__(self) -> LogCapture:
        for name in self.names:
            logging.getLogger(name).addHandler(self)
        return self

    def __exit__(self, *exc: object) -> None:
        for name in self.names:
            logging.getLogger(name).removeHandler(self)

    def messages(self) -> list[str]:
        out = []
        for r in self.records:
            text = r.getMessage()
            if r.exc_info and r.exc_info[1] is not None:
                text += f" | {r.exc_info[1]!r}"
            out.append(text)
        return out

    def decode_problems(self) -> list[str]:
        return [m for m in self.messages() if any(k in m for k in DECODE_MARKERS)]


async def connect(host: str, port: int, client_id: int = 1, **kw: Any) -> IB:
    ib = IB()
    ib.RaiseRequestErrors = True
    await ib.connectAsync(host, port, clientId=client_id, timeout=5, **kw)
    return ib


async def qualified_option(ib: IB, strike: float, right: str) -> Option:
    opt = Option("SPX", SESSION, strike, right, "SMART", tradingClass="SPXW")
    [done] = await ib.qualifyContractsAsync(opt)
    assert done is not None, f"could not qualify {right}{strike}"
    return opt


async def condor(ib: IB, lp: float, sp: float, sc: float, lc: float) -> tuple[Bag, list[Option]]:
    """The iron condor BAG of docs/strategy.md §5: BUY long put, SELL short put, SELL short call, BUY long call."""
    legs = [
        await qualified_option(ib, lp, "P"),
        await qualified_option(ib, sp, "P"),
        await qualified_option(ib, sc, "C"),
        await qualified_option(ib, lc, "C"),
    ]
    actions = ("BUY", "SELL", "SELL", "BUY")
    bag = Bag(
        symbol="SPX",
        exchange="SMART",
        currency="USD",
        comboLegs=[
            ComboLeg(conId=o.conId, ratio=1, action=a, exchange="SMART") for o, a in zip(legs, actions, strict=True)
        ],
    )
    return bag, legs


async def combo_quote(ib: IB, bag: Contract) -> tuple[float, float]:
    """(bid, ask) of the combo as the simulator streams it."""
    ticker = ib.reqMktData(bag)
    assert await wait_until(lambda: ticker.bid == ticker.bid and ticker.ask == ticker.ask and ticker.ask != -1)
    bid, ask = ticker.bid, ticker.ask
    ib.cancelMktData(bag)
    return bid, ask


IC = (5920, 5940, 6065, 6085)  # about 15-delta shorts at 09:31 with seed 7, 20-point wings


def collect_errors(ib: IB) -> list[tuple[int, int, str]]:
    errors: list[tuple[int, int, str]] = []
    ib.errorEvent += lambda req_id, code, text, contract: errors.append((req_id, code, text))
    return errors
