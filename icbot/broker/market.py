"""Market data: the index levels, a streamed band of the 0DTE chain, and historical midpoint bars.

The chain is streamed, not snapshotted, and it is started before 09:32: IB's model greeks arrive
asynchronously and qualifying plus ticking a chain takes tens of seconds on a real gateway, most of the one
minute entry window. Lines are counted against a hard budget of 30 (docs/simulator.md, "Benchmarks"; IB gives
an account 100, shared with the trader's own TWS windows): the underlying's line (SPX or XSP, the configured
product), a short-lived VIX line and the option lines together never exceed it, and lines that are no longer
wanted are cancelled before new ones open. Which options the entry streams is `icbot.broker.band.entry_band`.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from ib_async import Contract, Ticker

from icbot.broker.band import OPTION_LINES, Band, Key
from icbot.broker.band import band_strikes as _band_strikes
from icbot.broker.band import entry_band as _entry_band
from icbot.broker.contracts import Contracts
from icbot.broker.convert import bars_from_ib, index_price, num, quote_from_ticker
from icbot.broker.errors import BrokerError, GatewayUnavailable, MarketDataUnavailable
from icbot.broker.session import COMPETING_CODE, MARKET_DATA_CODES, REAL_FLOOR, SEND_RATE, log
from icbot.broker.types import ChainSnapshot

MAX_LINES = 30
NO_HISTORICAL_DATA = 162
DATA_LOST = 1101  # "Connectivity between IB and TWS has been restored - data lost."


@dataclass
class _Line:
    contract: Contract
    ticker: Ticker
    session_date: date


class MarketData(Contracts):
    """Index levels, the option chain and historical bars."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._index_lines: dict[str, Ticker] = {}
        self._lines: dict[tuple[str, float], _Line] = {}
        self._md_errors: dict[int, tuple[int, str]] = {}
        self.trimmed: list[float] = []

    # -- errors -------------------------------------------------------------------------------------
    def on_error(self, req_id: int, code: int, text: str, contract: Any) -> None:
        if code == DATA_LOST:
            # "Connectivity restored - data lost": IB dropped the subscriptions; ask for them again (not from
            # inside ib_async's event dispatch, hence call_soon).
            asyncio.get_running_loop().call_soon(self._resubscribe)
        if code in MARKET_DATA_CODES or code == COMPETING_CODE:
            con_id = int(getattr(contract, "conId", 0) or 0) if contract is not None else 0
            if con_id or req_id == -1:  # a line of ours, or the whole session; not a line already closed
                self._md_errors[con_id] = (code, text)

    def _forget_failures(self, con_ids: Iterable[int] = ()) -> None:
        """A new request gets a fresh answer: forget the session-wide refusals and those of these lines."""
        self.competing = None
        for con_id in (0, *con_ids):
            self._md_errors.pop(con_id, None)

    def _md_failed(self, con_ids: Iterable[int]) -> bool:
        return self.competing is not None or any(c in self._md_errors for c in (0, *con_ids))

    def _raise_md(self, con_ids: Iterable[int], what: str) -> None:
        self.ensure_market_data(what)
        for con_id in [0, *con_ids]:
            err = self._md_errors.get(con_id)
            if err is not None:
                code, text = err
                raise MarketDataUnavailable(
                    f"{what}: {text} (IB {code}); icbot needs live {self.product.pair} market data — "
                    "check the subscriptions",
                    code,
                )

    # -- lines --------------------------------------------------------------------------------------
    @property
    def lines_in_use(self) -> int:
        return len(self._lines) + len(self._index_lines)

    def _open_line(self, contract: Contract) -> Ticker:
        if self.lines_in_use >= MAX_LINES:
            raise BrokerError(f"market-data line budget of {MAX_LINES} exhausted; not opening another line")
        self.ensure_connected()
        try:
            return self.ib.reqMktData(contract, "", False, False)
        except ConnectionError as exc:
            raise GatewayUnavailable(f"market data: connection to {self.where} lost ({exc})") from None

    def _resubscribe(self) -> None:
        if self._closed or not self.ib.isConnected():
            return
        log.warning("IB reports market data lost (1101): re-requesting %d lines", self.lines_in_use)
        for key, line in list(self._lines.items()):
            self._close_line(line.contract)
            ticker = self.ib.reqMktData(line.contract, "", False, False)
            self._lines[key] = _Line(line.contract, ticker, line.session_date)
        for symbol, ticker in list(self._index_lines.items()):
            if ticker.contract is not None:
                self._close_line(ticker.contract)
                self._index_lines[symbol] = self.ib.reqMktData(ticker.contract, "", False, False)

    def _close_line(self, contract: Contract) -> None:
        try:
            self.ib.cancelMktData(contract)
        except ConnectionError:
            pass

    # -- indexes ------------------------------------------------------------------------------------
    async def _index_level(self, symbol: str, *, keep: bool, timeout: float | None) -> float | None:
        contract = await self._index(symbol)
        ticker = self._index_lines.get(symbol)
        if ticker is not None and (self.competing is not None or self._md_failed([contract.conId])):
            # the line was refused or killed (354, 10197): ask again rather than read its last, stale value
            self._index_lines.pop(symbol, None)
            self._close_line(contract)
            ticker = None
        fresh = ticker is None
        if ticker is None:
            self._forget_failures([contract.conId])
            ticker = self._open_line(contract)
            self._index_lines[symbol] = ticker
        before = ticker.time if fresh else None

        def ready() -> bool:
            has_tick = not fresh or (ticker.time is not None and ticker.time != before)
            return (has_tick and index_price(ticker) is not None) or self._md_failed([contract.conId])

        try:
            t = self.timeout if timeout is None else timeout
            await self.wait_until(ready, t, floor=REAL_FLOOR)
            self._raise_md([contract.conId], f"{symbol} quote")
            self.ensure_fresh_data(f"{symbol} quote")
            return index_price(ticker)
        finally:
            if not keep:
                self._index_lines.pop(symbol, None)
                self._close_line(contract)

    async def index_price(self, *, timeout: float | None = None) -> float | None:
        """The underlying index's level (SPX or XSP: the configured product; last, else yesterday's close).

        None if no quote came within `timeout` (virtual s). The line stays open: the snapshot reads it and
        `check` watches it for short-strike touches.
        """
        return await self._index_level(self.product.symbol, keep=True, timeout=timeout)

    async def spx_price(self, *, timeout: float | None = None) -> float | None:
        """Deprecated name of `index_price` (the configured underlying, which is XSP when trading XSP)."""
        return await self.index_price(timeout=timeout)

    async def vix(self, *, timeout: float | None = None) -> float | None:
        """VIX's level, read once and its line closed again; None if IB has no VIX quote for this account."""
        try:
            return await self._index_level("VIX", keep=False, timeout=timeout)
        except MarketDataUnavailable as exc:
            log.warning("no VIX quote: %s", exc)
            return None

    # -- chain --------------------------------------------------------------------------------------
    def band_strikes(
        self, spx: float, listed: Sequence[float], *, vol: float | None, max_lines: int = OPTION_LINES, **kwargs: Any
    ) -> list[float]:
        """See `icbot.broker.band.band_strikes` (pure). One line per strike, matching stream_chain's "otm".

        `spx` is the underlying's level in the product's own points (XSP: about SPX / 10); pass `wing`,
        `min_delta` and `max_delta` from the configuration (the defaults are SPX's 20-point wing and 10–16.9).
        """
        return _band_strikes(spx, listed, vol=vol, max_lines=max_lines, **kwargs)

    def entry_band(self, spx: float, listed: Sequence[float], *, vol: float | None, **kwargs: Any) -> Band:
        """See `icbot.broker.band.entry_band` (pure), fed with the deltas of the option lines streaming now.

        Pass `wing`, `min_delta` and `max_delta` from the configuration, in the product's own points.
        """
        return _entry_band(spx, listed, vol=vol, deltas=self.line_deltas(), **kwargs)

    def index_now(self) -> float | None:
        """The underlying index's level on its streaming line now (no request); None before `index_price`."""
        ticker = self._index_lines.get(self.product.symbol)
        return index_price(ticker) if ticker is not None else None

    def line_deltas(self) -> dict[Key, float | None]:
        """(right, strike) → |model delta| in points of every option line that has reported since it opened (None:
        it reported a quote but IB has not computed its delta). A line not yet reported is left out."""
        out: dict[Key, float | None] = {}
        for key, line in self._lines.items():
            if line.ticker.time is None:
                continue
            g = line.ticker.modelGreeks
            delta = num(g.delta) if g is not None else None  # ib_async has turned IB's -2 into None already
            out[key] = abs(delta) * 100.0 if delta is not None else None
        return out

    @property
    def streaming(self) -> frozenset[Key]:
        """The (right, strike) of every option line open now."""
        return frozenset(self._lines)

    async def stream_chain(
        self, session_date: date, strikes: Sequence[float], *, rights: str = "otm", settle: float = 3.0
    ) -> None:
        """Stream `strikes` of that expiry (model greeks included), within the line budget.

        rights="otm" (default) streams the put of strikes below the index and the call of strikes above it — all
        strike selection and the wings ever use — so the line budget covers twice the range;
        rights="both" streams put and call of every strike (pair it with band_strikes(...,
        lines_per_strike=2)). Lines no longer wanted are cancelled first. Strikes beyond the budget are
        dropped furthest from the index first (listed in `self.trimmed`). Returns once every new line has ticked
        or `settle` virtual seconds passed (at least the real time the message throttle needs to send the
        requests); raises MarketDataUnavailable or CompetingSession when IB says the data will not come.
        """
        underlying = self.product.symbol
        if rights not in ("both", "otm"):
            raise ValueError(f"rights must be 'both' or 'otm', not {rights!r}")
        wanted = sorted({float(k) for k in strikes})
        centre = index_price(self._index_lines[underlying]) if underlying in self._index_lines else None
        if centre is None and wanted:
            centre = wanted[len(wanted) // 2]

        def sides(k: float) -> tuple[str, ...]:
            if rights == "both" or centre is None or k == centre:
                return ("P", "C")
            return ("P",) if k < centre else ("C",)

        budget = max(0, MAX_LINES - len(self._index_lines))
        self.trimmed = []
        by_distance = sorted(wanted, key=lambda k: abs(k - (centre or 0.0)))
        keep: list[float] = []
        used = 0
        for k in by_distance:
            if used + len(sides(k)) > budget:
                self.trimmed.append(k)
                continue
            keep.append(k)
            used += len(sides(k))
        if self.trimmed:
            self.trimmed.sort()
            log.warning("stream_chain: %d strikes exceed the line budget; dropped %s", len(wanted), self.trimmed)
        keys = {(r, k) for k in keep for r in sides(k)}
        await self._set_lines(session_date, keys, settle=settle)

    async def stream_options(self, session_date: date, keys: Iterable[Key], *, settle: float = 0.0) -> None:
        """Stream exactly these (right, strike) options of that expiry: lines not among them are cancelled first,
        new ones opened (an option the gateway does not list is left out). Beyond the line budget, the rest is
        dropped, the last in (right, strike) order (listed in `self.trimmed`; `entry_band` keeps within the budget
        itself). With `settle` > 0, waits like `stream_chain`; raises like it too. Lines already streaming keep
        their ticker: a band that moves by a strike costs one cancel and one new line, not a new chain."""
        wanted = sorted({(r, float(k)) for r, k in keys})
        budget = max(0, MAX_LINES - len(self._index_lines))
        self.trimmed = []
        if len(wanted) > budget:
            self.trimmed = sorted({k for _, k in wanted[budget:]})
            log.warning("stream_options: %d options exceed the line budget; dropped %s", len(wanted), self.trimmed)
            wanted = wanted[:budget]
        await self._set_lines(session_date, set(wanted), settle=settle)

    async def _set_lines(self, session_date: date, keys: set[Key], *, settle: float) -> None:
        # lines the gateway refused or killed (354, 10197) are asked for again
        failed_session = self.competing is not None or 0 in self._md_errors
        for key, line in list(self._lines.items()):
            if failed_session or line.contract.conId in self._md_errors:
                self._close_line(line.contract)
                del self._lines[key]
                self._forget_failures([line.contract.conId])
        self._forget_failures()
        for key, line in list(self._lines.items()):
            if key not in keys or line.session_date != session_date:
                self._close_line(line.contract)
                del self._lines[key]
        missing = sorted(k for k in keys if k not in self._lines)
        qualified = await self._qualify_many(session_date, missing)
        new: list[_Line] = []
        for key in missing:
            if key in qualified:
                contract, _ = qualified[key]
                line = _Line(contract, self._open_line(contract), session_date)
                self._lines[key] = line
                new.append(line)
        con_ids = [line.contract.conId for line in self._lines.values()]
        if settle > 0:
            await self.wait_until(
                lambda: self._md_failed(con_ids) or all(line.ticker.time is not None for line in new),
                settle,
                floor=(REAL_FLOOR + len(missing) / SEND_RATE) if new else 0.0,
            )
        self._raise_md(con_ids, "option chain")

    def stop_chain(self) -> None:
        """Cancel every option line (the index lines stay)."""
        for line in self._lines.values():
            self._close_line(line.contract)
        self._lines.clear()

    def snapshot(self) -> ChainSnapshot:
        """The streamed chain now; the index (`spx`: SPX or XSP, the product's underlying) from its own line, else
        the underlying price in the model greeks."""
        self._raise_md([line.contract.conId for line in self._lines.values()], "option chain")
        self.ensure_fresh_data("option chain")
        quotes = {(r, k): quote_from_ticker(line.ticker, r, k) for (r, k), line in self._lines.items()}
        underlying = self.product.symbol
        spx = index_price(self._index_lines[underlying]) if underlying in self._index_lines else None
        if spx is None:
            unds = sorted(q.und_price for q in quotes.values() if q.und_price)
            spx = unds[len(unds) // 2] if unds else None
        return ChainSnapshot(self.clock.now(), spx, quotes)

    async def wait_for_greeks(self, *, min_per_side: int, timeout: float) -> ChainSnapshot:
        """Wait (virtual s) until at least `min_per_side` puts and calls have a model delta.

        Returns the snapshot either way (check `count_deltas`): at the entry instant a partial chain may
        still contain the strikes the rule needs. Raises only when IB says the data will not come.
        """

        con_ids = [line.contract.conId for line in self._lines.values()]

        def ready() -> bool:
            if self._md_failed(con_ids) or self.connectivity_lost is not None:
                return True
            snap_p = sum(1 for (r, _), ln in self._lines.items() if r == "P" and _has_delta(ln.ticker))
            snap_c = sum(1 for (r, _), ln in self._lines.items() if r == "C" and _has_delta(ln.ticker))
            return snap_p >= min_per_side and snap_c >= min_per_side

        await self.wait_until(ready, timeout)
        return self.snapshot()

    # -- history ------------------------------------------------------------------------------------
    async def mid_bars(
        self, con_id: int, start: datetime, end: datetime
    ) -> list[tuple[datetime, float, float, float, float]]:
        """1-minute MIDPOINT bars (time UTC, open, high, low, close) of one option between start and end."""
        contract = self._contract_for(con_id)
        if contract is None:
            probe = Contract(conId=con_id, exchange="SMART")
            details = await self.request(lambda: self.ib.reqContractDetailsAsync(probe), f"contract {con_id}")
            if not details or details[0].contract is None:
                raise BrokerError(f"the gateway does not know contract {con_id}")
            contract = details[0].contract
            contract.exchange = "SMART"
        return await self._bars(contract, start, end, "MIDPOINT")

    async def option_mid_bars(
        self, session_date: date, right: str, strike: float, start: datetime, end: datetime
    ) -> list[tuple[datetime, float, float, float, float]]:
        """1-minute MIDPOINT bars of one option of the product by its strike (what-if recording, docs/whatif.md).

        [] when IB does not list the strike. One historical request (IB's pacing: 60 per 10 minutes; the caller
        counts them)."""
        got = await self._qualify_many(session_date, [(right, float(strike))])
        if (right, float(strike)) not in got:
            return []
        contract, _ = got[(right, float(strike))]
        contract.exchange = contract.exchange or "SMART"
        return await self._bars(contract, start, end, "MIDPOINT")

    async def underlying_bars(
        self, start: datetime, end: datetime
    ) -> list[tuple[datetime, float, float, float, float]]:
        """1-minute TRADES bars of the product's underlying index (SPX or XSP), one historical request."""
        return await self._bars(await self._index(self.product.symbol), start, end, "TRADES")

    async def underlying_range(self, start: datetime, end: datetime) -> tuple[float, float] | None:
        """(low, high) of the product's underlying (SPX or XSP) between start and end; None without bars.

        `check` runs every few minutes; the bars show a short strike touched between two runs too.
        """
        return await self.index_range(self.product.symbol, start, end)

    async def underlying_at(self, at: datetime) -> float | None:
        """The underlying's level at `at`: the close of the 1-minute TRADES bar holding that instant (the minute
        before it while that bar is not complete yet); None without a bar.

        Bars are asked for up to the end of `at`'s minute: a request ending at `at` itself gets only the bars
        complete by then, which leaves out the minute that holds it."""
        end = at.replace(second=0, microsecond=0) + timedelta(minutes=1)
        bars = await self._bars(await self._index(self.product.symbol), end - timedelta(minutes=2), end, "TRADES")
        held = [b for b in bars if b[0] <= at]
        return max(held, key=lambda b: b[0])[4] if held else None

    async def index_range(self, symbol: str, start: datetime, end: datetime) -> tuple[float, float] | None:
        """(low, high) of an index between start and end from its 1-minute TRADES bars; None without bars.

        "SPX" means the configured underlying (XSP when trading XSP), so the strikes it is compared with are in
        the same points; prefer `underlying_range`. Any other symbol (e.g. "VIX") is that index.
        """
        if symbol == "SPX":
            symbol = self.product.symbol
        bars = await self._bars(await self._index(symbol), start, end, "TRADES")
        if not bars:
            return None
        return min(b[3] for b in bars), max(b[2] for b in bars)

    async def _bars(
        self, contract: Contract, start: datetime, end: datetime, what: str
    ) -> list[tuple[datetime, float, float, float, float]]:
        seconds = max(60, math.ceil((end - start).total_seconds()) + 60)
        duration = f"{seconds} S" if seconds <= 86400 else f"{math.ceil(seconds / 86400)} D"
        try:
            bars = await self.request(
                lambda: self.ib.reqHistoricalDataAsync(
                    contract, end, duration, "1 min", what, True, formatDate=2, timeout=0
                ),
                f"{what.lower()} bars of {contract.localSymbol or contract.symbol or contract.conId}",
                timeout=self.timeout * 3,
            )
        except BrokerError as exc:
            if f"IB error {NO_HISTORICAL_DATA}" in str(exc) and "pacing" not in str(exc).lower():
                return []
            raise
        lo, hi = start - timedelta(seconds=1), end
        return [b for b in bars_from_ib(bars) if lo <= b[0] <= hi]


def _has_delta(ticker: Ticker) -> bool:
    g = ticker.modelGreeks
    return g is not None and g.delta is not None and not math.isnan(g.delta)
