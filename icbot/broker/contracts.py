"""Contracts: the indexes, today's 0DTE expiry and single options, looked up once and cached.

The product (SPX options of class SPXW, or XSP options of class XSP: icbot.core.products) is fixed per
connection; the index contract, reqSecDefOptParams, every option lookup and the BAG all use its symbol and
trading class. VIX is always the VIX.

Every option a run may touch is learnt in one go: the contract details of the whole expiry, one request per
right with the strike left blank. That is two requests instead of one per strike, which matters because
ib_async sends at most 40 messages per 1.2 real seconds and the minute before 09:32 is short; it also gives
`list_strikes` the strikes really listed for that day, not the union over all expiries.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from datetime import date
from typing import Any

from ib_async import Contract, Index, Option
from ib_async.contract import ContractDetails
from ib_async.wrapper import RequestError

from icbot.broker.errors import BrokerError, GatewayUnavailable, TransientBrokerError
from icbot.broker.session import SEND_RATE, Session
from icbot.broker.types import QualifiedOption
from icbot.core.products import SPX, Product

INDEX_EXCHANGE = "CBOE"
NO_SECURITY = 200  # "No security definition has been found for the request"
BULK_QUALIFY = 4  # from this many options on, load the whole expiry in two requests instead


class Contracts(Session):
    """Index and option contracts known to the gateway, with their conIds."""

    def __init__(self, *args: Any, product: Product = SPX, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.product = product
        self._indexes: dict[str, Contract] = {}
        self._qualified: dict[tuple[date, str, float], tuple[Contract, QualifiedOption]] = {}
        self._loaded: set[date] = set()
        self.known: dict[int, QualifiedOption] = {}

    async def _index(self, symbol: str) -> Contract:
        if symbol in self._indexes:
            return self._indexes[symbol]
        wanted = Index(symbol, INDEX_EXCHANGE, "USD")
        details: list[ContractDetails] = await self.request(
            lambda: self.ib.reqContractDetailsAsync(wanted), f"{symbol} index contract"
        )
        found = [d.contract for d in details if d.contract is not None and d.contract.secType == "IND"]
        if not found:
            raise BrokerError(f"the gateway does not know the index {symbol} on {INDEX_EXCHANGE}")
        self._indexes[symbol] = found[0]
        return found[0]

    async def list_strikes(self, session_date: date) -> list[float]:
        """The product's strikes IB lists for that expiry (put or call); [] if the expiry is not listed.

        Asks for the contract details of the whole expiry, one request per right (strike left blank), which
        also learns every conId: streaming the chain afterwards needs no further qualification requests,
        and those would cost real seconds under the message throttle right before 09:32.
        """
        await self._load_expiry(session_date)
        return sorted({k for (d, _, k) in self._qualified if d == session_date})

    async def strikes_from_secdef(self, session_date: date) -> list[float]:
        """The product's strikes from reqSecDefOptParams: the union over expiries, so possibly not all listed today."""
        p = self.product
        index = await self._index(p.symbol)
        chains = await self.request(
            lambda: self.ib.reqSecDefOptParamsAsync(p.symbol, "", "IND", index.conId), f"{p.symbol} option chain"
        )
        expiry = session_date.strftime("%Y%m%d")
        strikes: set[float] = set()
        for chain in chains:
            if chain.tradingClass == p.trading_class and expiry in chain.expirations:
                strikes.update(float(k) for k in chain.strikes)
        return sorted(strikes)

    async def _load_expiry(self, session_date: date) -> None:
        if session_date in self._loaded:
            return
        expiry = session_date.strftime("%Y%m%d")
        label = self.product.label
        self.ensure_connected()
        try:
            futures = [self.ib.reqContractDetailsAsync(self._option(session_date, r, 0.0)) for r in ("P", "C")]
        except ConnectionError as exc:
            raise GatewayUnavailable(f"{label} {expiry} chain: connection to {self.where} lost ({exc})") from None
        try:
            results = await asyncio.wait_for(
                asyncio.gather(*futures, return_exceptions=True), max(self.real(self.timeout), 3.0)
            )
        except TimeoutError:
            self.ensure_connected()
            raise TransientBrokerError(f"{label} {expiry} chain: no answer from {self.where}") from None
        for right, res in zip(("P", "C"), results, strict=True):
            if isinstance(res, RequestError):
                if res.code == NO_SECURITY:
                    continue
                raise self.map_request_error(res.code, res.message, f"{label} {expiry} {right} chain")
            if isinstance(res, ConnectionError):
                raise GatewayUnavailable(f"{label} {expiry} chain: connection to {self.where} lost") from None
            if isinstance(res, BaseException):
                raise res
            for d in res:
                c = d.contract
                if c is None or not c.conId or (c.right or "")[:1].upper() != right:
                    continue
                if not self._is_ours(c, expiry):
                    continue
                self._remember(session_date, right, float(c.strike), c)
        self._loaded.add(session_date)

    def _remember(self, session_date: date, right: str, strike: float, contract: Contract) -> QualifiedOption:
        contract.exchange = "SMART"
        q = QualifiedOption(int(contract.conId), contract.localSymbol or "", right, strike)
        self._qualified[(session_date, right, strike)] = (contract, q)
        self.known[q.con_id] = q
        return q

    def _is_ours(self, c: Contract, expiry: str) -> bool:
        """An option of the configured product (symbol and trading class, when IB says) expiring that day."""
        p = self.product
        return (
            (c.symbol or p.symbol) == p.symbol
            and (c.tradingClass or p.trading_class) == p.trading_class
            and (c.lastTradeDateOrContractMonth or "").startswith(expiry)
        )

    def _option(self, session_date: date, right: str, strike: float) -> Option:
        p = self.product
        return Option(
            p.symbol,
            session_date.strftime("%Y%m%d"),
            float(strike),
            right,
            "SMART",
            multiplier=str(p.multiplier),
            currency=p.currency,
            tradingClass=p.trading_class,
        )

    async def _qualify_many(
        self, session_date: date, pairs: Sequence[tuple[str, float]]
    ) -> dict[tuple[str, float], tuple[Contract, QualifiedOption]]:
        """Qualify options in one concurrent batch; strikes IB does not list are left out of the result."""
        out: dict[tuple[str, float], tuple[Contract, QualifiedOption]] = {}
        todo = []
        for right, strike in pairs:
            cached = self._qualified.get((session_date, right, float(strike)))
            if cached is not None:
                out[(right, float(strike))] = cached
            else:
                todo.append((right, float(strike)))
        if not todo:
            return out
        if session_date not in self._loaded and len(todo) >= BULK_QUALIFY:
            await self._load_expiry(session_date)
            return {
                key: self._qualified[(session_date, *key)] for key in pairs if (session_date, *key) in self._qualified
            }
        if session_date in self._loaded:
            return out  # the whole expiry is known: what is not cached is not listed
        self.ensure_connected()
        try:
            futures = [self.ib.reqContractDetailsAsync(self._option(session_date, r, k)) for r, k in todo]
        except ConnectionError as exc:
            raise GatewayUnavailable(f"qualifying options: connection to {self.where} lost ({exc})") from None
        # ib_async throttles requests in real time, whatever the clock: allow for it.
        real_timeout = max(self.real(self.timeout), 1.0 + len(todo) / SEND_RATE)
        try:
            results = await asyncio.wait_for(asyncio.gather(*futures, return_exceptions=True), real_timeout)
        except TimeoutError:
            self.ensure_connected()
            raise TransientBrokerError(
                f"qualifying {len(todo)} {self.product.label} options: no answer from {self.where}"
            ) from None
        for (right, strike), res in zip(todo, results, strict=True):
            if isinstance(res, RequestError):
                if res.code == NO_SECURITY:
                    continue
                raise self.map_request_error(
                    res.code, res.message, f"qualifying {self.product.label} {strike:g}{right}"
                )
            if isinstance(res, ConnectionError):
                raise GatewayUnavailable(f"qualifying options: connection to {self.where} lost") from None
            if isinstance(res, BaseException):
                raise res
            contract = self._pick(res, session_date, right, strike)
            if contract is None:
                continue
            q = self._remember(session_date, right, strike, contract)
            out[(right, strike)] = (contract, q)
        return out

    def _pick(self, details: list[ContractDetails], session_date: date, right: str, strike: float) -> Contract | None:
        expiry = session_date.strftime("%Y%m%d")
        for d in details:
            c = d.contract
            if (
                c is not None
                and c.conId
                and self._is_ours(c, expiry)
                and (c.right or "")[:1].upper() == right
                and math.isclose(float(c.strike), strike)
            ):
                return c
        return None

    async def qualify_option(self, session_date: date, right: str, strike: float) -> QualifiedOption:
        """conId and OCC symbol of one option of the product (e.g. a wing outside the streamed band)."""
        got = await self._qualify_many(session_date, [(right, float(strike))])
        if (right, float(strike)) not in got:
            raise BrokerError(f"{self.product.label} {session_date} {strike:g}{right} is not listed at IB")
        return got[(right, float(strike))][1]

    def _contract_for(self, con_id: int) -> Contract | None:
        for contract, q in self._qualified.values():
            if q.con_id == con_id:
                return contract
        return None
