"""The connected session every Gateway method runs on: waiting, timeouts and error routing.

Two rules live here so no method can forget them. Every wait is in *virtual* seconds converted through the
clock, so a replayed day at 60× speed times out 60× sooner in real time; but a request/response round trip
always gets a small real-time floor, because the socket, the gateway and ib_async's own 45-requests-per-second
throttle run in real time whatever the clock says. And every failure leaves as one of icbot's error classes
with a sentence naming what was asked: a lost socket is GatewayUnavailable, a silent gateway is
TransientBrokerError, a refusal carries IB's code and text.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from ib_async import IB
from ib_async.wrapper import RequestError

from icbot.broker.errors import (
    BrokerError,
    CompetingSession,
    GatewayUnavailable,
    MarketDataUnavailable,
    OrderRejected,
    ReadOnlyApi,
    TransientBrokerError,
)
from icbot.clock import Clock, real_monotonic

log = logging.getLogger("icbot.broker")
# ib_async logs every IB error it sees (e.g. "Error 104 … Can't modify a filled order") although icbot handles
# them; without a handler Python would print those to the user's terminal. They still reach any handler the
# application configures (a debug log), through propagation.
logging.getLogger("ib_async").addHandler(logging.NullHandler())

T = TypeVar("T")

REAL_FLOOR = 0.5  # real seconds a wait for streamed data lasts at least, whatever the clock speed
# Real seconds a request's answer may take at least, whatever the clock speed: at x20 a 10 s timeout is 0.5 s real,
# and a machine running the suite's four workers on two cores has stalled a process that long (positions unanswered
# in doctor). At x1 every timeout is longer than this floor; it only keeps accelerated days honest.
ROUND_TRIP_FLOOR = 2.0
MAX_REQUESTS = 40  # messages per REQUESTS_INTERVAL real seconds (IB allows 50 per second)
REQUESTS_INTERVAL: Any = 1.2  # ib_async declares it int; it is used as float seconds
SEND_RATE = MAX_REQUESTS / REQUESTS_INTERVAL  # sustained messages per real second
FLUSH_REAL_S = 3 * REQUESTS_INTERVAL  # real seconds a closing session waits for the throttle's held messages
MARKET_DATA_CODES = frozenset({354, 10089, 10167, 10168})
COMPETING_CODE = 10197
PACING_CODES = frozenset({100, 420})
READ_ONLY_MARKERS = ("read-only", "read only", "readonly")
# IB's notices: messages that never end an order or a request, whatever ib_async makes of them (it calls 10349 an
# error and marks the order Cancelled, which `effective_status` ignores; ib_async#191, #217). One table, shown by
# docs/troubleshooting.md; the farm messages 2100–2199 are notices too (`is_info`).
NOTICES: dict[int, str] = {
    399: "order message: the order waits (good-after time, outside the session) and keeps working",
    404: "order held while IB locates shares; it keeps working",
    1101: "connectivity restored, market data lost: icbot requests its lines again",
    1102: "connectivity restored, data maintained",
    10349: "the order's time in force was set to DAY by the order preset; it keeps working",
}
INFO_CODES = frozenset(NOTICES)
# IB's final word on a new order: it does not exist (or is Inactive). Any other message about an order that is not a
# notice is unknown to icbot: never taken for a cancel or a refusal before IB's own order status says so
# (docs/troubleshooting.md, "Unknown messages about a live order").
# Duplicate id, price increment, no such contract, rejected, not allowed for the account, invalid request; for a
# change: the order filled, the change does not match it, no such order.
REFUSALS = frozenset({103, 110, 200, 201, 203, 321, 104, 105, 10147})


def is_info(code: int) -> bool:
    return code in INFO_CODES or 2100 <= code < 2200


def is_refusal(code: int, text: str = "") -> bool:
    return code in REFUSALS or is_read_only(text)


def is_read_only(text: str) -> bool:
    low = text.lower()
    return any(m in low for m in READ_ONLY_MARKERS)


def order_error(code: int, text: str, *, order_id: int | None = None, order_ref: str = "") -> BrokerError:
    """The error class for a refusal of an order (placement, change or what-if)."""
    if is_read_only(text):
        return ReadOnlyApi(
            f"the IB API is in read-only mode, orders are refused (IB {code}: {text}); "
            "untick 'Read-Only API' in the gateway's API settings"
        )
    return OrderRejected(code, text, order_id=order_id, order_ref=order_ref)


class Session:
    """Holds the IB connection and what arrives on it unasked (errors, disconnects)."""

    def __init__(self, ib: IB, *, clock: Clock, account: str, mode: str, host: str, port: int, timeout: float) -> None:
        self.ib = ib
        # IB counts 50 messages/s at its end; ib_async's own 45 per 1 s lets two bursts land inside one second
        # when the first is delayed on the way. 40 per 1.2 s keeps a margin for that jitter.
        ib.client.MaxRequests = MAX_REQUESTS
        ib.client.RequestsInterval = REQUESTS_INTERVAL
        self.clock = clock
        self.account = account
        self.mode = mode
        self.host = host
        self.port = port
        self.timeout = timeout
        self._wake = asyncio.Event()
        self._closed = False
        self._lost: str | None = None
        self.errors: dict[int, list[tuple[int, str]]] = defaultdict(list)
        self._lanes: dict[str, asyncio.Lock] = {}
        self._answering: dict[str, asyncio.Future[Any]] = {}  # per lane: the last request, until its answer ends
        self.competing: str | None = None
        self.connectivity_lost: str | None = None
        ib.updateEvent += self._on_update
        ib.errorEvent += self._on_error
        ib.disconnectedEvent += self._on_disconnected
        self._sent = asyncio.Event()  # clear while ib_async's throttle holds messages back
        self._sent.set()
        ib.client.throttleStart += self._sent.clear
        ib.client.throttleEnd += self._sent.set

    # -- events -------------------------------------------------------------------------------------
    def _on_update(self) -> None:
        self._wake.set()

    async def flush(self) -> None:
        """Wait until the gateway has read every message icbot asked ib_async to send.

        The throttle may still hold some when a command is done (a line's cancel, a re-price), and a disconnect
        would lose them unsent. Once they have left, one more round trip (the gateway's time) proves it read them:
        the gateway answers in order, and a socket closed while it still had messages to read, and answers to
        write, is reset under them (the simulator lost 2 of 55 that way on a loaded machine).
        """
        if self._sent.is_set() or not self.ib.isConnected():
            return
        try:
            await asyncio.wait_for(self._sent.wait(), FLUSH_REAL_S)
            await self._alone("current time", lambda: self.ib.reqCurrentTimeAsync(), FLUSH_REAL_S)
        except (TimeoutError, ConnectionError) as exc:  # closing must not raise: the caller is ending anyway
            log.warning(
                "messages held by the request throttle may not have reached the gateway: %s",
                str(exc) or f"no answer within {FLUSH_REAL_S:g} real s",
            )

    def _on_disconnected(self) -> None:
        if not self._closed and self._lost is None:
            self._lost = "the gateway closed the connection"
            log.warning("IB Gateway at %s:%s disconnected", self.host, self.port)
        self._wake.set()

    def _on_error(self, req_id: int, code: int, text: str, contract: Any) -> None:
        self.errors[req_id].append((code, text))  # never trimmed: callers keep positions into these lists
        if code == COMPETING_CODE:
            self.competing = text
        elif code == 1100:
            self.connectivity_lost = text
        elif code in (1101, 1102):
            self.connectivity_lost = None
        self.on_error(req_id, code, text, contract)
        self._wake.set()

    def on_error(self, req_id: int, code: int, text: str, contract: Any) -> None:
        """Hook for the mixins (market data routes errors to its lines)."""

    # -- state --------------------------------------------------------------------------------------
    @property
    def where(self) -> str:
        return f"IB Gateway at {self.host}:{self.port}"

    def ensure_connected(self) -> None:
        if self._closed:
            raise GatewayUnavailable(f"the connection to {self.where} was closed by icbot")
        if self._lost is not None or not self.ib.isConnected():
            raise GatewayUnavailable(f"connection to {self.where} lost ({self._lost or 'not connected'})")

    def real(self, virtual_seconds: float, *, floor: float = REAL_FLOOR) -> float:
        """Real seconds for a virtual timeout, never below `floor` (round trips take real time)."""
        return max(self.clock.real_seconds(max(virtual_seconds, 0.0)), floor)

    # -- waiting ------------------------------------------------------------------------------------
    async def wait_until(self, cond: Callable[[], bool], timeout: float, *, floor: float = 0.0) -> bool:
        """Wait (virtual seconds) until cond() holds; False on timeout. Raises GatewayUnavailable on disconnect.

        Wakes on every packet from the gateway, so nothing is polled and no update is missed: cond() is
        re-checked after each one.
        """
        end = self.clock.timestamp() + max(timeout, 0.0)
        real_floor_end = real_monotonic() + floor
        while True:
            self.ensure_connected()
            if cond():
                return True
            remaining = self.clock.real_seconds(end - self.clock.timestamp()) if end > self.clock.timestamp() else 0.0
            remaining = max(remaining, real_floor_end - real_monotonic())
            if remaining <= 0:
                return False
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), remaining)
            except TimeoutError:
                pass

    async def request(
        self,
        make: Callable[[], Awaitable[T]],
        what: str,
        *,
        timeout: float | None = None,
        real_floor: float = ROUND_TRIP_FLOOR,
        order_errors: bool = False,
        lane: str | None = None,
    ) -> T:
        """Send one request and await its answer, turning every failure into an icbot error naming `what`.

        `lane` names the key under which ib_async files the answer when IB's messages carry no request id (open
        orders, completed orders, positions, the gateway's time): such requests run one at a time (`_alone`).
        """
        self.ensure_connected()
        t = self.timeout if timeout is None else timeout
        real = self.real(t, floor=real_floor)
        try:
            if lane is None:
                return await asyncio.wait_for(make(), real)
            return await self._alone(lane, make, real)
        except TimeoutError:
            self.ensure_connected()
            raise TransientBrokerError(f"{what}: no answer from {self.where} within {t:g} s") from None
        except ConnectionError as exc:
            self._lost = self._lost or str(exc) or "socket closed"
            raise GatewayUnavailable(f"{what}: connection to {self.where} lost ({self._lost})") from None
        except RequestError as exc:
            raise self.map_request_error(exc.code, exc.message, what, order_errors=order_errors) from None

    async def _alone(self, lane: str, make: Callable[[], Awaitable[T]], real: float) -> T:
        """One request of a lane at a time, and never while an earlier one's answer is still arriving.

        ib_async keeps one pending answer per lane: a second request empties the list the first is filling, and the
        first's end message then completes the second with whatever came after it. A stop cleanup that asked for
        the open orders while the ladder's own request was still being answered got an empty list and called a
        working entry gone. So a request whose caller gave up (a timeout, SIGTERM) keeps its lane until its answer
        has ended; the next one waits for that end, up to its own timeout, before it asks. An answer that has not
        ended by then never will (IB drops a request over its pacing limit without a word): it is forgotten.
        """
        async with self._lanes.setdefault(lane, asyncio.Lock()):
            earlier = self._answering.get(lane)
            if earlier is not None and not earlier.done():
                await asyncio.wait({earlier}, timeout=real)  # its outcome was its caller's; only its end matters
                if not earlier.done():
                    log.warning("%s: an earlier request of the same kind was never answered; asking again", lane)
            answer = asyncio.ensure_future(make())
            answer.add_done_callback(_outcome_seen)
            self._answering[lane] = answer
            return await asyncio.wait_for(asyncio.shield(answer), real)

    def map_request_error(self, code: int, text: str, what: str, *, order_errors: bool = False) -> BrokerError:
        if code == COMPETING_CODE:
            return CompetingSession(f"{what}: {text} (IB {code}); log out the other IB session (TWS, mobile, web)")
        if code in MARKET_DATA_CODES:
            return MarketDataUnavailable(f"{what}: {text} (IB {code}); check the market data subscriptions", code)
        if code in PACING_CODES or (code == 162 and "pacing" in text.lower()):
            return TransientBrokerError(f"{what}: IB pacing limit hit ({code}: {text})")
        if order_errors or is_read_only(text):
            return order_error(code, text)
        return BrokerError(f"{what}: IB error {code}: {text}")

    def ensure_fresh_data(self, what: str) -> None:
        """Quotes read during IB's 1100 ("connectivity lost") are stale: refuse them rather than pass them on."""
        if self.connectivity_lost is not None:
            raise TransientBrokerError(
                f"{what}: {self.where} reports its connection to IB is lost (1100: {self.connectivity_lost}); "
                "quotes are stale until it is restored"
            )

    def ensure_market_data(self, what: str) -> None:
        if self.competing is not None:
            raise CompetingSession(
                f"{what}: {self.competing} (IB {COMPETING_CODE}); log out the other IB session (TWS, mobile, web)"
            )


def _outcome_seen(answer: asyncio.Future[Any]) -> None:
    """A lane's answer whose caller gave up still ends, perhaps with ib_async's ConnectionError: mark the outcome as
    seen, so asyncio does not report it as never retrieved."""
    if not answer.cancelled():
        answer.exception()
