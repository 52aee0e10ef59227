"""The simulated IB Gateway: an asyncio TCP server on loopback, its ticker loop, faults and inspection API.

All state lives on the server's event loop. One ticker task wakes every max(one virtual second, 20 real ms)
— capped at 250 real ms so speed 1 still reacts promptly — and in one go: applies due faults, lets the
order engine replay the elapsed virtual seconds, and pushes changed market data. Nothing schedules work per
subscription or per second, so speed 600 costs about what speed 1 does.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections import deque
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from icbot.clock import Clock, real_monotonic
from icbot.sim import marketdata as md
from icbot.sim import messages as msg
from icbot.sim.account import AccountParams
from icbot.sim.connection import Connection
from icbot.sim.engine import Engine, EngineParams
from icbot.sim.faults import PROFILES, Fault, FaultPlan, parse_fault, untidy_faults
from icbot.sim.fills import FillParams
from icbot.sim.market import Market, MarketParams

log = logging.getLogger("icbot.sim")

FARM_MESSAGES = (
    (2104, "Market data farm connection is OK:usfarm"),
    (2106, "HMDS data farm connection is OK:ushmds"),
    (2158, "Sec-def data farm connection is OK:secdefnj"),
)
FARMS_INACTIVE = (  # farms-inactive: what a gateway whose HMDS / option farms sleep says at connect
    (2104, "Market data farm connection is OK:usfarm"),
    (2107, "HMDS data farm connection is inactive but should be available upon demand.ushmds"),
    (2108, "Market data farm connection is inactive but should be available upon demand.usopt"),
    (2158, "Sec-def data farm connection is OK:secdefnj"),
)
FARMS_BROKEN = (
    (2103, "Market data farm connection is broken:usfarm"),
    (2105, "HMDS data farm connection is broken:ushmds"),
    (2157, "Sec-def data farm connection is broken:secdefnj"),
)
ACCOUNT_UPDATE_EVERY_S = 180.0  # IB refreshes account values every three minutes


@dataclass
class SimConfig:
    host: str = "127.0.0.1"
    port: int = 0
    seed: int = 7
    account: str = "DU1234567"
    cash: float = 100_000.0
    commission_per_contract: float = 1.00
    fees_per_contract: float = 0.05
    combo_tick: float = 0.05
    fill: FillParams = field(default_factory=FillParams)
    market: MarketParams | None = None  # default: MarketParams(seed=seed)
    session_date: date | None = None  # default: the clock's New York date at start
    latency_ms: float = 0.0  # simulated round trip in virtual ms; half on the way in, half on the way out
    md_interval_s: float = 1.0  # virtual seconds between market-data pushes per subscription, at least ...
    md_interval_real_s: float = 0.05  # ... this many real seconds, so fast clocks do not flood the client
    max_md_lines: int = 100  # per account: all connections' streaming lines together
    snapshot_first_s: float = 1.0  # a snapshot's first ticks arrive this many virtual seconds after the request,
    snapshot_end_s: float = 2.0  # ... tickSnapshotEnd this many (IB: within its 11-second window)
    faults: list[str | Fault] = field(default_factory=list)
    profile: str = "tidy"  # "untidy": add a seeded mix of the untidy faults (faults.untidy_faults)


@dataclass
class RequestRecord:
    """One request as the gateway received it (after simulated latency), for tests and benchmarks."""

    at: datetime  # virtual receive time
    real: float  # real monotonic receive time
    client_id: int | None
    msg_id: int
    name: str
    fields: list[str]


@dataclass
class Stats:
    messages_in: int = 0
    messages_out: int = 0
    pacing_violations: int = 0
    max_md_lines: int = 0
    connections: int = 0
    refused: int = 0
    requests_after_data_lost: int = 0  # market-data requests on a connection after its 1101 (restart-lost)


class SimServer:
    def __init__(self, clock: Clock, config: SimConfig | None = None) -> None:
        self.clock = clock
        self.config = cfg = config or SimConfig()
        self.session_date = cfg.session_date or clock.now_ny().date()
        self.market = Market(self.session_date, cfg.market or MarketParams(seed=cfg.seed))
        account = AccountParams(cfg.account, cfg.cash, cfg.commission_per_contract, cfg.fees_per_contract)
        self.engine = Engine(self.market, EngineParams(cfg.seed, cfg.fill, account, cfg.combo_tick))
        self.faults = FaultPlan()
        self.engine.faults = self.faults
        self._outage_lost = False
        self.connections: list[Connection] = []
        self.requests: deque[RequestRecord] = deque(maxlen=200_000)
        self.stats = Stats()
        self.port = cfg.port
        self._listener: asyncio.Server | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._outage_until: datetime | None = None
        self._last_account_push: datetime | None = None
        self._late_positions: list[tuple[datetime, int]] = []  # (due, conId): positions-late updates to send
        self._conn_tasks: set[asyncio.Task[None]] = set()
        self.arrivals: deque[float] = deque()  # real arrival times of the account's messages (pacing)
        now = clock.now()
        self.engine.advance(now)
        if cfg.profile not in PROFILES:
            raise ValueError(f"unknown profile {cfg.profile!r}; known: {', '.join(PROFILES)}")
        for f in cfg.faults:
            self.add_fault(f)
        if cfg.profile == "untidy":
            for f in untidy_faults(cfg.seed, now):
                self.add_fault(f)

    # -- lifecycle --------------------------------------------------------------------------------------
    async def start(self) -> None:
        if self.faults.refusing(self.clock.now()) is not None:
            await self._listen()  # bind once so an ephemeral port is known, then refuse
            await self._unlisten()
        else:
            await self._listen()
        self._ticker = asyncio.create_task(self._run_ticker())

    async def stop(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
        await self._unlisten()
        for conn in list(self.connections):
            conn.abort()
        if self._conn_tasks:  # each handler sees EOF and returns; cancelling them would log noise
            await asyncio.wait(list(self._conn_tasks), timeout=2.0)

    async def _listen(self) -> None:
        if self._listener is not None:
            return
        self._listener = await asyncio.start_server(self._on_client, self.config.host, self.port, reuse_address=True)
        sock = self._listener.sockets[0]
        self.port = sock.getsockname()[1]
        log.info("simulated IB Gateway listening on %s:%d", self.config.host, self.port)

    async def _unlisten(self) -> None:
        if self._listener is None:
            return
        self._listener.close()
        await self._listener.wait_closed()
        self._listener = None

    async def _on_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = Connection(self, reader, writer)
        self.connections.append(conn)
        self.stats.connections += 1
        task = asyncio.current_task()
        if task is not None:
            self._conn_tasks.add(task)
        try:
            await conn.run()
        finally:
            if task is not None:
                self._conn_tasks.discard(task)

    def forget(self, conn: Connection) -> None:
        if conn in self.connections:
            self.connections.remove(conn)

    # -- time helpers ---------------------------------------------------------------------------------
    def real_now(self) -> float:
        return real_monotonic()

    def one_way_delay(self) -> float:
        """Real seconds each message waits in each direction (half the configured virtual round trip)."""
        if self.config.latency_ms <= 0 or self.clock.speed <= 0:
            return 0.0
        return self.clock.real_seconds(self.config.latency_ms / 2000.0)

    def connection_time_text(self) -> str:
        now = self.clock.now_ny()
        return f"{now:%Y%m%d %H:%M:%S} {now.tzname()}"

    # -- faults -----------------------------------------------------------------------------------------
    def add_fault(self, fault: str | Fault) -> Fault:
        f = parse_fault(fault, self.session_date) if isinstance(fault, str) else fault
        return self.faults.add(f, self.clock.now())

    def drop_connections(self) -> int:
        conns = list(self.connections)
        for conn in conns:
            conn.abort()
        return len(conns)

    def start_outage(self, seconds: float, *, data_lost: bool = False) -> None:
        """A gateway restart: 1100 now, replies held, 1102 (data maintained) after `seconds` virtual.

        With `data_lost` (restart-lost): 1100 and the farms broken (2103/2105/2157), then farms OK and 1101;
        every market-data subscription is forgotten, as IB forgets them, so the client must request them again.
        """
        self._outage_until = self.clock.now() + timedelta(seconds=seconds)
        self._outage_lost = data_lost
        for conn in self.connections:
            if conn.client_id is None:
                continue
            conn.error(-1, 1100, "Connectivity between IB and Trader Workstation has been lost.")
            if data_lost:
                for code, text in FARMS_BROKEN:
                    conn.error(-1, code, text)
            conn.hold = []

    def _end_outage(self) -> None:
        self._outage_until = None
        for conn in self.connections:
            if conn.client_id is None:  # still in the handshake: nothing was held, nothing to say
                continue
            held, conn.hold = conn.hold or [], None
            if self._outage_lost:
                for code, text in FARM_MESSAGES:
                    conn.error(-1, code, text)
                conn.error(-1, 1101, "Connectivity between IB and Trader Workstation has been restored - data lost.")
                conn.subs.clear()
                conn.snapshots.clear()
                conn.data_lost = True
            else:
                conn.error(
                    -1,
                    1102,
                    "Connectivity between IB and Trader Workstation has been restored - data maintained. "
                    "All data farms are connected: usfarm; ushmds; secdefnj.",
                )
            for data in held:
                conn.send_bytes(data)

    @property
    def in_outage(self) -> bool:
        return self._outage_until is not None

    def pacing_ok(self, conn: Connection, now_real: float) -> bool:
        """Count the message against IB's 50/s rule, per account (every connection's messages together); with
        the pacing fault, refuse the excess (error 100) to the connection that sent it."""
        q = self.arrivals
        q.append(now_real)
        while q and now_real - q[0] > 1.0:
            q.popleft()
        limit = self.faults.pacing_limit(self.clock.now())
        threshold = limit if limit is not None else 50
        if len(q) <= threshold:
            return True
        self.stats.pacing_violations += 1
        if limit is None:
            return True
        conn.error(-1, 100, f"Max rate of messages per second has been exceeded:max={limit} rec={len(q)} (1)")
        return False

    # -- the ticker -------------------------------------------------------------------------------------
    def tick_period(self) -> float:
        if self.clock.speed <= 0:
            return 0.25
        return max(0.02, min(0.25, self.clock.real_seconds(1.0)))

    async def _run_ticker(self) -> None:
        while True:
            try:
                await self.tick(self.clock.now())
            except Exception:  # a bug in one tick must not kill the gateway; it is logged loudly
                log.exception("simulator tick failed")
            await asyncio.sleep(self.tick_period())  # re-read: set_clock may change the speed

    def set_clock(self, clock: Clock) -> None:
        """Continue on another clock (e.g. the same virtual instant at a higher speed).

        Virtual time must not go backwards: the engine has already evaluated the seconds up to now.
        """
        if clock.now() < self.clock.now() - timedelta(seconds=1):
            raise ValueError("the new clock reads earlier than the simulator's current virtual time")
        self.clock = clock

    async def tick(self, now: datetime) -> None:
        until = self.faults.refusing(now)
        if until is not None and self._listener is not None:
            self.stats.refused += 1
            await self._unlisten()
        elif until is None and self._listener is None:
            await self._listen()
        if self.faults.due_drops(now):
            self.drop_connections()
        for f in self.faults.due_restarts(now):
            self.start_outage(f.seconds or 30.0)
        for f in self.faults.due_restarts_lost(now):
            self.start_outage(f.seconds or 30.0, data_lost=True)
        if self._outage_until is not None and now >= self._outage_until:
            self._end_outage()
        self.engine.advance(now)
        self.deliver()
        due = [c for t, c in self._late_positions if t <= now]
        if due:
            self._late_positions = [(t, c) for t, c in self._late_positions if t > now]
            for con_id in sorted(set(due)):
                self.push_position(con_id, now)
        if not self.in_outage:
            self.push_market_data(now)
            if (
                self._last_account_push is None
                or (now - self._last_account_push).total_seconds() >= ACCOUNT_UPDATE_EVERY_S
            ):
                self._last_account_push = now
                self.push_account(now)

    # -- delivery -------------------------------------------------------------------------------------
    def conns_of(self, client_id: int | None) -> list[Connection]:
        return [c for c in self.connections if c.client_id is not None and c.client_id == client_id]

    def deliver(self) -> None:
        """Hand the engine's outbox to the sockets it concerns."""
        outs, self.engine.outbox = self.engine.outbox, []
        changed: set[int] = set()
        account_dirty = False
        for out in outs:
            if out.kind == "client":
                for conn in self.conns_of(out.client_id):
                    conn.send(out.fields)
            elif out.kind == "positions":
                changed.update(x for x in out.fields if isinstance(x, int))
            else:
                account_dirty = True
        now = self.clock.now()
        lag = self.faults.positions_lag(now)
        for con_id in sorted(changed):
            if lag:  # positions-late: the update that shows this fill leaves when the reports catch up
                self._late_positions.append((now + timedelta(seconds=lag), con_id))
            self.push_position(con_id, now)
        if account_dirty:
            self.push_account(now, portfolio=False)

    def push_position(self, con_id: int, now: datetime) -> None:
        """The position (and portfolio) update of one contract to every connection that subscribed."""
        info = self.engine.catalog.position_info(con_id)
        pos = self.engine.ledger.positions.get(con_id)
        if info is None or pos is None:
            return
        for conn in self.connections:
            if conn.positions_sub:
                conn.send(msg.position(self.engine.account, info, self.reported_qty(con_id, now), pos.avg_cost))
            if conn.account_sub:
                conn.send(self.portfolio_fields(con_id, now))

    def reported_qty(self, con_id: int, now: datetime) -> float:
        """The position IB reports now: the ledger's, less the executions positions-late keeps back."""
        qty = self.engine.ledger.positions[con_id].qty if con_id in self.engine.ledger.positions else 0.0
        lag = self.faults.positions_lag(now)
        if not lag:
            return qty
        since = now - timedelta(seconds=lag)
        for x in self.engine.executions:
            if x.contract.con_id == con_id and x.time > since:
                qty -= x.shares if x.side == "BOT" else -x.shares
        return qty

    def portfolio_fields(self, con_id: int, now: datetime) -> list[object]:
        info = self.engine.catalog.by_con_id(con_id)
        pos = self.engine.ledger.positions[con_id]
        assert info is not None
        mark = self.engine.mark(con_id, now)
        qty = self.reported_qty(con_id, now)
        value = qty * mark * 100
        unrealized = value - math.copysign(pos.avg_cost, qty) * abs(qty) if qty else 0.0
        return msg.update_portfolio(info, qty, mark, value, pos.avg_cost, unrealized, pos.realized, self.engine.account)

    def account_value_fields(self, now: datetime) -> list[list[object]]:
        cur = self.config_currency
        out: list[list[object]] = [msg.account_value("AccountType", "INDIVIDUAL", "", self.engine.account)]
        for key, value in self.engine.account_values(now).items():
            out.append(msg.account_value(key, f"{value:.2f}", cur, self.engine.account))
        out.append(msg.account_value("Currency", cur, cur, self.engine.account))
        return out

    @property
    def config_currency(self) -> str:
        return self.engine.params.account.currency

    def push_account(self, now: datetime, *, portfolio: bool = True) -> None:
        subs = [c for c in self.connections if c.account_sub]
        if not subs:
            return
        values = self.account_value_fields(now)
        stamp = self.clock.now_ny().strftime("%H:%M")
        for conn in subs:
            for fields in values:
                conn.send(fields)
            if portfolio:
                for con_id in self.engine.ledger.positions:
                    if self.reported_qty(con_id, now):
                        conn.send(self.portfolio_fields(con_id, now))
            conn.send(msg.account_time(stamp))

    def md_lines(self) -> int:
        """Market-data lines in use on the account: every connection's streaming subscriptions together."""
        return sum(len(c.subs) for c in self.connections)

    def start_snapshot(self, conn: Connection, sub: md.Subscription, now: datetime) -> None:
        """A snapshot reqMktData: tickReqParams and marketDataType at once, the first ticks `snapshot_first_s`
        virtual seconds later, then what changed and tickSnapshotEnd at `snapshot_end_s` (IB answers within an
        11-second window, not at once). A frozen clock answers at once."""
        sub.started = True
        for fields in md.preamble(sub, 3 if sub.delayed else 1):
            conn.send(fields)
        t = now.timestamp()
        pending = md.PendingSnapshot(sub, t + self.config.snapshot_first_s, t + self.config.snapshot_end_s)
        conn.snapshots[sub.req_id] = pending
        if self.clock.speed <= 0:
            pending.first_at = pending.end_at = t
            self.push_snapshots(conn, now)

    def push_snapshots(self, conn: Connection, now: datetime) -> None:
        vnow = now.timestamp()
        for req_id, p in list(conn.snapshots.items()):
            if vnow < p.first_at:
                continue
            greeks_ok = not self.faults.greeks_blocked(now)
            if not p.sent_first or vnow >= p.end_at:
                p.sent_first = True
                self.push_subscription(conn, p.sub, now, greeks_ok=greeks_ok)
            if vnow >= p.end_at:
                del conn.snapshots[req_id]
                conn.send(msg.tick_snapshot_end(req_id))

    def push_market_data(self, now: datetime) -> None:
        for conn in list(self.connections):
            if conn.snapshots:
                self.push_snapshots(conn, now)
        real = self.real_now()
        vnow = now.timestamp()
        greeks_ok = not self.faults.greeks_blocked(now)
        competing = self.faults.competing(now)
        for conn in list(self.connections):
            for sub in list(conn.subs.values()):
                if competing:
                    conn.error(sub.req_id, 10197, "No market data during competing live session")
                    del conn.subs[sub.req_id]
                    continue
                if real - sub.last_push_real < self.config.md_interval_real_s:
                    continue
                if vnow - sub.last_push_virtual < self.config.md_interval_s:
                    continue
                self.push_subscription(conn, sub, now, greeks_ok=greeks_ok)

    def push_subscription(self, conn: Connection, sub: md.Subscription, now: datetime, *, greeks_ok: bool) -> None:
        sub.last_push_real = self.real_now()
        sub.last_push_virtual = now.timestamp()
        if not sub.started:
            sub.started = True
            for fields in md.preamble(sub, 3 if sub.delayed else 1):
                conn.send(fields)
        unset = self.config.seed if self.faults.greeks_unset(now) else None
        for fields in md.ticks(sub, self.market, now, greeks_ok=greeks_ok, unset_seed=unset):
            conn.send(fields)

    # -- dispatch -------------------------------------------------------------------------------------
    def dispatch(self, conn: Connection, fields: list[str]) -> None:
        from icbot.sim.handlers import HANDLERS, NAMES, handle_start_api

        try:
            msg_id = int(fields[0])
        except (ValueError, IndexError):
            log.warning("unreadable message from %s: %r", conn.peer, fields[:3])
            return
        now = self.clock.now()
        self.stats.messages_in += 1
        self.requests.append(
            RequestRecord(now, self.real_now(), conn.client_id, msg_id, NAMES.get(msg_id, str(msg_id)), fields)
        )
        if conn.client_id is None:
            if msg_id == 71:
                handle_start_api(self, conn, fields)
            return
        handler = HANDLERS.get(msg_id)
        if handler is None:
            log.info("client %s sent unsupported message %d: %r", conn.client_id, msg_id, fields[:6])
            return
        try:
            handler(self, conn, fields, now)
        except Exception as exc:  # a malformed request is answered, never fatal to the gateway
            log.exception("request %s from client %s failed", NAMES.get(msg_id, msg_id), conn.client_id)
            conn.error(-1, 321, f"Error validating request.-'sim' : cause - {type(exc).__name__}: {exc}")
        self.deliver()

    def greet(self, conn: Connection) -> None:
        """What a gateway sends right after startApi (reference §1.5)."""
        assert conn.client_id is not None
        conn.send(msg.managed_accounts([self.engine.account]))
        conn.send(msg.next_valid_id(self.engine.next_valid_id(conn.client_id)))
        farms = FARMS_INACTIVE if self.faults.farms_inactive(self.clock.now()) else FARM_MESSAGES
        for code, text in farms:
            conn.error(-1, code, text)
        if self.in_outage:
            conn.error(-1, 1100, "Connectivity between IB and Trader Workstation has been lost.")
            conn.hold = []
