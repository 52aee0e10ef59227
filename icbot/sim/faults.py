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
``restart-lost=30@09:35``      a restart that loses the market data: 1100 and farms broken (2103/2105/2157),
                               after 30 s farms OK again and 1101 "data lost"; every market-data subscription
                               is gone and must be requested again
``farms-inactive``             at connect 2107/2108 "inactive but should be available upon demand" instead of
                               the HMDS OK message
``reject-after-ack=WHO[:S]``   the first new order whose orderRef contains WHO (``*``: any) is acknowledged,
                               then S virtual seconds later (default 2) rejected: 201, then openOrder and
                               orderStatus ``Inactive``; ``reject-after-ack=stop:26:REASON`` sets the reason
``status-before-fills[=S]``    every fill sends openOrder + orderStatus first, its executions and commission
                               reports S virtual seconds later (default 3)
``exec-correction[=S]``        the next combo fill is corrected S virtual seconds later (default 5): a BOT and a SLD leg
                               execution are re-sent with execId ``….02`` and a price 0.05 higher each (the
                               combo's net price unchanged), each with a new commissionReport
``unset-greeks[=S]``           a quarter of the options within 3 % of spot (chosen by the seed) get IB's
                               "not computed" sentinels for all four option computations (for S seconds)
``order-notice[=WHO[:CODE][:early]]``
                               every new order whose orderRef contains WHO (default: any) gets the informational
                               10349 "Order TIF was set to DAY based on order preset." after its acknowledgement;
                               the order keeps working. CODE sends another code instead (e.g. one icbot does not
                               know); ``early`` sends it before the acknowledgement, as IB does with 10349
``positions-late[=S]``         positions are reported as they stood S virtual seconds earlier (default 3):
                               reqPositions answers, position and portfolio updates leave out the executions of
                               the last S seconds; a fill's own position update follows S seconds after it
=============================  ===============================================================================

``profile="untidy"`` (``icbot sim --profile untidy``) draws a mix of reject-after-ack, status-before-fills,
exec-correction, unset-greeks, restart-lost, farms-inactive and order-notice from the seed, and in two of five
profiles positions-late (1–10 s) besides (`untidy_faults`).

Any fault takes ``@HH:MM[:SS]`` (New York time on the session day, or a full ISO date-time) to start at
that moment instead of at once, e.g. ``no-greeks=60@09:31:50`` or ``reject-next=Insufficient margin@09:32``.
"""

from __future__ import annotations

import random
import re
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
    "restart-lost",
    "farms-inactive",
    "reject-after-ack",
    "status-before-fills",
    "exec-correction",
    "unset-greeks",
    "order-notice",
    "positions-late",
)
ALIASES = {"refuse-until": "refuse", "drop-at": "drop", "restart-at": "restart", "restart-lost-at": "restart-lost"}
PROFILES = ("tidy", "untidy")
DEFAULT_REJECT_AFTER_ACK_S = 2.0
# virtual seconds of the faults whose value is a delay, when none is given
DEFAULT_DELAY_S = {"status-before-fills": 3.0, "exec-correction": 5.0, "positions-late": 3.0}
REJECT_AFTER_ACK_REASON = "Simulated rejection after acknowledgement"
_WHO_SECONDS = re.compile(r"^(.*?):(\d+(?:\.\d+)?)(?::(.*))?$", re.S)
DEFAULT_RESTART_OUTAGE_S = 30.0
UNKNOWN_NOTICE = 10999  # the untidy profile's stand-in for a notice code icbot has never seen
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
    target: str = ""  # reject-after-ack, order-notice: an orderRef substring ("" or "*": any order)
    code: int = 0  # order-notice: the code sent (0: 10349)
    early: bool = False  # order-notice: before the acknowledgement instead of after it
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
        if kind in ("drop", "restart", "restart-lost"):
            if not value:
                raise FaultSpecError(f"{name} needs a time, e.g. {name}=09:32:10")
            return Fault(
                kind,
                at=parse_when(value, session_date),
                seconds=None if kind == "drop" else DEFAULT_RESTART_OUTAGE_S,
            )
    kind = name
    if kind not in KINDS:
        raise FaultSpecError(
            f"unknown fault {name!r}; known: refuse-until=T, drop-at=T, drop-after-orders=N, reject-next=REASON, "
            "no-greeks=SECONDS, no-market-data[=SECONDS], competing-session[=SECONDS], pacing[=N], restart-at=T, "
            "fill-on-cancel, read-only, restart-lost[=SECONDS], farms-inactive, reject-after-ack=WHO[:SECONDS], "
            "status-before-fills[=SECONDS], exec-correction[=SECONDS], unset-greeks[=SECONDS], "
            "order-notice[=WHO[:CODE][:early]], positions-late[=SECONDS]"
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
        if kind in ("restart", "restart-lost"):
            secs = float(value) if value else DEFAULT_RESTART_OUTAGE_S
            if secs <= 0:
                raise ValueError
            return Fault(kind, at=at, seconds=secs)
        if kind == "reject-after-ack":
            m = _WHO_SECONDS.match(value)
            delay = float(m.group(2)) if m else DEFAULT_REJECT_AFTER_ACK_S
            who, reason = (m.group(1), m.group(3) or "") if m else (value, "")
            if not who.strip():
                raise ValueError
            return Fault(
                kind,
                at=at,
                target=who.strip(),
                seconds=delay,
                reason=reason.strip() or REJECT_AFTER_ACK_REASON,
            )
        if kind in DEFAULT_DELAY_S:
            secs = float(value) if value else DEFAULT_DELAY_S[kind]
            if secs < 0:
                raise ValueError
            return Fault(kind, at=at, seconds=secs)
        if kind == "order-notice":
            who, *more = value.split(":")
            early = bool(more) and more[-1].strip().lower() == "early"
            codes = more[:-1] if early else more
            if len(codes) > 1:
                raise ValueError
            return Fault(kind, at=at, target=who, code=int(codes[0]) if codes else 0, early=early)
        if kind == "refuse":
            return Fault(kind, until=parse_when(value, session_date))
        if kind in ("drop", "fill-on-cancel", "read-only", "farms-inactive"):
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

    def _fire(self, kind: str, now: datetime, *, first_only: bool = False, order_ref: str | None = None) -> list[Fault]:
        """The one-shot faults of `kind` due now (aimed at `order_ref` when given), marked fired: each acts once."""
        out = []
        for f in self._of(kind):
            if not f.fired and f.started(now) and (order_ref is None or _aims(f.target, order_ref)):
                f.fired = True
                out.append(f)
                if first_only:
                    break
        return out

    def refusing(self, now: datetime) -> datetime | None:
        """The instant connections are accepted again, if they are refused now."""
        until = [f.until for f in self._of("refuse") if f.until is not None and now < f.until]
        return max(until) if until else None

    def due_drops(self, now: datetime) -> bool:
        return bool(self._fire("drop", now))

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
        fired = self._fire("reject-next", now, first_only=True)
        return fired[0].reason if fired else None

    def read_only(self, now: datetime) -> bool:
        return any(f.started(now) for f in self._of("read-only"))

    def take_fill_on_cancel(self, now: datetime) -> bool:
        """True once: the cancel now arriving loses the race against a fill."""
        return bool(self._fire("fill-on-cancel", now, first_only=True))

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
        return self._fire("restart", now)

    def due_restarts_lost(self, now: datetime) -> list[Fault]:
        return self._fire("restart-lost", now)

    def farms_inactive(self, now: datetime) -> bool:
        return any(f.started(now) for f in self._of("farms-inactive"))

    def take_reject_after_ack(self, order_ref: str, now: datetime) -> Fault | None:
        """Once per fault: the first new order aimed at (orderRef contains the target) is rejected later."""
        fired = self._fire("reject-after-ack", now, first_only=True, order_ref=order_ref)
        return fired[0] if fired else None

    def late_fills_delay(self, now: datetime) -> float | None:
        """Virtual seconds by which executions and commissions trail a fill's orderStatus, if the fault is on."""
        delays = [f.seconds or 0.0 for f in self._of("status-before-fills") if f.started(now)]
        return max(delays) if delays else None

    def positions_lag(self, now: datetime) -> float | None:
        """Virtual seconds by which reported positions trail the executions, if the fault is on."""
        lags = [f.seconds or 0.0 for f in self._of("positions-late") if f.started(now)]
        return max(lags) if lags else None

    def take_exec_correction(self, now: datetime) -> float | None:
        """Once per fault: the delay after which the fill now being booked is corrected."""
        fired = self._fire("exec-correction", now, first_only=True)
        return (fired[0].seconds or 0.0) if fired else None

    def greeks_unset(self, now: datetime) -> bool:
        return any(f.window_active(now) for f in self._of("unset-greeks"))

    def order_notice(self, order_ref: str, now: datetime, *, early: bool) -> Fault | None:
        """The notice fault aimed at a new order with this orderRef, sent before (early) or after its ack."""
        for f in self._of("order-notice"):
            if f.early == early and f.started(now) and _aims(f.target, order_ref):
                return f
        return None


def _aims(target: str, order_ref: str) -> bool:
    t = target.strip().lower()
    return t in ("", "*") or t in order_ref.lower()


def untidy_faults(seed: int, start: datetime) -> list[Fault]:
    """The ``untidy`` profile: a seeded mix of the untidy behaviours (at least two of them), each aimed at a
    random order role or a random instant within the first 40 virtual minutes after `start`."""
    rng = random.Random(f"icbot.sim.faults:untidy:{seed}")
    out: list[Fault] = []

    def later(lo: float, hi: float) -> datetime:
        return start + timedelta(seconds=round(rng.uniform(lo, hi)))

    while len(out) < 2:
        out = []
        if rng.random() < 0.5:
            who = rng.choice(("entry", "stop", "take_profit", "*"))
            delay = rng.choice((0.0, 1.0, 3.0, 26.0))
            out.append(Fault("reject-after-ack", target=who, seconds=delay, reason=REJECT_AFTER_ACK_REASON))
        if rng.random() < 0.5:
            out.append(Fault("status-before-fills", seconds=float(rng.randint(1, 5))))
        if rng.random() < 0.3:
            out.append(Fault("exec-correction", seconds=float(rng.randint(1, 30))))
        if rng.random() < 0.5:
            out.append(Fault("unset-greeks", seconds=float(rng.randint(30, 300)), at=later(0, 120)))
        if rng.random() < 0.4:
            out.append(Fault("restart-lost", seconds=float(rng.randint(10, 60)), at=later(60, 2400)))
        if rng.random() < 0.5:
            out.append(Fault("farms-inactive"))
        if rng.random() < 0.5:
            who = rng.choice(("", "entry", "stop"))
            code = rng.choice((0, 0, UNKNOWN_NOTICE))  # now and then a code icbot's notice table does not know
            out.append(Fault("order-notice", target=who, code=code, early=rng.random() < 0.5))
    late = random.Random(f"icbot.sim.faults:untidy:positions-late:{seed}")  # its own stream: the mix above stays
    if late.random() < 0.4:
        out.append(Fault("positions-late", seconds=float(late.randint(1, 10))))
    return out
