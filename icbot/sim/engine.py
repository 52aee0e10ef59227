"""The order engine: order lifecycle, OCA groups, fills, executions, commissions and positions.

Everything happens at an explicit virtual instant; `advance(now)` replays each whole virtual second since
the last call (so a loop that wakes every 20 real ms at speed 600 still evaluates every second, in order),
and every request first advances to its own arrival time. The engine never touches a socket: what it wants
to tell clients goes to `outbox` as (clientId, fields) and the server delivers it. Orders, executions and
positions live as long as the engine, so they survive client reconnects, as they do at a real gateway.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from icbot.sim import messages as msg
from icbot.sim import order_messages as om
from icbot.sim.account import AccountParams, Ledger, account_values, expiry_margin, what_if_state
from icbot.sim.catalog import Catalog
from icbot.sim.faults import FaultPlan
from icbot.sim.fills import (
    FillParams,
    draw,
    is_marketable,
    limit_fill_probability,
    mix,
    natural,
    natural_size,
    split_leg_prices,
    stop_triggered,
)
from icbot.sim.ibtime import format_ib_time
from icbot.sim.market import Market, Quote
from icbot.sim.orders import DONE, ExecRecord, Rejection, SimOrder, validate_order
from icbot.sim.requests import OrderReq


@dataclass(frozen=True, slots=True)
class EngineParams:
    seed: int = 7
    fill: FillParams = field(default_factory=FillParams)
    account: AccountParams = field(default_factory=AccountParams)
    combo_tick: float = 0.05  # Cboe complex-order net price increment; 0.01 relaxes it
    first_order_id: int = 1


@dataclass(slots=True)
class Out:
    """Something for the server to deliver: fields for a client, or a position/account change notice."""

    client_id: int | None
    fields: list[object]
    kind: str = "client"  # client | positions | account


TIF_PRESET_NOTICE = (10349, "Order TIF was set to DAY based on order preset.")


class Engine:
    def __init__(self, market: Market, params: EngineParams | None = None) -> None:
        self.market = market
        self.params = p = params or EngineParams()
        self.catalog = Catalog(market)
        self.ledger = Ledger(p.account)
        self.orders: dict[tuple[int, int], SimOrder] = {}
        self.executions: list[ExecRecord] = []
        self.outbox: list[Out] = []
        self.next_ids: dict[int, int] = {}
        self.server_version = 178
        self._perm = 1_000_000_000 + mix(p.seed, 1) % 900_000_000
        self._exec_prefix = mix(p.seed, 2) & 0xFFFF
        self._exec_seq = mix(p.seed, 3) & 0x0FFFFFFF
        self._sec: int | None = None
        self._closed = False
        self.faults = FaultPlan()  # the server shares its plan; untidy order faults are read from it
        self._later: list[tuple[float, int, Callable[[datetime], None]]] = []  # (virtual epoch, seq, action)
        self._later_seq = 0

    @property
    def account(self) -> str:
        return self.params.account.account

    # -- ids ------------------------------------------------------------------------------------------
    def next_valid_id(self, client_id: int) -> int:
        """Per clientId and persistent for the engine's lifetime, like IB's."""
        return self.next_ids.setdefault(client_id, self.params.first_order_id)

    def _use_id(self, client_id: int, order_id: int) -> None:
        if order_id >= self.next_valid_id(client_id):
            self.next_ids[client_id] = order_id + 1

    # -- outbox helpers -------------------------------------------------------------------------------
    def _send(self, client_id: int, fields: list[object]) -> None:
        self.outbox.append(Out(client_id, fields))

    def _error(self, client_id: int, req_id: int, code: int, text: str) -> None:
        self._send(client_id, msg.error(req_id, code, text, self.server_version))

    def _emit_state(self, o: SimOrder, *, open_order: bool = True) -> None:
        if open_order:
            self._send(o.client_id, om.open_order(o.view(self.account), self.server_version))
        self._send(
            o.client_id,
            om.order_status(
                o.order_id,
                o.status,
                o.filled,
                o.remaining,
                o.avg_price,
                o.perm_id,
                o.req.parent_id,
                o.last_price,
                o.client_id,
                o.held_reason(),
            ),
        )

    def _set_done(self, o: SimOrder, status: str, now: datetime, completed_status: str) -> None:
        o.status = status
        o.done_at = now
        o.completed_status = completed_status

    # -- requests -------------------------------------------------------------------------------------
    def place(self, client_id: int, req: OrderReq, now: datetime, *, reject: str | None = None) -> None:
        """placeOrder: a new order, a modification (same clientId and orderId), or a what-if."""
        self.advance(now)
        self._use_id(client_id, req.order_id)
        existing = self.orders.get((client_id, req.order_id))
        if existing is not None and existing.transmitted and not req.what_if:
            self._modify(existing, req, now)
            return
        checked = validate_order(req, self.catalog, self.params.combo_tick, now, self.market, self.account)
        if isinstance(checked, Rejection):
            self._error(client_id, req.order_id, checked.code, checked.text)
            return
        info, legs = checked
        if req.what_if:
            self._what_if(client_id, req, info, legs, now)
            return
        o = SimOrder(req.order_id, client_id, 0, req, info, legs, placed_at=now)
        o.apply_times(now)
        if reject is not None:
            o.perm_id = self._new_perm()
            self.orders[(client_id, req.order_id)] = o
            self._set_done(o, "Inactive", now, f"Rejected: {reject}")
            o.transmitted = True
            self._error(client_id, req.order_id, 201, f"Order rejected - reason:{reject}")
            return
        self.orders[(client_id, req.order_id)] = o
        if not req.transmit:
            return  # held at the gateway without any message until re-placed with transmit=True
        o.transmitted = True
        o.perm_id = self._new_perm()
        o.last_sec = math.floor(now.timestamp())
        if o.good_after is not None and o.good_after > now:
            self._error(client_id, o.order_id, 399, o.hold_warning())
        self._notice(o, now, early=True)
        active = o.is_active(now, self.market.open_time()) and not o.is_stop
        if active and req.order_type == "MKT":
            o.status = "Submitted"  # a released market order can skip PreSubmitted (IB does both)
            self._emit_state(o)
        else:
            o.status = "PreSubmitted"
            self._emit_state(o)
            if o.is_stop:  # IB acknowledges a simulated stop twice (whyHeld "trigger")
                self._emit_state(o)
        if self._oca_spent(o):
            self._cancel(o, now, "Cancelled by OCA", pending=False)
            return
        if active and o.status == "PreSubmitted":
            o.status = "Submitted"
            self._emit_state(o)
        if req.tif == "FOK":
            self._fill_or_kill(o, now)
            return
        self._try_fill_now(o, now)
        if req.tif == "IOC" and o.status not in DONE:
            self._immediate_cancel(o, now)
        self._after_ack(o, now)

    def _fill_or_kill(self, o: SimOrder, now: datetime) -> None:
        """FOK: the whole quantity at once, or nothing — the order then ends Inactive (no 202)."""
        open_now = not self._closed and self.market.open_time() <= now < self.market.close_time()
        if o.status not in DONE and open_now and o.is_active(now, self.market.open_time()) and not o.is_stop:
            q = self.quote(o, now)
            marketable = o.effective_type == "MKT" or is_marketable(o.req.action, o.req.lmt_price or 0.0, q)
            if marketable and natural_size(o.req.action, q) >= o.remaining:
                self._fill(o, o.remaining, natural(o.req.action, q), now, q)
                return
        self._set_done(o, "Inactive", now, "Cancelled: FOK")
        self._emit_state(o)

    def _immediate_cancel(self, o: SimOrder, now: datetime) -> None:
        """IOC's unfilled rest: openOrder + orderStatus PendingCancel, then orderStatus Cancelled, and no 202."""
        o.status = "PendingCancel"
        self._emit_state(o)
        self._set_done(o, "Cancelled", now, "Cancelled: IOC")
        self._emit_state(o, open_order=False)

    def _after_ack(self, o: SimOrder, now: datetime) -> None:
        """The untidy faults that act on a freshly acknowledged order (faults.py: order-notice, reject-after-ack)."""
        if o.status in DONE:
            return
        ref = o.req.order_ref or ""
        self._notice(o, now, early=False)
        f = self.faults.take_reject_after_ack(ref, now)
        if f is None:
            return
        reason = f.reason

        def reject(t: datetime) -> None:
            self._reject_working(o, reason, t)

        delay = f.seconds or 0.0
        if delay <= 0:
            reject(now)
        else:
            self.later(now + timedelta(seconds=delay), reject)

    def _notice(self, o: SimOrder, now: datetime, *, early: bool) -> None:
        """An informational message about a new order that keeps working (faults.py: order-notice)."""
        f = self.faults.order_notice(o.req.order_ref or "", now, early=early)
        if f is None:
            return
        if f.code in (0, TIF_PRESET_NOTICE[0]):
            self._error(o.client_id, o.order_id, *TIF_PRESET_NOTICE)
        else:
            self._error(o.client_id, o.order_id, f.code, f"Simulated order notice {f.code}; the order keeps working.")

    def _reject_working(self, o: SimOrder, reason: str, t: datetime) -> None:
        """A rejection after the acknowledgement (ib_insync#554): 201, then openOrder + orderStatus Inactive."""
        if o.status in DONE:
            return
        self._error(o.client_id, o.order_id, 201, f"Order rejected - reason:{reason}")
        self._set_done(o, "Inactive", t, f"Rejected: {reason}")
        self._emit_state(o)

    def later(self, when: datetime, action: Callable[[datetime], None]) -> None:
        """Run `action(t)` once the engine reaches virtual instant `when` (in order with the per-second steps)."""
        self._later_seq += 1
        heapq.heappush(self._later, (when.timestamp(), self._later_seq, action))

    def _release(self, until: float) -> None:
        while self._later and self._later[0][0] <= until:
            due, _, action = heapq.heappop(self._later)
            action(datetime.fromtimestamp(due, UTC))

    def _new_perm(self) -> int:
        self._perm += 1
        return self._perm

    def _modify(self, o: SimOrder, req: OrderReq, now: datetime) -> None:
        if o.status in DONE:
            if o.status == "Filled":
                self._error(o.client_id, o.order_id, 104, "Can't modify a filled order")
            else:
                self._error(
                    o.client_id, o.order_id, 10147, f"OrderId {o.order_id} that needs to be modified is not found."
                )
            return
        checked = validate_order(req, self.catalog, self.params.combo_tick, now, self.market, self.account)
        if isinstance(checked, Rejection):
            self._error(o.client_id, o.order_id, checked.code, checked.text)
            return
        info, legs = checked
        if legs != o.legs or req.action != o.req.action:
            self._error(o.client_id, o.order_id, 105, "Order being modified does not match original order")
            return
        if req.total_qty < o.filled:
            self._error(o.client_id, o.order_id, 201, "Order rejected - reason:quantity below the filled quantity")
            return
        o.req = req
        o.info = info
        o.apply_times(now)
        if o.good_after is not None and o.good_after > now and o.status == "Submitted":
            o.status = "PreSubmitted"
        self._emit_state(o)
        if o.is_stop and not o.triggered:  # a held stop's modify is acknowledged twice, as its placement
            self._emit_state(o)
        self._try_fill_now(o, now)

    def cancel(self, client_id: int, order_id: int, now: datetime) -> None:
        self.advance(now)
        o = self.orders.get((client_id, order_id))
        if o is None or not o.transmitted:
            self._error(client_id, order_id, 10147, f"OrderId {order_id} that needs to be cancelled is not found.")
            return
        if o.status in DONE:
            state = o.status
            self._error(
                client_id,
                order_id,
                10148,
                f"OrderId {order_id} that needs to be cancelled cannot be cancelled, state: {state}.",
            )
            return
        self._cancel(o, now, "Cancelled by Trader", pending=o.status != "PreSubmitted")

    def is_working(self, client_id: int, order_id: int) -> bool:
        o = self.orders.get((client_id, order_id))
        return o is not None and o.transmitted and o.status not in DONE

    def fill_at_limit(self, client_id: int, order_id: int, now: datetime, quantity: float | None = None) -> None:
        """Trade `quantity` (default: all that remains) of a working order at its limit now — the fill-on-cancel
        fault's race, and a test's partial fill at a moment it chooses."""
        o = self.orders[(client_id, order_id)]
        price = o.req.lmt_price if o.req.lmt_price is not None else self.quote(o, now).mid
        self._fill(o, o.remaining if quantity is None else min(quantity, o.remaining), price, now, self.quote(o, now))

    def fill_now(self, client_id: int, order_id: int, now: datetime, quantity: float, price: float) -> None:
        """Trade `quantity` of a working order at `price` now, through the engine's own fill path (executions,
        commissions, positions, OCA): for tests that choose the moment and the price of a fill."""
        o = self.orders[(client_id, order_id)]
        self._fill(o, min(quantity, o.remaining), price, now, self.quote(o, now))

    def global_cancel(self, now: datetime) -> None:
        self.advance(now)
        for o in self.working_orders():
            self._cancel(o, now, "Cancelled by Trader", pending=o.status != "PreSubmitted")

    def _cancel(self, o: SimOrder, now: datetime, why: str, *, pending: bool, error_202: bool = True) -> None:
        if pending:
            o.status = "PendingCancel"
            self._emit_state(o, open_order=False)
        self._set_done(o, "Cancelled", now, why)
        self._emit_state(o, open_order=False)
        if error_202:
            self._error(o.client_id, o.order_id, 202, "Order Canceled - reason:")

    # -- time -----------------------------------------------------------------------------------------
    def advance(self, now: datetime) -> None:
        """Evaluate every whole virtual second from the last call up to `now`, and what was scheduled for them."""
        self._advance_seconds(now)
        self._release(now.timestamp())

    def _advance_seconds(self, now: datetime) -> None:
        target = math.floor(now.timestamp())
        if self._sec is None:
            self._sec = target
            return
        if target <= self._sec:
            return
        start = self._sec + 1
        self._sec = target
        close_sec = math.floor(self.market.close_time().timestamp())
        if not self.working_orders():
            if not self._closed and target >= close_sec:
                self._close_session(datetime.fromtimestamp(close_sec, UTC))
            return
        for sec in range(start, target + 1):
            t = datetime.fromtimestamp(sec, UTC)
            self._release(sec)
            if sec >= close_sec and not self._closed:
                self._close_session(t)
            if self._closed:
                return
            for o in self.working_orders():
                self._step(o, sec, t)

    def _close_session(self, t: datetime) -> None:
        """At the close the 0DTE series stop trading: working orders on them expire (IB: Cancelled)."""
        self._closed = True
        for o in self.working_orders():
            self._cancel(o, t, "Expired at the close", pending=False, error_202=False)

    def working_orders(self) -> list[SimOrder]:
        return sorted(
            (o for o in self.orders.values() if o.transmitted and o.status not in DONE), key=lambda o: o.perm_id
        )

    def _step(self, o: SimOrder, sec: int, t: datetime) -> None:
        if sec <= o.last_sec or o.status in DONE:
            return
        o.last_sec = sec
        if o.cancel_at is not None and t >= o.cancel_at:
            self._cancel(o, t, "Cancelled by condition", pending=False)
            return
        if not o.is_active(t, self.market.open_time()):
            return
        if o.status == "PreSubmitted" and not o.is_stop:
            o.status = "Submitted"
            self._emit_state(o)
        q = self.quote(o, t)
        if o.is_stop and not o.triggered:
            fired, met = stop_triggered(
                o.req.action, o.req.aux_price or 0.0, o.req.trigger_method, q, o.is_combo, o.stop_prev
            )
            o.stop_prev = met
            if not fired:
                return
            o.triggered = True
            o.status = "Submitted"
            self._emit_state(o)
        self._fill_step(o, q, sec, t)

    # -- fills ----------------------------------------------------------------------------------------
    def quote(self, o: SimOrder, t: datetime) -> Quote:
        if o.is_combo:
            return self.market.combo_quote(o.legs, t)
        return self.market.quote(o.legs[0][0], t)

    def _try_fill_now(self, o: SimOrder, now: datetime) -> None:
        """Marketable orders trade on arrival; resting limits wait for the per-second draws."""
        if o.status in DONE or not o.is_active(now, self.market.open_time()) or self._closed:
            return
        if now >= self.market.close_time():
            return
        q = self.quote(o, now)
        if o.is_stop and not o.triggered:
            fired, _ = stop_triggered(o.req.action, o.req.aux_price or 0.0, o.req.trigger_method, q, o.is_combo, False)
            if not fired:
                return
            o.triggered = True
            o.status = "Submitted"
            self._emit_state(o)
        if o.effective_type == "MKT" or is_marketable(o.req.action, o.req.lmt_price or 0.0, q):
            qty = min(o.remaining, natural_size(o.req.action, q))
            self._fill(o, qty, natural(o.req.action, q), now, q)

    def _fill_step(self, o: SimOrder, q: Quote, sec: int, t: datetime) -> None:
        action = o.req.action
        if o.effective_type == "MKT":
            self._fill(o, min(o.remaining, natural_size(action, q)), natural(action, q), t, q)
            return
        limit = o.req.lmt_price or 0.0
        if is_marketable(action, limit, q):
            self._fill(o, min(o.remaining, natural_size(action, q)), natural(action, q), t, q)
            return
        p = limit_fill_probability(action, limit, q, self.params.fill)
        if p <= 0.0 or draw(self.params.seed, o.perm_id, sec, 1) >= p:
            return
        qty = o.remaining
        if qty > 1:
            qty = 1 + math.floor(draw(self.params.seed, o.perm_id, sec, 2) * qty)
        self._fill(o, min(qty, o.remaining), limit, t, q)

    def _fill(self, o: SimOrder, qty: float, price: float, t: datetime, q: Quote) -> None:
        if qty <= 0:
            return
        price = round(price, 2)
        self._exec_seq += 1
        prior_value = o.avg_price * o.filled
        o.filled += qty
        o.avg_price = (prior_value + price * qty) / o.filled
        o.last_price = price
        records: list[ExecRecord] = []
        side_sign = 1 if o.req.action == "BUY" else -1
        account = o.req.account or self.account
        n = 1
        if o.is_combo:
            records.append(
                ExecRecord(
                    self._exec_id(n),
                    o,
                    o.info,
                    t,
                    "BOT" if side_sign > 0 else "SLD",
                    qty,
                    price,
                    o.filled,
                    o.avg_price,
                    None,
                    None,
                    account,
                )
            )
            leg_quotes = [self.market.quote(con_id, t) for con_id, _ in o.legs]
            leg_prices = split_leg_prices([r for _, r in o.legs], leg_quotes, o.req.action, price)
        else:
            leg_prices = [price]
        for (con_id, ratio), leg_price in zip(o.legs, leg_prices, strict=True):
            n += 1
            signed = ratio * side_sign * qty
            commission, realized = self.ledger.apply_fill(con_id, signed, leg_price)
            leg_cum = o.leg_fills.get(con_id, (0.0, 0.0))
            cum = leg_cum[0] + abs(signed)
            avg = (leg_cum[1] * leg_cum[0] + leg_price * abs(signed)) / cum
            o.leg_fills[con_id] = (cum, avg)
            info = self.catalog.by_con_id(con_id)
            assert info is not None
            records.append(
                ExecRecord(
                    self._exec_id(n),
                    o,
                    info,
                    t,
                    "BOT" if signed > 0 else "SLD",
                    abs(signed),
                    leg_price,
                    cum,
                    avg,
                    commission,
                    realized,
                    account,
                )
            )
        self.executions += records
        late = self.faults.late_fills_delay(t)
        if o.is_combo:
            self._maybe_correct(o, records, t, late or 0.0)
        details = [rec.fields(-1, self.server_version) for rec in records]
        reports = [r for r in (rec.commission_fields(self.params.account.currency) for rec in records) if r]
        if late is None:
            for fields in details:
                self._send(o.client_id, fields)
        if o.remaining <= 1e-9:
            self._set_done(o, "Filled", t, "Filled")
        else:
            o.status = "Submitted"
        self._emit_state(o)
        if late is None:
            for fields in reports:
                self._send(o.client_id, fields)
        else:  # status-before-fills: live captures show orderStatus Filled ahead of the execution
            client_id = o.client_id

            def deliver(_: datetime) -> None:
                for fields in details + reports:
                    self._send(client_id, fields)

            if late <= 0:
                deliver(t)
            else:
                self.later(t + timedelta(seconds=late), deliver)
        self.outbox.append(Out(None, [con_id for con_id, _ in o.legs], "positions"))
        self.outbox.append(Out(None, [], "account"))
        self._oca_after_fill(o, qty, t)

    def _maybe_correct(self, o: SimOrder, records: list[ExecRecord], t: datetime, late: float) -> None:
        """exec-correction: one BOT and one SLD leg execution of equal size are re-priced 0.05 higher each
        (the combo's net unchanged) and re-sent as execId ….02 with a new commissionReport."""
        legs = [r for r in records if r.commission is not None]
        bought = next((r for r in legs if r.side == "BOT"), None)
        sold = next((r for r in legs if r.side == "SLD" and bought is not None and r.shares == bought.shares), None)
        if bought is None or sold is None:
            return
        delay = self.faults.take_exec_correction(t)
        if delay is None:
            return

        def correct(when: datetime) -> None:
            for rec in (bought, sold):
                self._correct(o, rec, round(rec.price + 0.05, 2))

        self.later(t + timedelta(seconds=late + delay), correct)

    def _correct(self, o: SimOrder, rec: ExecRecord, new_price: float) -> None:
        signed = rec.shares if rec.side == "BOT" else -rec.shares
        con_id = rec.contract.con_id
        delta_realized = self.ledger.reprice(con_id, signed, rec.price, new_price, opening=rec.realized is None)
        cum, avg = o.leg_fills.get(con_id, (rec.cum_qty, rec.avg_price))
        avg = avg + (new_price - rec.price) * rec.shares / cum if cum else new_price
        o.leg_fills[con_id] = (cum, avg)
        head, _, _ = rec.exec_id.rpartition(".")
        fixed = replace(
            rec,
            exec_id=f"{head}.02",
            price=new_price,
            avg_price=round(avg, 6),
            realized=None if rec.realized is None else rec.realized + delta_realized,
        )
        self.executions[self.executions.index(rec)] = fixed
        self._send(o.client_id, fixed.fields(-1, self.server_version))
        report = fixed.commission_fields(self.params.account.currency)
        if report is not None:
            self._send(o.client_id, report)
        self.outbox.append(Out(None, [con_id], "positions"))
        self.outbox.append(Out(None, [], "account"))

    def _exec_id(self, n: int) -> str:
        return f"0000{self._exec_prefix:04x}.{self._exec_seq:08x}.{n:02d}.01"

    def _oca_spent(self, o: SimOrder) -> bool:
        """An OCA group whose member already traded cancels late joiners (IB: group names are single-use)."""
        group = o.req.oca_group
        if not group:
            return False
        return any(
            other is not o and other.req.oca_group == group and other.filled > 0 and other.client_id == o.client_id
            for other in self.orders.values()
        )

    def _oca_after_fill(self, filled: SimOrder, qty: float, t: datetime) -> None:
        group = filled.req.oca_group
        if not group:
            return
        for o in self.working_orders():
            if o is filled or o.req.oca_group != group:
                continue
            kind = filled.req.oca_type or 1
            if kind == 1:
                self._cancel(o, t, "Cancelled by OCA", pending=False, error_202=True)
            else:  # 2/3: reduce the siblings by what filled
                new_qty = o.req.total_qty - qty
                if new_qty <= o.filled + 1e-9:
                    self._cancel(o, t, "Cancelled by OCA", pending=False, error_202=True)
                else:
                    o.req.total_qty = new_qty
                    self._emit_state(o)

    # -- what-if and account ------------------------------------------------------------------------
    def _what_if(
        self, client_id: int, req: OrderReq, info: msg.ContractInfo, legs: list[tuple[int, int]], now: datetime
    ) -> None:
        """IB's whatIf: one openOrder with numeric margin fields, no orderStatus, no order kept."""
        sign = 1 if req.action == "BUY" else -1
        before = self._holdings()
        after = dict(before)
        for con_id, ratio in legs:
            after[con_id] = after.get(con_id, 0.0) + ratio * sign * req.total_qty
        contracts = sum(abs(r) for _, r in legs) * req.total_qty
        state = what_if_state(
            self._margin(before),
            self._margin(after),
            self.account_values(now)["EquityWithLoanValue"],
            self.ledger.commission(contracts),
            self.params.account.currency,
        )
        temp = SimOrder(req.order_id, client_id, 0, req, info, legs, placed_at=now)
        temp.status = "PreSubmitted"
        self._send(client_id, om.open_order(temp.view(self.account), self.server_version, what_if=state))

    def _holdings(self) -> dict[int, float]:
        return {c: p.qty for c, p in self.ledger.positions.items() if p.qty}

    def _margin(self, holdings: dict[int, float]) -> float:
        specs = [(self.catalog.options[c], q) for c, q in holdings.items() if c in self.catalog.options]
        return expiry_margin(specs)

    def mark(self, con_id: int, now: datetime) -> float:
        """Mid before the close; the settlement value (intrinsic at the closing level) from the close on."""
        if now >= self.market.close_time() and con_id in self.catalog.options:
            return self.market.settlement(con_id)
        return self.market.quote(con_id, now).mid

    def account_values(self, now: datetime) -> dict[str, float]:
        margin = self._margin(self._holdings())
        return account_values(self.ledger, margin, lambda c: self.mark(c, now))

    # -- queries ----------------------------------------------------------------------------------------
    def open_orders(self, client_id: int | None = None) -> list[SimOrder]:
        return [o for o in self.working_orders() if client_id is None or o.client_id == client_id]

    def completed_orders(self) -> list[SimOrder]:
        done = [o for o in self.orders.values() if o.transmitted and o.status in DONE]
        return sorted(done, key=lambda o: (o.done_at or o.placed_at, o.perm_id))

    def order_by_ref(self, order_ref: str) -> list[SimOrder]:
        return [o for o in self.orders.values() if o.req.order_ref == order_ref]

    def view(self, o: SimOrder) -> om.OrderView:
        v = o.view(self.account)
        if o.done_at is not None:
            v.completed_time = format_ib_time(o.done_at)
        return v
