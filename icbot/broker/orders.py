"""Orders: place, re-price, cancel and look up combo orders — never retried, always confirmed.

A placement is sent exactly once. If the gateway neither acknowledges nor refuses it in time, the order may or
may not exist, so the caller gets OrderUnconfirmed and must look it up by orderRef (docs/operations.md §4) —
resending could open a second condor. ib_async keeps its own idea of an order's status and changes it on mere warnings
(ValidationError) or errors about a *change* (Cancelled although the order still works); every status here is
the last one the gateway itself reported (`convert.effective_status`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ib_async import Contract, Trade

from icbot.broker.convert import effective_status, from_ib_trade, num, to_ib_bag, to_ib_order
from icbot.broker.errors import GatewayUnavailable, OrderUnconfirmed, UnknownOrder
from icbot.broker.market import MarketData
from icbot.broker.session import is_info, is_refusal, log, order_error
from icbot.broker.types import DONE_STATUSES, ComboOrder, OrderState, QualifiedOption

DONE = DONE_STATUSES
ACK_TIMEOUT = 10.0  # virtual seconds for the gateway to acknowledge a placement, change or cancel
# Answers to a cancel that mean "too late": the order is already done; its final status follows.
CANCEL_TOO_LATE = frozenset({10147, 10148, 161})
ORDER_REJECTED = 201


class OrderDesk(MarketData):
    """Order placement and tracking on top of the market-data session."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._trades: dict[int, Trade] = {}
        self._echoes: dict[int, int] = {}  # openOrder messages per order id
        self.ack_timeout = ACK_TIMEOUT
        self.ib.openOrderEvent += self._on_open_order
        self.ib.orderStatusEvent += self._on_order_status

    # -- bookkeeping --------------------------------------------------------------------------------
    def _on_open_order(self, trade: Trade) -> None:
        oid = trade.order.orderId
        self._echoes[oid] = self._echoes.get(oid, 0) + 1
        self._adopt(trade)

    def _on_order_status(self, trade: Trade) -> None:
        self._adopt(trade)

    def _adopt(self, trade: Trade) -> None:
        if trade.order.orderId > 0 and trade.order.clientId in (self.ib.client.clientId, 0):
            self._trades.setdefault(trade.order.orderId, trade)

    def _trade(self, order_id: int) -> Trade | None:
        trade = self._trades.get(order_id)
        if trade is None:
            for t in self.ib.trades():
                if t.order.orderId == order_id and t.order.clientId == self.ib.client.clientId:
                    self._adopt(t)
                    return t
        return trade

    async def _trade_or_fetch(self, order_id: int) -> Trade:
        trade = self._trade(order_id)
        if trade is None:
            await self.open_orders()
            trade = self._trade(order_id)
        if trade is None:
            raise UnknownOrder(f"order {order_id} is not known to {self.where} for client {self.ib.client.clientId}")
        return trade

    def _state(self, trade: Trade, since: int | None = None) -> OrderState:
        return from_ib_trade(trade, known=self.known, last_error=self._last_error(trade.order.orderId, since))

    def _errors_since(self, order_id: int, mark: int) -> list[tuple[int, str]]:
        return [(c, t) for c, t in self.errors.get(order_id, [])[mark:] if not is_info(c)]

    def _last_error(self, order_id: int, since: int | None = None) -> str | None:
        """The reason to show: IB's rejection of the order (201) before anything said after it (e.g. 10147 to a
        change that crossed the rejection), else the last error."""
        errs = [(c, t) for c, t in self.errors.get(order_id, [])[since or 0 :] if not is_info(c)]
        rejected = [(c, t) for c, t in errs if c == ORDER_REJECTED]
        code, text = (rejected or errs or [(0, "")])[-1]
        return f"{code} {text}" if code else None

    def order_state(self, order_id: int) -> OrderState:
        """The last state the gateway reported for an order this connection knows."""
        trade = self._trade(order_id)
        if trade is None:
            raise UnknownOrder(f"order {order_id} is not known to this connection; call open_orders() first")
        return self._state(trade)

    # -- placing ------------------------------------------------------------------------------------
    def _send(self, contract: Contract, trade_or_order: Any, what: str) -> Trade:
        self.ensure_connected()
        try:
            return self.ib.placeOrder(contract, trade_or_order)
        except ConnectionError as exc:
            raise GatewayUnavailable(f"{what}: connection to {self.where} lost before sending ({exc})") from None

    async def place(self, order: ComboOrder) -> OrderState:
        """Send a combo order once and return when the gateway acknowledged it.

        Raises OrderRejected/ReadOnlyApi when the gateway refuses it, OrderUnconfirmed when it says nothing
        in time, GatewayUnavailable when the connection drops (the order may exist then: look it up by ref).
        A transmit=False order gets no acknowledgement from IB and is returned as sent.
        """
        contract = to_ib_bag(order.legs, self.product.symbol)
        ib_order = to_ib_order(order, account=self.account)
        for leg in order.legs:
            self.known.setdefault(leg.con_id, QualifiedOption(leg.con_id, leg.local_symbol, leg.right, leg.strike))
        ref = order.order_ref
        trade = self._send(contract, ib_order, f"placing {ref}")
        oid = trade.order.orderId
        self._trades[oid] = trade
        log.info("placed order %s %s %s x%s %s", oid, order.order_ref, order.action, order.quantity, order.order_type)
        if not order.transmit:
            return self._state(trade)
        try:
            await self.wait_until(
                lambda: effective_status(trade) != "PendingSubmit" or bool(self._errors_since(oid, 0)),
                self.ack_timeout,
                floor=1.0,
            )
        except GatewayUnavailable as exc:
            raise GatewayUnavailable(
                f"{exc}; order {oid} ({order.order_ref}) was sent and may be live — look it up by orderRef"
            ) from None
        errs = self._errors_since(oid, 0)
        if errs and effective_status(trade) == "PendingSubmit" and not any(is_refusal(c, t) for c, t in errs):
            # A message icbot does not know, before the acknowledgement: IB's own order status decides whether
            # the order lives (docs/troubleshooting.md, "Unknown messages about a live order").
            code, text = errs[0]
            log.warning(
                "order %s (%s): IB %s %s before its acknowledgement; waiting for its status", oid, ref, code, text
            )
            await self.wait_until(lambda: effective_status(trade) != "PendingSubmit", self.ack_timeout, floor=1.0)
        if errs and effective_status(trade) in ("PendingSubmit", "Cancelled", "Inactive", "ApiCancelled"):
            code, text = errs[0]
            raise order_error(code, text, order_id=oid, order_ref=order.order_ref)
        if effective_status(trade) == "PendingSubmit":
            raise OrderUnconfirmed(
                f"order {oid} ({order.order_ref}) sent but not acknowledged by {self.where} within "
                f"{self.ack_timeout:g} s; it may be live — look it up by orderRef before doing anything else",
                order_id=oid,
                order_ref=order.order_ref,
            )
        return self._state(trade)

    async def modify_limit(self, order_id: int, limit_price: float) -> OrderState:
        """Change a working order's limit (same orderId) and return once the gateway answered.

        An order that is already done is returned unchanged: a fill may have arrived just before.
        """
        trade = await self._trade_or_fetch(order_id)
        if effective_status(trade) in DONE_STATUSES:
            return self._state(trade)
        echoes = self._echoes.get(order_id, 0)
        mark = len(self.errors.get(order_id, []))
        price = float(limit_price)

        def echoed() -> bool:
            # an openOrder sent after the change, carrying the new price: an echo of the order as it was
            # (still in flight when we sent the change) must not count as the acknowledgement
            lmt = num(trade.order.lmtPrice)
            return self._echoes.get(order_id, 0) > echoes and lmt is not None and abs(lmt - price) < 1e-9

        if trade.orderStatus.status in DONE_STATUSES:
            # ib_async believes its own error-induced "Cancelled" and would refuse to modify; the gateway
            # said otherwise (effective_status), so put the gateway's status back first.
            trade.orderStatus.status = effective_status(trade)
        trade.order.lmtPrice = price
        trade = self._send(trade.contract, trade.order, f"re-pricing order {order_id}")
        ref = trade.order.orderRef
        try:
            answered = await self.wait_until(
                lambda: echoed() or bool(self._errors_since(order_id, mark)) or effective_status(trade) in DONE,
                self.ack_timeout,
                floor=1.0,
            )
        except GatewayUnavailable as exc:
            raise GatewayUnavailable(f"{exc}; the change of order {order_id} ({ref}) may or may not apply") from None
        errs = self._errors_since(order_id, mark)
        rejected_whole = any(c == ORDER_REJECTED for c, _ in errs)
        if errs and not echoed() and (rejected_whole or not any(is_refusal(c, t) for c, t in errs)):
            # An unknown message is no refusal of the change until the gateway's echo fails to come; a 201 during
            # a change is IB rejecting the order itself after it had acknowledged it (docs/simulator.md,
            # "reject-after-ack"): its Inactive status follows, and the caller gets the order as ended.
            answered = await self.wait_until(
                lambda: echoed() or effective_status(trade) in DONE, self.ack_timeout, floor=1.0
            )
        if errs and not echoed() and effective_status(trade) not in DONE_STATUSES:
            code, text = errs[0]
            raise order_error(code, text, order_id=order_id, order_ref=ref)
        if not answered:
            raise OrderUnconfirmed(
                f"the change of order {order_id} ({ref}) to {limit_price:g} was not acknowledged within "
                f"{self.ack_timeout:g} s",
                order_id=order_id,
                order_ref=ref,
            )
        return self._state(trade)

    async def cancel(self, order_id: int, *, timeout: float = ACK_TIMEOUT) -> OrderState:
        """Cancel and wait (virtual s) for the final state — which is Filled if a fill won the race."""
        trade = await self._trade_or_fetch(order_id)
        if effective_status(trade) in DONE_STATUSES:
            return self._state(trade)
        mark = len(self.errors.get(order_id, []))
        self.ensure_connected()
        try:
            self.ib.cancelOrder(trade.order)
        except ConnectionError as exc:
            raise GatewayUnavailable(f"cancelling order {order_id}: connection to {self.where} lost ({exc})") from None
        await self.wait_until(lambda: effective_status(trade) in DONE_STATUSES, timeout, floor=1.0)
        if effective_status(trade) not in DONE_STATUSES and any(
            c in CANCEL_TOO_LATE for c, _ in self._errors_since(order_id, mark)
        ):
            # The gateway says the order is no longer working, but its final status has not arrived.
            for state in await self.completed_orders():
                if state.order_id == order_id or (state.perm_id and state.perm_id == trade.order.permId):
                    return state
        return self._state(trade)

    async def wait_status(self, order_id: int, statuses: set[str] | frozenset[str], timeout: float) -> OrderState:
        """Wait (virtual s) until the order's status is one of `statuses`; returns the state either way."""
        trade = await self._trade_or_fetch(order_id)
        await self.wait_until(lambda: effective_status(trade) in statuses, timeout)
        return self._state(trade)

    # -- looking up ---------------------------------------------------------------------------------
    async def _describe(self, trades: Iterable[Trade]) -> None:
        """Learn right/strike of legs of orders placed by earlier processes (one contract lookup per conId)."""
        unknown = {leg.conId for t in trades if t.contract.secType == "BAG" for leg in t.contract.comboLegs}
        unknown -= set(self.known)
        for con_id in sorted(unknown):
            try:
                details = await self.request(_details_of(self, con_id), f"contract {con_id}")
            except GatewayUnavailable:
                raise
            except Exception as exc:  # a leg we cannot describe keeps "?" — the order itself is still reported
                log.warning("could not describe leg %s: %s", con_id, exc)
                continue
            for d in details:
                c = d.contract
                if c is not None and c.conId == con_id:
                    right = (c.right or "?")[:1].upper()
                    self.known[con_id] = QualifiedOption(con_id, c.localSymbol or "", right, float(c.strike))

    async def open_orders(self) -> list[OrderState]:
        """All open orders at the gateway (reqAllOpenOrders), including those of earlier icbot processes."""
        trades: list[Trade] = await self.request(
            lambda: self.ib.reqAllOpenOrdersAsync(), "open orders", lane="open orders"
        )
        for t in trades:
            self._adopt(t)
        await self._describe(trades)
        return [self._state(t) for t in trades]

    async def completed_orders(self) -> list[OrderState]:
        """Today's completed API orders (filled, cancelled, rejected) with their final status."""
        trades: list[Trade] = await self.request(
            lambda: self.ib.reqCompletedOrdersAsync(True), "completed orders", lane="completed orders"
        )
        await self._describe(trades)
        return [from_ib_trade(t, known=self.known) for t in trades]

    async def find_by_ref(self, prefix: str) -> list[OrderState]:
        """Open and completed orders whose orderRef starts with prefix; a completed state wins over an open one."""
        found: dict[tuple[str, int], OrderState] = {}

        def key(s: OrderState) -> tuple[str, int]:
            return ("perm", s.perm_id) if s.perm_id else ("id", s.order_id)

        for s in await self.open_orders():
            if s.order_ref.startswith(prefix):
                found[key(s)] = s
        for s in await self.completed_orders():
            if s.order_ref.startswith(prefix):
                found[key(s)] = s
        return sorted(found.values(), key=lambda s: (s.order_id, s.perm_id))


def _details_of(desk: OrderDesk, con_id: int) -> Any:
    probe = Contract(conId=con_id)
    return lambda: desk.ib.reqContractDetailsAsync(probe)
