"""Broker failures, one class per remedy, each a subclass of the exit-code classes in `icbot.errors`.

The runner decides what a failure means for the day (no trade, or critical when risk is open); these classes
only say precisely what went wrong, in one line a person can act on.
"""

from __future__ import annotations

from icbot.errors import BrokerError, ConfigError, GatewayUnavailable, TransientBrokerError

__all__ = [
    "BrokerError",
    "CompetingSession",
    "GatewayUnavailable",
    "MarketDataUnavailable",
    "OrderRejected",
    "OrderUnconfirmed",
    "ReadOnlyApi",
    "TransientBrokerError",
    "UnknownOrder",
    "WrongAccount",
]


class WrongAccount(ConfigError):
    """The gateway's account does not fit the configured mode (paper needs DU…, live needs gateway.account)."""


class CompetingSession(BrokerError):
    """IB error 10197: another session (TWS, mobile, web) holds the live market data for this user."""


class MarketDataUnavailable(BrokerError):
    """IB errors 354/10167/10168: no live market data subscription for what icbot must stream."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class ReadOnlyApi(BrokerError):
    """The gateway's API is in read-only mode, so orders are refused (IB 321 "…Read-Only mode")."""


class OrderRejected(BrokerError):
    """The gateway refused an order or a change to one (IB 201 and friends). Never retried automatically."""

    def __init__(self, code: int, text: str, *, order_id: int | None = None, order_ref: str = "") -> None:
        where = f" (order {order_id}{', ' + order_ref if order_ref else ''})" if order_id is not None else ""
        super().__init__(f"order rejected by IB{where}: {code} {text}".rstrip())
        self.code = code
        self.text = text
        self.order_id = order_id
        self.order_ref = order_ref


class OrderUnconfirmed(GatewayUnavailable):
    """An order (or a change) was sent but the gateway did not acknowledge it in time.

    The order may or may not exist at the broker: look it up by orderRef before doing anything else.
    """

    def __init__(self, message: str, *, order_id: int, order_ref: str) -> None:
        super().__init__(message)
        self.order_id = order_id
        self.order_ref = order_ref


class UnknownOrder(BrokerError):
    """No order with that id is known to this connection, even after asking the gateway for all open orders."""
