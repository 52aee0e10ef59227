"""Injectable gateway faults, each optionally scheduled at a virtual time.

Spec strings (the CLI's ``--fault``, repeatable; tests may pass the same strings or `Fault` objects):

=============================  ===============================================================================
``refuse-until=09:31:30``      the port refuses connections (real ECONNREFUSED) until then
``drop-at=09:32:10``           every client connection is closed at that moment (once)
``drop-after-orders=1``        the connection is closed right after the Nth placeOrder arrives; that order is
                               accepted and lives on, but its acknowledgement never reaches the client
``reject-next=REASON``         the next new order is rejected: error 201 "Order rejected - reason:REASON"
``no-greeks=30``               no option computations (tick types 10–13) for 30 virtual seconds
``no-market-data[=SECONDS]``   reqMktData answered with 354 "Requested market data is not subscribed."
``competing-session[=SECS]``   10197 "No market data during competing live session"; streams stop
``pacing[=N]``                 more than N (default 50) client messages in one real second → error 100,
                               and the excess message is dropped
``read-only``                  the API is in read-only mode: every new order is answered 321 "Error validating
                               request.-'bW' : cause - The API interface is currently in Read-Only mode." and
                               never exists at the gateway
``fill-on-cancel``             the next cancelOrder for a working order arrives just after it traded: the order
                               fills at its limit, and the cancel is answered 10148 (cannot be cancelled, Filled)
``restart-at=09:35:00``        a gateway restart: 1100 connectivity lost, then 1102 restored after 30 s
                               (``restart=45@09:35:00`` for another outage length)
=============================  ===============================================================================

Any fault takes ``@HH:MM[:SS]`` (New York time on the session day, or a full ISO date-time) to start at
that moment instead of at once, e.g. ``no-greeks=60@09:31:50`` or ``reject-next=Insufficient margin@09:32``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from icbot.clock import NEW_YORK

KINDS = (
    "refuse",
    "drop",
    "drop-after-orders",
    "reject-next",
    "no-greeks",
    "no-market-data",
    "competing-session",
    "pacing",
    "restart",
    "fill-on-cancel",
    "read-only",
)
ALIASES = {"refuse-until": "refuse", "drop-at": "drop", "restart-at": "restart"}
DEFAULT_RESTART_OUTAGE_S = 30.0
DEFAULT_PACING_LIMIT = 50


class FaultSpecError(ValueError):
    """A --fault string the simulator does not understand; the message shows the accepted forms."""


@dataclass(slots=True)
class Fault:
    kind: str
    at: datetime | None = None  # when it starts (None: at once)
    until: datetime | None = None  # refuse: until then
    seconds: float | None = None  # duration (no-greeks, no-market-data, competing-session, restart outage)
    count: int = 0  # drop-after-orders: N; pacing: the limit
    reason: str = ""
    fired: bool = False
    armed_at: datetime | None = None  # when an unscheduled duration fault was installed

    def started(self, now: datetime) -> bool:
        return self.at is None or now >= self.at

    def window_active(self, now: datetime) -> bool:
        """For duration faults: started and not yet over."""
        if not self.started(now):
            return False
        if self.seconds is None:
            return True
        begin = self.at if self.at is not None else self.armed_at
        return begin is None or now < begin + timedelta(seconds=self.seconds)

    def arm(self, now: datetime) -> None:
        """Anchor an unscheduled duration fault at the moment it was installed."""
        if self.at is None and self.armed_at is None:
            self.armed_at = now


def parse_when(text: str, session_date: date) -> datetime:
    """``09:32`` / ``09:32:10`` on the session day in New York, or an ISO date-time (naive = New York)."""
    s = text.strip()
    try:
        if "T" in s or "-" in s[:10]:
            dt = datetime.fromisoformat(s)
            return dt if dt.tzinfo else dt.replace(tzinfo=NEW_YORK)
        return datetime.combine(session_date, time.fromisoformat(s), NEW_YORK)
    except ValueError:
        raise FaultSpecError(f"fault time {text!r} is not HH:MM[:SS] or an ISO date-time") from None


def parse_fault(spec: str, session_date: date) -> Fault:
    """Parse one ``--fault`` string (see the module docstring)."""
    text = spec.strip()
    if not text:
        raise FaultSpecError("empty fault spec")
    name, has_value, rest = text.partition("=")
    at: datetime | None = None
    value = rest if has_value else ""
    if not has_value and "@" in name:
        name, _, when = name.partition("@")
        at = parse_when(when, session_date)
    elif "@" in value:
        value, _, when = value.rpartition("@")
        at = parse_when(when, session_date)
    name = name.strip().lower()
    value = value.strip()
    if name in ALIASES:
        kind = ALIASES[name]
        if kind == "refuse":
            return Fault("refuse", until=parse_when(value, session_date))
        if kind in ("drop", "restart"):
            if not value:
                raise FaultSpecError(f"{name} needs a time, e.g. {name}=09:32:10")
            return Fault(
                kind,
                at=parse_when(value, session_date),
                seconds=DEFAULT_RESTART_OUTAGE_S if kind == "restart" else None,
            )
    kind = name
    if kind not in KINDS:
        raise FaultSpecError(
            f"unknown fault {name!r}; known: refuse-until=T, drop-at=T, drop-after-orders=N, reject-next=REASON, "
            "no-greeks=SECONDS, no-market-data[=SECONDS], competing-session[=SECONDS], pacing[=N], restart-at=T, "
            "fill-on-cancel, read-only"
        )
    try:
        if kind == "drop-after-orders":
            n = int(value)
            if n < 1:
                raise ValueError
            return Fault(kind, at=at, count=n)
        if kind == "pacing":
            return Fault(kind, at=at, count=int(value) if value else DEFAULT_PACING_LIMIT)
        if kind == "reject-next":
            return Fault(kind, at=at, reason=value or "Simulated rejection")
        if kind == "restart":
            return Fault(kind, at=at, seconds=float(value) if value else DEFAULT_RESTART_OUTAGE_S)
        if kind == "refuse":
            return Fault(kind, until=parse_when(value, session_date))
        if kind in ("drop", "fill-on-cancel", "read-only"):
            return Fault(kind, at=at)
        seconds = float(value) if value else None
        if seconds is not None and seconds <= 0:
            raise ValueError
        return Fault(kind, at=at, seconds=seconds)
    except ValueError:
        raise FaultSpecError(f"bad value {value!r} for fault {name!r}") from None


class FaultPlan:
    """The faults of one run; the server asks it what to do at each step."""

    def __init__(self) -> None:
        self.faults: list[Fault] = []
        self.orders_seen = 0

    def add(self, fault: Fault, now: datetime) -> Fault:
        fault.arm(now)
        self.faults.append(fault)
        return fault

    def _of(self, kind: str) -> list[Fault]:
        return [f for f in self.faults if f.kind == kind]

    def refusing(self, now: datetime) -> datetime | None:
        """The instant connections are accepted again, if they are refused now."""
        until = [f.until for f in self._of("refuse") if f.until is not None and now < f.until]
        return max(until) if until else None

    def due_drops(self, now: datetime) -> bool:
        due = False
        for f in self._of("drop"):
            if not f.fired and f.started(now):
                f.fired = True
                due = True
        return due

    def order_arrived(self, now: datetime) -> bool:
        """Count a placeOrder; True when the connection must drop after it."""
        self.orders_seen += 1
        drop = False
        for f in self._of("drop-after-orders"):
            if not f.fired and f.started(now):
                f.count -= 1
                if f.count <= 0:
                    f.fired = True
                    drop = True
        return drop

    def take_reject(self, now: datetime) -> str | None:
        for f in self._of("reject-next"):
            if not f.fired and f.started(now):
                f.fired = True
                return f.reason
        return None

    def read_only(self, now: datetime) -> bool:
        return any(f.started(now) for f in self._of("read-only"))

    def take_fill_on_cancel(self, now: datetime) -> bool:
        """True once: the cancel now arriving loses the race against a fill."""
        for f in self._of("fill-on-cancel"):
            if not f.fired and f.started(now):
                f.fired = True
                return True
        return False

    def greeks_blocked(self, now: datetime) -> bool:
        return any(f.window_active(now) for f in self._of("no-greeks"))

    def market_data_blocked(self, now: datetime) -> bool:
        return any(f.window_active(now) for f in self._of("no-market-data"))

    def competing(self, now: datetime) -> bool:
        return any(f.window_active(now) for f in self._of("competing-session"))

    def pacing_limit(self, now: datetime) -> int | None:
        limits = [f.count for f in self._of("pacing") if f.started(now)]
        return min(limits) if limits else None

    def due_restarts(self, now: datetime) -> list[Fault]:
        out = []
        for f in self._of("restart"):
            if not f.fired and f.started(now):
                f.fired = True
                out.append(f)
        return out
