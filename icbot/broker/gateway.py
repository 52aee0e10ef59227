"""`Gateway`: icbot's one door to IB Gateway / TWS — connect, check the account, then trade and look up.

Connecting retries (tenacity, sleeping on the virtual clock) until an absolute deadline, because a gateway that
is restarting at 09:30 may well be back at 09:31:40; after the deadline there is no point, the entry window is
gone. Once connected, the account must fit the mode before anything else happens (see `accounts`). The
methods themselves live in layers: `session` (waits, errors), `market` (quotes, chain, bars), `orders`
(placing and tracking); this module adds the account-level reads.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from typing import Any, Protocol

from ib_async import IB, StartupFetch
from ib_async.objects import Fill
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type

from icbot import startup
from icbot.broker.accounts import choose_account
from icbot.broker.convert import (
    NEW_YORK,
    account_values_from,
    from_ib_fill,
    from_ib_position,
    num,
    to_ib_bag,
    to_ib_order,
)
from icbot.broker.errors import GatewayUnavailable
from icbot.broker.orders import OrderDesk
from icbot.broker.session import log
from icbot.broker.types import AccountValues, ComboOrder, Execution, Position
from icbot.clock import Clock
from icbot.core.products import SPX, Product, product_for

CONNECT_REAL_FLOOR = 2.0  # real seconds for the handshake and ib_async's startup sync, whatever the clock
CLIENT_ID_IN_USE = 326
_RETRYABLE = (OSError, TimeoutError, ConnectionError)


class GatewayConfig(Protocol):
    """Anything with these read-only attributes (icbot.config's frozen GatewayConfig in practice)."""

    @property
    def host(self) -> str: ...
    @property
    def port(self) -> int: ...
    @property
    def client_id(self) -> int: ...
    @property
    def account(self) -> str: ...


class StrategyConfig(Protocol):
    """Anything naming the traded product (icbot.config's StrategyConfig in practice): SPX/SPXW or XSP/XSP."""

    @property
    def symbol(self) -> str: ...
    @property
    def trading_class(self) -> str: ...


# What ib_async fetches as it connects: the positions (it always does) and the account's values, which
# `account_values` reads. Not the orders or the executions: icbot asks for those itself wherever it decides anything
# about them (every client's open orders, not only this client's; the completed orders; the executions), and the
# three requests it would duplicate are messages of the burst before 09:32 that ib_async's throttle counts (40 per
# 1.2 s, broker/session.py): with them, the last lines of the entry's band waited 1.2 s.
STARTUP_FETCH = StartupFetch.POSITIONS | StartupFetch.ACCOUNT_UPDATES | StartupFetch.SUB_ACCOUNT_UPDATES


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (is IB Gateway running and the API port open?)"
    if isinstance(exc, TimeoutError):
        return f"no API handshake ({exc})" if str(exc) else "no API handshake (timed out)"
    return str(exc) or type(exc).__name__


async def _connect_once(
    host: str, port: int, client_id: int, clock: Clock, timeout: float, *, readonly: bool = False
) -> IB:
    """One connection attempt: the socket, the API handshake and ib_async's startup sync.

    The configured account is not passed to ib_async: if it is wrong, ib_async would subscribe to its updates
    and wait out a timeout for an answer that never comes, before `choose_account` could say what is wrong.
    """
    ib = IB()
    ib.RaiseRequestErrors = True
    failed: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    def on_api_error(msg: Any) -> None:
        if not failed.done():
            failed.set_result(str(msg))

    def on_error(req_id: int, code: int, text: str, contract: Any) -> None:
        if code == CLIENT_ID_IN_USE and not failed.done():
            failed.set_result(f"IB {code}: {text} (client_id {client_id})")

    ib.client.apiError += on_api_error
    ib.errorEvent += on_error
    real = max(clock.real_seconds(timeout), CONNECT_REAL_FLOOR)
    task = asyncio.ensure_future(
        ib.connectAsync(host, port, clientId=client_id, timeout=real, readonly=readonly, fetchFields=STARTUP_FETCH)
    )
    try:
        done, _ = await asyncio.wait({task, failed}, timeout=real * 4, return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            task.result()
        elif failed in done:
            raise ConnectionError(failed.result())
        else:
            raise TimeoutError(f"no API handshake within {timeout:g} s")
        if not ib.isConnected():
            raise ConnectionError("the gateway closed the connection during the startup sync")
    except BaseException:
        task.cancel()
        ib.disconnect()
        raise
    finally:
        ib.client.apiError -= on_api_error
        ib.errorEvent -= on_error
    return ib


class Gateway(OrderDesk):
    """A connected, account-checked session with IB Gateway. Create it with `await Gateway.connect(...)`."""

    commission_wait = 2.0  # virtual seconds executions() waits for commission reports still in flight

    @classmethod
    async def connect(
        cls,
        cfg: GatewayConfig,
        *,
        clock: Clock,
        deadline: datetime,
        mode: str,
        timeout: float = 10.0,
        strategy: StrategyConfig | None = None,
        readonly: bool = False,
    ) -> Gateway:
        """Connect (retrying until `deadline`), check the account against `mode`, and return the session.

        `strategy` names the traded product (config.strategy: SPX/SPXW, the default, or XSP/XSP); the index,
        the option chain, option lookups and the BAG orders of this session all use it. `readonly` connects as
        ib_async's read-only client (no open/completed orders fetched at start-up): for `icbot status`, which
        never places or cancels anything.

        Raises GatewayUnavailable when no attempt succeeded by the deadline, WrongAccount when the account
        does not fit the mode (not retried: waiting will not change it), ValueError for a product icbot does
        not trade (the configuration loader refuses those first).
        """
        startup.started()  # the first step of every command that talks to the gateway (icbot/startup.py)
        product: Product = SPX if strategy is None else product_for(strategy.symbol, strategy.trading_class)
        host, port, client_id = str(cfg.host), int(cfg.port), int(cfg.client_id)
        configured = str(getattr(cfg, "account", "") or "").strip()
        attempts = 0

        def wait(rs: RetryCallState) -> float:
            backoff = min(10.0, 0.5 * 2 ** max(rs.attempt_number - 1, 0))
            return max(0.0, min(backoff, clock.seconds_until(deadline)))

        def stop(rs: RetryCallState) -> bool:
            return clock.now() >= deadline

        def before_sleep(rs: RetryCallState) -> None:
            exc = rs.outcome.exception() if rs.outcome is not None else None
            log.warning("connect attempt %d to %s:%s failed: %s", rs.attempt_number, host, port, exc)

        ib: IB | None = None
        try:
            async for attempt in AsyncRetrying(
                retry=retry_if_exception_type(_RETRYABLE),
                wait=wait,
                stop=stop,
                sleep=clock.asleep,
                before_sleep=before_sleep,
                reraise=True,
            ):
                with attempt:
                    attempts += 1
                    ib = await _connect_once(host, port, client_id, clock, timeout, readonly=readonly)
        except _RETRYABLE as exc:
            by = deadline.astimezone(NEW_YORK).strftime("%H:%M:%S")
            plural = "" if attempts == 1 else "s"
            raise GatewayUnavailable(
                f"IB Gateway at {host}:{port} did not accept a connection by {by} ET "
                f"({attempts} attempt{plural}): {_reason(exc)}"
            ) from None
        assert ib is not None
        try:
            account = choose_account(mode, configured, ib.managedAccounts())
        except BaseException:
            ib.disconnect()
            raise
        log.info(
            "connected to %s:%s as client %s, account %s (%s), trading %s",
            host,
            port,
            client_id,
            account,
            mode,
            product.pair,
        )
        return cls(ib, clock=clock, account=account, mode=mode, host=host, port=port, timeout=timeout, product=product)

    async def close(self) -> None:
        """Disconnect (idempotent), once what ib_async's throttle still holds has been sent. Server-side
        subscriptions end with the connection."""
        if self._closed:
            return
        try:
            await self.flush()
        except asyncio.CancelledError:
            # A SIGTERM while closing (run-today's `finally`, after its work): stop waiting and disconnect. Raised
            # here, the cancellation would escape the command's cleanup as a traceback instead of its exit code; the
            # stop handler (runner/signals.py) cancels again until the run takes the stop in hand.
            log.warning("stopped while the request throttle was being flushed: disconnecting now")
        finally:
            self._closed = True
            try:
                self.ib.disconnect()
            except Exception as exc:  # closing must never hide the error that made us close
                log.warning("disconnect: %s", exc)

    async def __aenter__(self) -> Gateway:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- account ------------------------------------------------------------------------------------
    async def positions(self) -> list[Position]:
        """Non-zero positions of the account, fresh from the gateway (reqPositions)."""
        items = await self.request(lambda: self.ib.reqPositionsAsync(), "positions", lane="positions")
        return [from_ib_position(p) for p in items if p.account == self.account and p.position != 0]

    async def account_values(self) -> AccountValues:
        """Net liquidation, available funds and buying power (account updates, else the account summary)."""
        values = account_values_from(self.ib.accountValues(self.account), self.account)
        if values.net_liquidation is None and values.available_funds is None:
            summary = await self.request(lambda: self.ib.accountSummaryAsync(self.account), "account summary")
            values = account_values_from(summary, self.account)
        return values

    async def what_if_margin(self, order: ComboOrder) -> float | None:
        """IB's initial-margin change for the exact order (its whole quantity); None if IB reports none."""
        contract = to_ib_bag(order.legs, self.product.symbol)
        ib_order = to_ib_order(order, account=self.account)
        state = await self.request(
            lambda: self.ib.whatIfOrderAsync(contract, ib_order), "what-if margin", order_errors=True
        )
        return num(state.initMarginChange)

    async def executions(self, session_date: date | None = None) -> list[Execution]:
        """Executions of the account (BAG and legs) with commissions attached, optionally of one NY date.

        IB sends a commission report after each execution; reports still in flight are awaited briefly
        (`commission_wait`), after which commission is None for those — call again later.
        """
        fills: list[Fill] = await self.request(lambda: self.ib.reqExecutionsAsync(), "executions")
        # ib_async attaches late commission reports to its own copy of each fill, not to the reply's.
        known = {f.execution.execId: f for f in self.ib.fills()}
        canonical = {f.execution.execId: known.get(f.execution.execId, f) for f in fills}
        mine = [
            f
            for f in canonical.values()
            if not f.execution.acctNumber or not self.account or f.execution.acctNumber == self.account
        ]

        def commissions_in() -> bool:
            return all(f.commissionReport.execId for f in mine if f.contract.secType != "BAG")

        if mine:
            await self.wait_until(commissions_in, self.commission_wait, floor=0.2)
        out = [from_ib_fill(f) for f in mine]
        if session_date is not None:
            out = [e for e in out if e.at.astimezone(NEW_YORK).date() == session_date]
        return sorted(out, key=lambda e: (e.at, e.exec_id))


__all__ = ["Gateway", "GatewayConfig", "StrategyConfig"]
