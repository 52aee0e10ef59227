"""The order side of the journal: intents, placements, status history, re-prices and fills.

Part of `Store` (a mixin only to keep modules small); the rules in repo.py's docstring apply.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime

from icbot.core.accounting import current_executions
from icbot.core.journal import ComboLeg, Fill, OrderRecord, OrderStatus, PriceChange, Role, StatusChange
from icbot.errors import StoreError
from icbot.store.base import StoreBase
from icbot.store.codec import iso_at, iso_date, money, to_column, to_json

# IB's "no value" double (Double.MAX_VALUE) appears in commission reports before the real figure is known.
_IB_UNSET = 1e300


def _known_commission(value: float | None) -> float | None:
    if value is None or not math.isfinite(value) or abs(value) >= _IB_UNSET:
        return None
    return money(value)


def _legs_json(legs: Sequence[ComboLeg]) -> str:
    """The legs as journaled since the first release (the local symbol is not stored: the conId names the leg)."""
    return to_json(
        [{"action": leg.action, "con_id": leg.con_id, "right": leg.right, "strike": leg.strike} for leg in legs]
    )


class OrderJournal(StoreBase):
    # -- orders -----------------------------------------------------------------------------------------
    def record_intent(
        self,
        *,
        trade_date: date,
        mode: str,
        role: Role | str,
        order_ref: str,
        action: str,
        order_type: str,
        quantity: float,
        legs: Sequence[ComboLeg],
        at: datetime,
        limit_price: float | None = None,
        aux_price: float | None = None,
        trigger_method: int | str | None = None,
        good_after: str | None = None,
        oca_group: str | None = None,
        transmitted: bool = True,
    ) -> bool:
        """Journal an order BEFORE it is sent. True if new; False if `order_ref` was already recorded.

        A re-call for the same order is harmless; reusing an order_ref for a different order is a StoreError.
        """
        stamp = iso_at(at)
        day = iso_date(trade_date)
        with self.transaction() as conn:
            cur = conn.execute(
                "INSERT INTO orders (trade_date, mode, role, order_ref, action, order_type, quantity, limit_price, "
                "aux_price, trigger_method, good_after, oca_group, legs, status, intent_at, updated_at, transmitted) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'intent', ?, ?, ?) ON CONFLICT (order_ref) DO NOTHING",
                (
                    day,
                    mode,
                    str(role),
                    order_ref,
                    action,
                    order_type,
                    to_column(quantity, "REAL"),
                    money(limit_price),
                    money(aux_price),
                    trigger_method,
                    good_after,
                    oca_group,
                    _legs_json(legs),
                    stamp,
                    stamp,
                    int(bool(transmitted)),
                ),
            )
            if cur.rowcount == 1:
                conn.execute(
                    "INSERT INTO order_status (order_ref, at, status, filled, remaining, message) "
                    "VALUES (?, ?, 'intent', 0, ?, ?)",
                    (order_ref, stamp, to_column(quantity, "REAL"), "" if transmitted else "not transmitted"),
                )
                return True
        existing = self.order(order_ref)
        assert existing is not None
        if (existing.trade_date, existing.mode, existing.role, existing.action) != (trade_date, mode, role, action):
            raise StoreError(
                f"orderRef {order_ref} is already journaled for {existing.trade_date} {existing.mode} "
                f"{existing.role} {existing.action}; refusing to reuse it"
            )
        return False

    def record_placed(self, order_ref: str, *, order_id: int, perm_id: int | None, at: datetime) -> None:
        """The order was handed to the gateway (IB orderId known; permId may come later)."""
        stamp = iso_at(at)
        with self.transaction() as conn:
            row = conn.execute("SELECT status, quantity FROM orders WHERE order_ref = ?", (order_ref,)).fetchone()
            if row is None:
                raise StoreError(f"orderRef {order_ref} has no intent in the journal; record_intent comes first")
            conn.execute(
                "UPDATE orders SET order_id = ?, perm_id = COALESCE(?, perm_id), placed_at = COALESCE(placed_at, ?), "
                "status = CASE status WHEN 'intent' THEN 'placed' ELSE status END, updated_at = ? "
                "WHERE order_ref = ?",
                (order_id, perm_id, stamp, stamp, order_ref),
            )
            if row[0] == "intent":
                conn.execute(
                    "INSERT INTO order_status (order_ref, at, status, filled, remaining, message) "
                    "VALUES (?, ?, 'placed', 0, ?, ?)",
                    (order_ref, stamp, row[1], f"orderId {order_id}"),
                )

    def record_order_status(
        self,
        order_ref: str,
        *,
        status: OrderStatus | str,
        filled: float,
        remaining: float,
        avg_fill_price: float | None,
        at: datetime,
        message: str = "",
        perm_id: int | None = None,
    ) -> bool:
        """Latest status onto the order; a history row only when status/filled/remaining/price changed."""
        stamp = iso_at(at)
        new = (str(status), to_column(filled, "REAL"), to_column(remaining, "REAL"), money(avg_fill_price))
        with self.transaction() as conn:
            if conn.execute("SELECT 1 FROM orders WHERE order_ref = ?", (order_ref,)).fetchone() is None:
                raise StoreError(f"orderRef {order_ref} has no intent in the journal; record_intent comes first")
            last = conn.execute(
                "SELECT status, filled, remaining, avg_fill_price FROM order_status WHERE order_ref = ? "
                "ORDER BY id DESC LIMIT 1",
                (order_ref,),
            ).fetchone()
            if perm_id:
                conn.execute(
                    "UPDATE orders SET perm_id = ? WHERE order_ref = ? AND perm_id IS NULL", (perm_id, order_ref)
                )
            if last is not None and tuple(last) == new:
                return False
            conn.execute(
                "INSERT INTO order_status (order_ref, at, status, filled, remaining, avg_fill_price, message) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (order_ref, stamp, *new, message),
            )
            conn.execute(
                "UPDATE orders SET status = ?, filled = ?, avg_fill_price = ?, updated_at = ? WHERE order_ref = ?",
                (new[0], new[1], new[3], stamp, order_ref),
            )
        return True

    def update_order_prices(
        self, order_ref: str, *, limit_price: float | None = None, aux_price: float | None = None, at: datetime
    ) -> None:
        """A re-price (ladder rung, moved stop): latest prices on the order, each change kept in order_prices."""
        stamp = iso_at(at)
        with self.transaction() as conn:
            cur = conn.execute(
                "UPDATE orders SET limit_price = COALESCE(?, limit_price), aux_price = COALESCE(?, aux_price), "
                "updated_at = ? WHERE order_ref = ?",
                (money(limit_price), money(aux_price), stamp, order_ref),
            )
            if cur.rowcount != 1:
                raise StoreError(f"orderRef {order_ref} has no intent in the journal; record_intent comes first")
            conn.execute(
                "INSERT INTO order_prices (order_ref, at, limit_price, aux_price) VALUES (?, ?, ?, ?)",
                (order_ref, stamp, money(limit_price), money(aux_price)),
            )

    def order(self, order_ref: str) -> OrderRecord | None:
        return self._record(OrderRecord, "SELECT * FROM orders WHERE order_ref = ?", (order_ref,))

    def entry_order(self, trade_date: date, mode: str) -> OrderRecord | None:
        """The day's entry as this journal intended it (its orderRef names this installation)."""
        return self._record(
            OrderRecord,
            "SELECT * FROM orders WHERE trade_date = ? AND mode = ? AND role = 'entry' ORDER BY id LIMIT 1",
            (iso_date(trade_date), mode),
        )

    def orders(self, trade_date: date, mode: str) -> list[OrderRecord]:
        return self._records(
            OrderRecord,
            "SELECT * FROM orders WHERE trade_date = ? AND mode = ? ORDER BY id",
            (iso_date(trade_date), mode),
        )

    def order_history(self, order_ref: str) -> list[StatusChange]:
        """Every status the order went through, oldest first (starts with 'intent')."""
        return self._records(StatusChange, "SELECT * FROM order_status WHERE order_ref = ? ORDER BY id", (order_ref,))

    def price_history(self, order_ref: str) -> list[PriceChange]:
        """Every re-price of the order, oldest first (the first price is on the intent)."""
        return self._records(PriceChange, "SELECT * FROM order_prices WHERE order_ref = ? ORDER BY id", (order_ref,))

    # -- fills ------------------------------------------------------------------------------------------
    def record_fill(
        self,
        *,
        exec_id: str,
        order_ref: str | None,
        order_id: int | None,
        perm_id: int | None,
        trade_date: date,
        mode: str,
        con_id: int | None,
        local_symbol: str | None,
        right: str | None,
        strike: float | None,
        side: str,
        quantity: float,
        price: float,
        at: datetime,
        role: Role,
        commission: float | None = None,
    ) -> bool:
        """Journal one execution; False if `exec_id` is already known (then only a missing commission is added)."""
        commission = _known_commission(commission)
        role = Role(role)  # a word that is not a role is refused; Role.UNKNOWN says "no role in the orderRef"
        with self.transaction() as conn:
            cur = conn.execute(
                "INSERT INTO fills (exec_id, order_ref, order_id, perm_id, trade_date, mode, con_id, local_symbol, "
                '"right", strike, side, quantity, price, commission, at, role) '
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (exec_id) DO NOTHING",
                (
                    exec_id,
                    order_ref,
                    order_id,
                    perm_id,
                    iso_date(trade_date),
                    mode,
                    con_id,
                    local_symbol,
                    right,
                    money(strike),
                    side,
                    to_column(quantity, "REAL"),
                    money(price),
                    commission,
                    iso_at(at),
                    role.value,
                ),
            )
            if cur.rowcount == 1:
                return True
            if commission is not None:
                conn.execute(
                    "UPDATE fills SET commission = ? WHERE exec_id = ? AND commission IS NULL", (commission, exec_id)
                )
        return False

    def set_commission(self, exec_id: str, commission: float) -> bool:
        """Attach IB's commission report to a fill. False if the fill is unknown or the figure is IB's 'unset'."""
        value = _known_commission(commission)
        if value is None:
            return False
        with self.transaction() as conn:
            cur = conn.execute("UPDATE fills SET commission = ? WHERE exec_id = ?", (value, exec_id))
        return cur.rowcount == 1

    def fills(
        self, trade_date: date, mode: str, role: Role | str | None = None, *, superseded: bool = False
    ) -> list[Fill]:
        """A day's leg executions as they stand: an execution IB corrected appears once, in its latest revision.

        Every revision stays in the table (nothing is deleted); `superseded=True` returns them all. `role` is
        matched on the records, so Role.UNKNOWN also finds fills an older journal stored without a role.
        """
        fills = self._records(
            Fill, "SELECT * FROM fills WHERE trade_date = ? AND mode = ? ORDER BY id", (iso_date(trade_date), mode)
        )
        if role is not None:
            fills = [f for f in fills if f.role == role]
        return fills if superseded else current_executions(fills, lambda f: f.exec_id)
