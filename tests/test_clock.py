"""The clock is the only reader of the wall clock; ICBOT_CLOCK must map real to virtual time exactly."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest

from icbot.clock import NEW_YORK, Clock, ClockSpecError


def test_parse_the_spec_example():
    clock = Clock.parse("2026-11-24T09:31:00-05:00@1795000000.0x60")
    assert clock.start == datetime(2026, 11, 24, 14, 31, tzinfo=UTC)
    assert clock.epoch == 1795000000.0
    assert clock.speed == 60


def test_virtual_now_is_start_plus_scaled_real_elapsed():
    epoch = time.time() - 10.0  # anchored ten real seconds ago
    clock = Clock.parse(f"2026-11-24T09:31:00-05:00@{epoch}x60")
    elapsed = (clock.now() - clock.start).total_seconds()
    assert 600 <= elapsed < 600 + 60 * 2  # 10 s × 60, plus a little scheduling slack
    assert clock.now_ny().tzinfo is NEW_YORK or str(clock.now_ny().tzinfo) == "America/New_York"


def test_spec_round_trips():
    clock = Clock.virtual(datetime(2026, 3, 9, 13, 32, tzinfo=UTC), 600.0, epoch=1_800_000_000.5)
    again = Clock.parse(clock.spec())
    assert again == clock


def test_unset_or_empty_env_is_the_real_clock():
    for env in ({}, {"ICBOT_CLOCK": ""}, {"ICBOT_CLOCK": "   "}):
        clock = Clock.from_env(env)
        assert clock.is_real
        assert abs(clock.timestamp() - time.time()) < 1.0


def test_env_is_honoured():
    clock = Clock.from_env({"ICBOT_CLOCK": "2027-01-04T09:31:00-05:00@1795000000x1"})
    assert clock.start.date().isoformat() == "2027-01-04"


@pytest.mark.parametrize(
    "bad",
    [
        "tomorrow",
        "2026-11-24T09:31:00-05:00",  # no epoch
        "2026-11-24T09:31:00@1795000000x60",  # no offset
        "2026-13-24T09:31:00-05:00@1795000000x60",  # month 13
        "2026-11-24T09:31:00-05:00@abcx60",
        "2026-11-24T09:31:00-05:00@1795000000x-1",
    ],
)
def test_malformed_specs_are_refused_with_one_clear_line(bad):
    with pytest.raises(ClockSpecError) as info:
        Clock.parse(bad)
    assert "\n" not in str(info.value)


def test_frozen_clock_does_not_move_and_refuses_to_sleep():
    clock = Clock.virtual(datetime(2026, 11, 24, 14, 31, tzinfo=UTC), 0.0)
    assert clock.now() == clock.now() == clock.start
    with pytest.raises(RuntimeError):
        clock.sleep(1)


def test_asleep_and_sleep_until_scale_with_speed():
    clock = Clock.virtual(datetime(2026, 11, 24, 14, 31, tzinfo=UTC), 1000.0)
    target = clock.now() + timedelta(seconds=50)  # 50 virtual s = 0.05 real s

    async def go() -> float:
        t0 = time.monotonic()
        await clock.sleep_until(target)
        await clock.asleep(20)  # 0.02 real s
        return time.monotonic() - t0

    real = asyncio.run(go())
    assert clock.now() >= target + timedelta(seconds=20)
    assert real < 1.0


def test_seconds_until_and_real_seconds():
    clock = Clock.virtual(datetime(2026, 11, 24, 14, 31, tzinfo=UTC), 60.0, epoch=time.time())
    assert clock.real_seconds(60) == pytest.approx(1.0)
    assert clock.real_seconds(-5) == 0.0
    assert clock.seconds_until(clock.start + timedelta(minutes=1)) <= 60


def test_one_new_york_zone_object_shared_by_clock_core_and_broker():
    from icbot.broker import convert
    from icbot.core import schedule, zones

    assert NEW_YORK is zones.NEW_YORK is schedule.NEW_YORK is convert.NEW_YORK
    assert str(NEW_YORK) == "America/New_York"
