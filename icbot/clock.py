"""The only place in icbot that reads the wall clock.

Every process — `run-today`, `check`, the simulator, the tests — asks a `Clock` for the time, so a whole
trading day can be replayed at any speed and two processes started apart still agree on "now". The
agreement comes from the environment variable ``ICBOT_CLOCK`` (docs/simulator.md, "Virtual time")::

    ICBOT_CLOCK=<virtual ISO-8601 start with offset>@<real Unix epoch seconds>x<speed>
    ICBOT_CLOCK=2026-11-24T09:31:00-05:00@1795000000.0x60

virtual now = start + (real now − epoch) × speed. Unset or empty means the real clock. A speed of 0 freezes
virtual time at the start (useful for pure tests; sleeping on a frozen clock is an error, it would never end).
"""

from __future__ import annotations

import os
import re
import time as _time
import types
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from icbot.core.zones import NEW_YORK as NEW_YORK  # re-exported: one definition, many importers

ENV_VAR = "ICBOT_CLOCK"

# An ICBOT_CLOCK start outside these years, a speed above MAX_SPEED, or an epoch that puts virtual now beyond what a
# datetime can hold is a typo; it would otherwise fail later, deep inside a command ("year 10001 is out of range").
MIN_YEAR, MAX_YEAR = 2000, 2099
MAX_SPEED = 1_000_000.0
_NOW_RANGE = (datetime(100, 1, 1, tzinfo=UTC).timestamp(), datetime(9000, 1, 1, tzinfo=UTC).timestamp())
_SPEC_RE = re.compile(r"^(?P<start>[^@]+)@(?P<epoch>[0-9]+(?:\.[0-9]*)?)(?:x(?P<speed>[0-9]+(?:\.[0-9]*)?))?$")


class ClockSpecError(ValueError):
    """ICBOT_CLOCK could not be understood; the message says what was expected."""


def real_epoch() -> float:
    """Real Unix seconds now. Only for anchoring a new virtual clock (e.g. the demo, the simulator CLI)."""
    return _time.time()


def real_monotonic() -> float:
    """Real monotonic seconds, for measuring real durations (benchmarks, timeouts of a real process)."""
    return _time.monotonic()


@dataclass(frozen=True, slots=True)
class Clock:
    """A linear map from real time to virtual time.

    `start` is the virtual instant that corresponds to the real Unix time `epoch`; virtual time advances
    `speed` times faster than real time. The real clock is the special case start = epoch, speed = 1.
    """

    start: datetime
    epoch: float
    speed: float = 1.0

    def __post_init__(self) -> None:
        if self.start.tzinfo is None:
            raise ClockSpecError("the virtual start must carry a UTC offset, e.g. 2026-11-24T09:31:00-05:00")
        if self.speed < 0:
            raise ClockSpecError(f"clock speed must be >= 0, got {self.speed}")

    # -- construction -------------------------------------------------------------------------------
    @classmethod
    def real(cls) -> Clock:
        """The wall clock (speed 1, virtual = real)."""
        epoch = _time.time()
        return cls(datetime.fromtimestamp(epoch, UTC), epoch, 1.0)

    @classmethod
    def virtual(cls, start: datetime, speed: float = 1.0, *, epoch: float | None = None) -> Clock:
        """A virtual clock that reads `start` now (or at real time `epoch`) and runs `speed` times fast."""
        return cls(start, _time.time() if epoch is None else epoch, speed)

    @classmethod
    def parse(cls, spec: str) -> Clock:
        """Parse an ICBOT_CLOCK value; raise ClockSpecError with one clear line if it is malformed."""
        m = _SPEC_RE.match(spec.strip())
        if not m:
            raise ClockSpecError(
                f"{ENV_VAR}={spec!r} is not <ISO start with offset>@<epoch seconds>x<speed>, "
                "e.g. 2026-11-24T09:31:00-05:00@1795000000.0x60"
            )
        try:
            start = datetime.fromisoformat(m["start"])
        except ValueError:
            raise ClockSpecError(f"{ENV_VAR}: {m['start']!r} is not an ISO-8601 date-time") from None
        if start.tzinfo is None:
            raise ClockSpecError(f"{ENV_VAR}: the start {m['start']!r} needs a UTC offset, e.g. -05:00")
        speed = float(m["speed"]) if m["speed"] else 1.0
        epoch = float(m["epoch"])
        if speed > MAX_SPEED:
            raise ClockSpecError(f"{ENV_VAR}: speed {m['speed']} is above {MAX_SPEED:g}; allowed: 0 to {MAX_SPEED:g}")
        if not MIN_YEAR <= start.astimezone(UTC).year <= MAX_YEAR:
            raise ClockSpecError(f"{ENV_VAR}: the start {m['start']!r} is not in {MIN_YEAR}–{MAX_YEAR}")
        now = start.timestamp() + (_time.time() - epoch) * speed
        if not _NOW_RANGE[0] <= now < _NOW_RANGE[1]:
            raise ClockSpecError(
                f"{ENV_VAR}: the epoch {m['epoch'][:30]} at speed {speed:g} puts virtual now outside the years "
                "100–9000; allowed: the real Unix time at which the start was (e.g. `date +%s`)"
            )
        return cls(start, epoch, speed)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Clock:
        """The clock every icbot process uses: ICBOT_CLOCK if set, else the real clock."""
        env = os.environ if environ is None else environ
        spec = env.get(ENV_VAR, "").strip()
        return cls.parse(spec) if spec else cls.real()

    def spec(self) -> str:
        """The ICBOT_CLOCK value that makes another process share this clock."""
        return f"{self.start.isoformat()}@{self.epoch:.6f}x{self.speed:g}"

    # -- reading ------------------------------------------------------------------------------------
    @property
    def is_real(self) -> bool:
        return self.speed == 1.0 and abs(self.start.timestamp() - self.epoch) < 1e-6

    def timestamp(self) -> float:
        """Virtual Unix seconds now."""
        return self.start.timestamp() + (_time.time() - self.epoch) * self.speed

    def now(self) -> datetime:
        """Virtual now, aware, in UTC."""
        return datetime.fromtimestamp(self.timestamp(), UTC)

    def now_ny(self) -> datetime:
        """Virtual now in America/New_York, the zone every trading rule is written in."""
        return self.now().astimezone(NEW_YORK)

    # -- waiting ------------------------------------------------------------------------------------
    def real_seconds(self, virtual_seconds: float) -> float:
        """How long a virtual duration takes in real seconds at this clock's speed."""
        if virtual_seconds <= 0:
            return 0.0
        if self.speed == 0:
            raise RuntimeError("cannot wait on a frozen clock (speed 0)")
        return virtual_seconds / self.speed

    def seconds_until(self, when: datetime) -> float:
        """Virtual seconds from now until `when` (negative if it has passed)."""
        return (when - self.now()).total_seconds()

    def sleep(self, virtual_seconds: float) -> None:
        """Block for a virtual duration."""
        _time.sleep(self.real_seconds(virtual_seconds))

    async def asleep(self, virtual_seconds: float) -> None:
        """Wait for a virtual duration without blocking the event loop."""
        await _asyncio().sleep(self.real_seconds(virtual_seconds))

    async def sleep_until(self, when: datetime) -> None:
        """Wait until the virtual instant `when`; return at once if it has passed.

        Re-reads the clock after waking, because an event loop may wake a little early.
        """
        while True:
            remaining = self.seconds_until(when)
            if remaining <= 0:
                return
            await _asyncio().sleep(self.real_seconds(remaining))


def _asyncio() -> types.ModuleType:
    """asyncio, imported on first use: most commands (status, report, config check) never run an event loop, and
    its import costs about 30 ms of each start-up."""
    import asyncio

    return asyncio


def ny_datetime(date_iso: str, hhmm: str = "09:31") -> datetime:
    """An aware New York datetime from a date and a wall time: a small helper for tests and the demo."""
    naive = datetime.fromisoformat(f"{date_iso}T{hhmm}")
    return naive.replace(tzinfo=NEW_YORK)
