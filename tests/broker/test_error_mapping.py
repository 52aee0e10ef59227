"""IB error codes → icbot error classes, on a real (unconnected) ib_async IB.

The simulator has no read-only mode, so the read-only mapping is pinned here with IB's own text.
"""

from __future__ import annotations

import asyncio

import pytest
from ib_async import IB

from icbot.broker.errors import (
    BrokerError,
    CompetingSession,
    GatewayUnavailable,
    MarketDataUnavailable,
    OrderRejected,
    ReadOnlyApi,
    TransientBrokerError,
)
from icbot.broker.session import INFO_CODES, NOTICES, REFUSALS, Session, is_info, is_refusal, order_error
from icbot.clock import Clock, ny_datetime

READ_ONLY = "Error validating request.-'bW' : cause - The API interface is currently in Read-Only mode."


def _session() -> Session:
    return Session(
        IB(),
        clock=Clock.virtual(ny_datetime("2026-11-24", "09:31"), 60.0),
        account="DU1",
        mode="paper",
        host="127.0.0.1",
        port=4002,
        timeout=10.0,
    )


def test_read_only_api_is_recognised_from_ibs_text_whatever_the_code():
    err = order_error(321, READ_ONLY, order_id=3, order_ref="icbot:r")
    assert isinstance(err, ReadOnlyApi) and "read-only" in str(err) and "Read-Only API" in str(err)
    assert isinstance(_session().map_request_error(321, READ_ONLY, "what-if margin"), ReadOnlyApi)


def test_an_ordinary_refusal_keeps_code_and_text():
    err = order_error(201, "Order rejected - reason:Insufficient margin", order_id=3)
    assert isinstance(err, OrderRejected) and err.code == 201 and err.order_id == 3


@pytest.mark.parametrize(
    ("code", "text", "cls"),
    [
        (10197, "No market data during competing live session", CompetingSession),
        (354, "Requested market data is not subscribed.", MarketDataUnavailable),
        (10167, "Requested market data is not subscribed. Displaying delayed market data.", MarketDataUnavailable),
        (100, "Max rate of messages per second has been exceeded", TransientBrokerError),
        (162, "Historical Market Data Service error message:API historical data query cancelled: pacing", None),
        (200, "No security definition has been found for the request", BrokerError),
    ],
)
def test_request_errors_map_to_their_remedy(code, text, cls):
    err = _session().map_request_error(code, text, "SPX quote")
    expected = TransientBrokerError if cls is None else cls
    assert type(err) is expected and str(err).startswith("SPX quote: ")


def test_order_errors_flag_turns_any_code_into_a_rejection():
    err = _session().map_request_error(201, "Order rejected - reason:x", "what-if margin", order_errors=True)
    assert isinstance(err, OrderRejected)


def test_farm_messages_and_order_notes_are_information_not_errors():
    assert is_info(2104) and is_info(2158) and is_info(399) and is_info(1102) and is_info(10349)
    assert not is_info(201) and not is_info(10148) and not is_info(1100)


@pytest.mark.parametrize(
    ("code", "text", "kind"),
    [
        (10349, "Order TIF was set to DAY based on order preset.", "notice"),
        (2109, "Order Event Warning: Attribute 'Outside Regular Trading Hours' is ignored", "notice"),
        (201, "Order rejected - reason:Insufficient margin", "refusal"),
        (321, "Error validating request.-'bW' : cause - The API interface is currently in Read-Only mode.", "refusal"),
        (999, "The API interface is currently in read-only mode", "refusal"),  # read-only, whatever the code
        (105, "Order being modified does not match original order", "refusal"),
        (10999, "Something IB never said before", "unknown"),
        (10311, "This order will be directly routed to CBOE.", "unknown"),
    ],
)
def test_every_order_message_is_a_notice_a_refusal_or_unknown(code, text, kind):
    found = "notice" if is_info(code) else "refusal" if is_refusal(code, text) else "unknown"
    assert found == kind


def test_the_notice_table_says_what_each_notice_means():
    assert set(NOTICES) == INFO_CODES and all(len(meaning) > 20 for meaning in NOTICES.values())
    assert not (INFO_CODES & REFUSALS)


def test_a_session_that_never_connected_refuses_requests_as_unavailable():
    s = _session()
    with pytest.raises(GatewayUnavailable, match=r"127\.0\.0\.1:4002"):
        s.ensure_connected()

    async def ask():
        fut: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        return await s.request(lambda: fut, "positions")

    with pytest.raises(GatewayUnavailable):
        asyncio.run(ask())
