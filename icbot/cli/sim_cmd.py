"""`icbot sim`: run the bundled simulated IB Gateway until Ctrl-C / SIGTERM.

The first line printed is the ``ICBOT_CLOCK=…`` assignment every other icbot process must share to agree
on the simulated time; the second says where it listens. Both are flushed at once, so a script can start
the simulator in the background and read them.
"""

from __future__ import annotations

import contextlib
import signal
from datetime import datetime

import typer

from icbot.clock import ENV_VAR, MAX_SPEED, MAX_YEAR, MIN_YEAR, NEW_YORK, Clock
from icbot.errors import UsageError

FAULT_OPTION = typer.Option(
    None,
    "--fault",
    help="Inject a fault, repeatable: refuse-until=T, drop-at=T, drop-after-orders=N, reject-next=REASON, "
    "no-greeks=S, no-market-data, competing-session, pacing[=N], restart-at=T, fill-on-cancel, read-only, "
    "restart-lost[=S], farms-inactive, reject-after-ack=WHO[:S], status-before-fills[=S], unset-greeks[=S], "
    "order-notice[=WHO]; add @HH:MM:SS to schedule.",
)


def _parse_start(text: str) -> datetime:
    try:
        start = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--start {text!r} is not an ISO date-time like 2026-11-24T09:31:00") from None
    if not MIN_YEAR <= start.year <= MAX_YEAR:
        raise UsageError(f"--start {text!r} is not in {MIN_YEAR}–{MAX_YEAR}")
    return start if start.tzinfo else start.replace(tzinfo=NEW_YORK)


def sim(
    port: int = typer.Option(4002, "--port", "-p", help="TCP port on --host (0 picks a free one)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Listen address (loopback by default)."),
    seed: int = typer.Option(7, "--seed", help="Market and fill seed: same seed, same prices and fills."),
    start: str | None = typer.Option(
        None, "--start", help="Virtual start, New York time unless an offset is given (default: next session 09:31)."
    ),
    speed: float = typer.Option(1.0, "--speed", help="Virtual seconds per real second."),
    fault: list[str] | None = FAULT_OPTION,
    latency_ms: float = typer.Option(0.0, "--latency-ms", help="Simulated network round trip, virtual ms."),
    account: str = typer.Option("DU1234567", "--account", help="Paper account id the gateway reports."),
    cash: float = typer.Option(100_000.0, "--cash", help="Starting cash of the paper account."),
    profile: str = typer.Option(
        "tidy", "--profile", help="tidy, or untidy: add a seeded mix of IB's untidy order and data behaviours."
    ),
) -> None:
    """Run the simulated IB Gateway (TWS protocol, server version 178) on a virtual clock."""
    from icbot.sim.faults import PROFILES, FaultSpecError, parse_fault
    from icbot.sim.market import MarketParams
    from icbot.sim.server import SimConfig
    from icbot.sim.sessions import early_close, next_session_start

    if profile not in PROFILES:
        raise UsageError(f"--profile {profile!r} is unknown; allowed: {', '.join(PROFILES)}")
    if not 0 <= port <= 65535:
        raise UsageError(f"--port {port} is out of range; allowed: 0 to 65535 (0 picks a free port)")
    if not 0 <= speed <= MAX_SPEED:  # also refuses nan and inf
        raise UsageError(f"--speed {speed:g} is out of range; allowed: 0 to {MAX_SPEED:g}")
    if start is not None:
        clock = Clock.virtual(_parse_start(start), speed)
    else:
        env_clock = Clock.from_env()
        if not env_clock.is_real:
            clock = env_clock  # join a clock another process already set up
        else:
            begin = next_session_start(env_clock.now_ny())
            if begin is None:
                raise UsageError("no XNYS session in the next 30 days; pass --start")
            clock = Clock.virtual(begin, speed)
    session_date = clock.now_ny().date()
    close = early_close(session_date)
    try:
        faults = [parse_fault(f, session_date) for f in fault or []]
    except FaultSpecError as exc:
        raise UsageError(f"--fault: {exc}") from None
    market = MarketParams(seed=seed, close_time=close) if close else MarketParams(seed=seed)
    config = SimConfig(
        host=host,
        port=port,
        seed=seed,
        account=account,
        cash=cash,
        latency_ms=latency_ms,
        market=market,
        faults=list(faults),
        profile=profile,
    )
    import asyncio  # here: registering the command must not cost every icbot start-up the import

    asyncio.run(_serve(clock, config))


async def _serve(clock: Clock, config: object) -> None:
    from icbot import startup
    from icbot.sim.server import SimConfig, SimServer

    startup.started()  # the simulator serves for hours: collection resumes (icbot/startup.py)
    assert isinstance(config, SimConfig)
    server = SimServer(clock, config)
    try:
        await server.start()
    except OSError as exc:
        raise UsageError(f"cannot listen on {config.host}:{config.port}: {exc.strerror or exc}") from None
    typer.echo(f"{ENV_VAR}={clock.spec()}")
    typer.echo(
        f"icbot sim listening on {config.host}:{server.port} (server version 178, account {config.account}, "
        f"seed {config.seed}, session {server.session_date}, virtual now {clock.now_ny():%Y-%m-%d %H:%M:%S %Z}, "
        f"speed {clock.speed:g})"
    )
    import asyncio

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await server.stop()
        typer.echo("icbot sim stopped")


def register(app: typer.Typer) -> None:
    from icbot.cli.plain_params import PlainCommand

    app.command("sim", cls=PlainCommand)(sim)
