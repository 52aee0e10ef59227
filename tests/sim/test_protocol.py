"""Framing, field codecs, IB time spellings and contract resolution — the simulator's small pure parts."""

from __future__ import annotations

import struct
from datetime import UTC, date, datetime

import pytest

from icbot.clock import NEW_YORK
from icbot.sim.catalog import Catalog
from icbot.sim.ibtime import format_ib_time, parse_bar_size, parse_duration, parse_ib_time
from icbot.sim.market import Market
from icbot.sim.protocol import (
    FrameReader,
    ProtocolError,
    encode_fields,
    fmt,
    parse_float,
    parse_hello,
    parse_int,
)
from icbot.sim.requests import ContractReq


def test_frames_are_reassembled_across_arbitrary_splits():
    hello = b"API\0" + struct.pack(">I", 9) + b"v157..178"
    data = hello + encode_fields([71, 2, 7, ""]) + encode_fields([49, 1])
    for cut in range(1, len(data)):
        r = FrameReader()
        r.feed(data[:cut])
        got_hello = r.hello()
        r.feed(data[cut:])
        if got_hello is None:
            got_hello = r.hello()
        assert got_hello == "v157..178"
        assert r.messages() == [["71", "2", "7", ""], ["49", "1"]]


def test_a_client_that_does_not_say_api_is_refused():
    r = FrameReader()
    r.feed(b"GET / HTTP/1.1\r\n")
    with pytest.raises(ProtocolError):
        r.hello()


def test_hello_versions():
    assert parse_hello("v157..178") == (157, 178, "")
    assert parse_hello("v100..226 +PACEAPI") == (100, 226, "+PACEAPI")
    assert parse_hello("v176") == (176, 176, "")
    with pytest.raises(ProtocolError):
        parse_hello("hello")


def test_unset_values_in_all_three_spellings():
    for text in ("", "1.7976931348623157e+308", "1.7976931348623157E308"):
        assert parse_float(text) is None
    for text in ("", "2147483647"):
        assert parse_int(text) is None
    assert parse_float("-2.5") == -2.5 and parse_int("1.0") == 1


def test_outgoing_field_format():
    assert fmt(True) == "1" and fmt(None) == "" and fmt(6000.0) == "6000.0" and fmt(-4.85) == "-4.85"
    assert fmt(1.7976931348623157e308) == "1.7976931348623157E308"
    assert fmt(1e-07) == "0.0000001"


def test_ib_time_spellings():
    expected = datetime(2026, 11, 24, 11, 30, tzinfo=NEW_YORK)
    assert parse_ib_time("20261124 11:30:00 US/Eastern") == expected
    assert parse_ib_time("20261124 11:30:00 America/New_York") == expected
    assert parse_ib_time("20261124-16:30:00") == expected  # the dash form is UTC
    assert parse_ib_time("20261124 16:30:00 UTC") == expected
    assert parse_ib_time("20261124 11:30:00") == expected  # bare: the gateway's zone, New York
    assert parse_ib_time("") is None
    with pytest.raises(ValueError):
        parse_ib_time("20261124 11:30:00 Mars/Olympus")
    assert format_ib_time(datetime(2026, 11, 24, 14, 32, 5, tzinfo=UTC)) == "20261124 09:32:05 US/Eastern"
    assert parse_duration("7200 S").total_seconds() == 7200 and parse_duration("1 D").days == 1
    assert parse_bar_size("1 min") == 60 and parse_bar_size("5 mins") == 300 and parse_bar_size("30 secs") == 30


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog(Market(date(2026, 11, 24)))


def test_contract_resolution_follows_ib_wildcards(catalog):
    one = catalog.resolve(ContractReq(symbol="SPX", sec_type="OPT", last_trade_date="20261124", strike=5940.0,
                                      right="P", exchange="SMART", trading_class="SPXW"))  # fmt: skip
    assert [c.local_symbol for c in one] == ["SPXW  261124P05940000"]
    assert catalog.resolve(ContractReq(con_id=one[0].con_id))[0].local_symbol == one[0].local_symbol
    assert len(catalog.resolve(ContractReq(symbol="SPX", sec_type="OPT", strike=5940.0, right="PUT"))) == 2
    assert catalog.resolve(ContractReq(sec_type="OPT", local_symbol="SPXW  261124C06065000"))[0].right == "C"
    assert catalog.resolve(ContractReq(symbol="SPX", sec_type="OPT", last_trade_date="20261125")) == []
    assert catalog.resolve(ContractReq(symbol="SPX", sec_type="OPT", trading_class="SPX")) == []
    assert catalog.resolve(ContractReq(symbol="SPX", sec_type="IND", exchange="CBOE"))[0].con_id == 416904
    assert catalog.resolve(ContractReq(symbol="VIX", sec_type="IND"))[0].con_id == 13455763
    assert catalog.resolve(ContractReq(con_id=1)) == []
