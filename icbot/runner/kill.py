"""`icbot kill` and `icbot resume`: stop everything from a terminal, and undo the stop.

Kill works in a fixed order, each step journaled (phase `kill`) and shown as it happens:

1. The halt flag first — in the journal, so it holds even with the gateway down: from that instant no icbot
   process sends a new order (run-today reads it before every send and re-price, and its ladder cancels the
   entry within one step; exits are not placed while it is set; a run-today that lost to another installation's
   entry leaves what filled to this kill instead of closing it too).
2. Cancel every working order of this installation (orderRef `icbot:…/<id>`; another installation's protect its
   own condor and are left to its own kill), whichever client id placed it. IB lets
   only the placing client cancel an order (`reqGlobalCancel` would also cancel the trader's own orders), so
   kill connects as each client id that holds icbot orders — run-today's, check's — and cancels them there.
   While a run-today still holds its client id, the connection is retried until it lets go (it stops at once
   on the halt). Orders icbot did not place are never touched.
3. Close what icbot holds today: one BAG order for what is still held after the cancels — the positions and today's
   executions read together, again while they disagree (IB's positions may trail a fill), and never more than either
   shows; only this installation's executions count, and a condor its entry never bought while another installation's
   exits work for it is left to that installation (exit 4) — at market: the same order type as the strategy's own
   time exit: in an emergency the fill matters more than the price, and a limit that does not fill leaves the risk
   on. Its executions are journaled like any exit (role `close`, exit reason manual). Then a fresh connection
   confirms at the broker that no icbot order works, that none of today's legs is held and that today's executions
   leave nothing open.
4. An urgent alert with what was done; exit 0 when halted and flat, 4 with what is still open otherwise.
"""

from __future__ import annotations

import getpass
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from icbot.broker.gateway import Gateway
from icbot.core import refs
from icbot.core.actions import EXIT_CRITICAL, EXIT_OK
from icbot.core.facts import ComboLeg, OrderState, Position, options_held
from icbot.core.journal import AlertLevel, EventStatus, Phase, Role
from icbot.core.settlement import legs_held, open_quantity
from icbot.errors import IcbotError
from icbot.runner.cancel import cancel_as_owner
from icbot.runner.close import close_at_market
from icbot.runner.connect import KILL_OFFSET, connect_as
from icbot.runner.context import RunContext
from icbot.runner.gather import POSITION_PATIENCE, POSITION_SETTLE, copy_executions, read_until_settled

ALL_ICBOT = "icbot:"


def who() -> str:
    """`user@host`, for the halts table's `by` column."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


@dataclass
class KillPlan:
    """What kill found at the broker: the orders it will cancel and the position it will close."""

    cancel: list[OrderState]
    legs: tuple[ComboLeg, ...] = ()
    close_quantity: int = 0
    problems: list[str] = field(default_factory=list)
    open_by_fills: int | None = None  # what today's executions leave open (None: no entry execution journaled)

    def describe(self) -> list[str]:
        lines = [f"cancel {refs.role_of(s.order_ref)} #{s.order_id} ({s.order_ref}, {s.status})" for s in self.cancel]
        if self.close_quantity:
            strikes = "/".join(f"{leg.strike:g}{leg.right}" for leg in self.legs)
            lines.append(f"close {self.close_quantity} condor(s) {strikes} at market")
        return lines or ["nothing to cancel or close"]


def held_quantity(legs: Sequence[ComboLeg], positions: Sequence[Position]) -> int | None:
    """How many condors the account holds in exactly these legs (long legs +q, short −q); None when the legs
    are held unevenly (a broken condor: one BAG order cannot close it — a person must)."""
    held = options_held(positions)
    counts = {round(held.get(leg.con_id, 0.0) * (1 if leg.action == "BUY" else -1), 6) for leg in legs}
    if len(counts) != 1:
        return None
    q = counts.pop()
    return int(q) if q > 0 and float(q).is_integer() else (0 if q == 0 else None)


async def run_kill(ctx: RunContext, *, reason: str, keep_position: bool, confirm: Callable[[KillPlan], bool]) -> int:
    """Halt, cancel, close, verify; returns the exit code (the halt stays set in every case)."""
    try:
        return await _kill(ctx, reason=reason, keep_position=keep_position, confirm=confirm)
    finally:
        await ctx.flush_alerts()


async def _kill(ctx: RunContext, *, reason: str, keep_position: bool, confirm: Callable[[KillPlan], bool]) -> int:
    ctx.store.halt(reason, at=ctx.now(), by=f"kill ({who()})")
    ctx.journal(
        Phase.KILL, EventStatus.WARN, f"halt set ({reason}): no icbot process sends an order until `icbot resume`"
    )
    own = ctx.config.gateway.client_id + KILL_OFFSET
    try:
        gw = await connect_as(ctx, own, within=timedelta(seconds=20))
    except IcbotError as exc:
        return _ends(
            ctx,
            f"halted, but the gateway cannot be reached ({exc}): cancel icbot's orders and close today's condor in TWS",
            ok=False,
        )
    try:
        plan = await _plan(ctx, gw, keep_position=keep_position)
        for line in plan.describe():
            ctx.echo(f"  will {line}")
        if not confirm(plan):
            return _ends(ctx, "halted; nothing cancelled or closed (not confirmed)", ok=False)
        problems = await cancel_as_owner(ctx, gw, plan.cancel, phase=Phase.KILL)
        entry_cancelled = any(refs.role_of(s.order_ref) is Role.ENTRY for s in plan.cancel)
        if plan.close_quantity or plan.open_by_fills or (entry_cancelled and plan.legs):
            # A cancel can lose the race to a fill (an exit that traded just now, or the entry, which then opens the
            # condor kill meant to prevent): what is held is read again after the cancels, never taken from the
            # plan — closing the planned quantity would reverse the condor, and an entry's fill must be closed.
            plan = await _replan_close(ctx, gw, plan)
        if plan.close_quantity:
            problems += await _close(ctx, gw, plan)
        problems += plan.problems
    except IcbotError as exc:
        problems = [f"the gateway failed mid-way: {exc}"]
    finally:
        await gw.close()
    if not problems:
        # A fresh connection: this session's picture of other clients' orders stops at what it saw first.
        try:
            fresh = await connect_as(ctx, own, within=timedelta(seconds=20))
        except IcbotError as exc:
            problems = [f"cannot confirm at the gateway that nothing is left ({exc})"]
        else:
            try:
                problems = await _verify(ctx, fresh, keep_position=keep_position)
            except IcbotError as exc:
                problems = [f"cannot confirm at the gateway that nothing is left ({exc})"]
            finally:
                await fresh.close()
    if problems:
        return _ends(ctx, "halted, but still open: " + "; ".join(problems), ok=False)
    what = "halted, icbot's orders cancelled" + ("" if keep_position else ", flat")
    return _ends(ctx, what, ok=True)


def _ends(ctx: RunContext, summary: str, *, ok: bool) -> int:
    ctx.journal(Phase.KILL, EventStatus.OK if ok else EventStatus.FAIL, summary)
    ctx.alert(AlertLevel.FAILURE, "KILL" if ok else "KILL incomplete — ACTION NEEDED", summary)
    ctx.echo(summary)
    return EXIT_OK if ok else EXIT_CRITICAL


def mine(ctx: RunContext, ref: str) -> bool:
    """An order of this installation (or one named before installations had ids): another installation's orders
    protect its own condor, and kill of this one must not strip them (its own kill does that)."""
    return refs.installation_of(ref) in (ctx.installation, "")


async def _replan_close(ctx: RunContext, gw: Gateway, plan: KillPlan) -> KillPlan:
    """What is held after the cancels, read again from the broker (`_holding`): a cancel can lose the race to a
    fill — an exit's, or the entry's — whose position update may trail it."""
    await ctx.clock.asleep(POSITION_SETTLE)
    held, by_fills = await _holding(ctx, gw, plan.legs, patience=POSITION_PATIENCE - POSITION_SETTLE)
    if held is None:
        problems = [*plan.problems, "today's condor is held unevenly (a broken condor): close its legs in TWS"]
        return KillPlan(plan.cancel, (), 0, problems, by_fills)
    if held != plan.close_quantity:
        ctx.journal(
            Phase.KILL,
            EventStatus.INFO,
            f"{held} condor(s) to close after the cancels (planned {plan.close_quantity})",
        )
    return KillPlan(plan.cancel, plan.legs if held else (), held, plan.problems, by_fills)


async def _holding(
    ctx: RunContext, gw: Gateway, legs: tuple[ComboLeg, ...], *, patience: float = POSITION_PATIENCE
) -> tuple[int | None, int | None]:
    """(condors to close, condors today's executions leave open): the positions and the executions read together
    and again while they disagree (`read_until_settled`), since IB's position update may trail a fill (an exit's
    or the entry's). The close is never more than the executions leave open (more would open a reversed condor)
    nor more than the positions show (a condor closed by hand is not the executions' to know); a disagreement that
    stays is journaled, and `_verify` names what is left. None as the first: the legs are held unevenly."""

    async def both() -> tuple[int | None, int | None]:
        return held_quantity(legs, await gw.positions()), await _open_by_executions(ctx, gw)

    def agree(reading: tuple[int | None, int | None]) -> bool:
        held, by_fills = reading
        return held is None or by_fills is None or held == by_fills

    (held, by_fills), waited = await read_until_settled(ctx, both, agree, patience=patience)
    if held is None or by_fills is None or held == by_fills:
        return held, by_fills
    ctx.journal(
        Phase.KILL,
        EventStatus.WARN,
        f"the positions show {held} condor(s), today's executions leave {by_fills} open (read again for "
        f"{waited:g} s): closing {min(held, by_fills)}, never more than either shows",
    )
    return min(held, by_fills), by_fills


async def _open_by_executions(ctx: RunContext, gw: Gateway) -> int | None:
    """The condors this installation's executions of today leave open (copied into the journal first); None
    without an entry fill. Another installation's on the same account are not counted: its condor is guarded by its
    own exits, and this kill neither cancels those nor may close what they protect."""
    today = await gw.find_by_ref(refs.day_prefix(ctx.trade_date, ctx.mode))
    await copy_executions(ctx, gw, ctx.trade_date, [s for s in today if mine(ctx, s.order_ref)])
    fills = [f for f in ctx.store.fills(ctx.trade_date, ctx.mode) if f.order_ref is None or mine(ctx, f.order_ref)]
    if not any(f.role is Role.ENTRY for f in fills):
        return None
    return int(open_quantity(fills))


async def _plan(ctx: RunContext, gw: Gateway, *, keep_position: bool) -> KillPlan:
    everything = [s for s in await gw.find_by_ref(ALL_ICBOT) if s.is_working]
    others = [s for s in everything if not mine(ctx, s.order_ref)]
    if others:
        names = ", ".join(f"{s.order_ref} #{s.order_id}" for s in others)
        ctx.journal(
            Phase.KILL,
            EventStatus.WARN,
            f"another icbot installation's orders stay working (its own `icbot kill` stops them): {names}",
        )
    working = [s for s in everything if mine(ctx, s.order_ref)]
    if keep_position:
        working = [s for s in working if refs.role_of(s.order_ref) is Role.ENTRY]
    plan = KillPlan(cancel=working)
    if keep_position:
        return plan
    entry = ctx.store.entry_order(ctx.trade_date, ctx.mode)
    trade = ctx.trade()
    if entry is None or trade is None or not entry.legs:
        return plan
    held, plan.open_by_fills = await _holding(ctx, gw, entry.legs)
    if held is None:
        plan.problems.append("today's condor is held unevenly (a broken condor): close its legs in TWS")
        return plan
    guarded = [s for s in others if refs.role_of(s.order_ref) in refs.EXIT_ROLES]
    if held and plan.open_by_fills is None and guarded:
        # This installation's entry never filled, and another installation's exits work: the condor the positions
        # show is that installation's. Closing it would leave those exits to open a reversed condor when one of
        # them fills; its own `icbot kill` closes it together with its exits.
        note = (
            f"the account holds {held} condor(s) of today's legs that this installation never bought; another icbot "
            f"installation's exits work for them ({', '.join(f'#{s.order_id}' for s in guarded)}): left to it — "
            "run `icbot kill` there"
        )
        ctx.journal(Phase.KILL, EventStatus.WARN, note)
        plan.problems.append(note)
        return plan
    plan.legs, plan.close_quantity = entry.legs, held
    return plan


async def _close(ctx: RunContext, gw: Gateway, plan: KillPlan) -> list[str]:
    final = await close_at_market(ctx, gw, plan.legs, plan.close_quantity, phase=Phase.KILL)
    if final.is_filled:
        return []
    return [f"the close order {final.order_ref} is {final.status} ({final.filled:g}/{final.quantity:g} filled)"]


async def _verify(ctx: RunContext, gw: Gateway, *, keep_position: bool) -> list[str]:
    """From the broker's side: no icbot order still working (but exits kept on purpose), today's legs flat."""
    problems = []
    for s in await gw.find_by_ref(ALL_ICBOT):
        if not mine(ctx, s.order_ref):
            continue
        if s.is_working and (not keep_position or refs.role_of(s.order_ref) is Role.ENTRY):
            problems.append(f"{s.order_ref} #{s.order_id} still {s.status}")
    entry = ctx.store.entry_order(ctx.trade_date, ctx.mode)
    if not keep_position and entry is not None and entry.legs:
        legs = entry.legs

        async def look() -> tuple[list[str], int | None]:
            return legs_held(legs, await gw.positions()), await _open_by_executions(ctx, gw)

        # flat only when the positions show none of the legs and today's executions leave nothing open. IB's
        # positions may trail a fill either way — the entry's (flat too soon) or kill's own close (legs still
        # shown: an urgent "not flat" would send the trader to close by hand a condor already closed, opening a
        # reversed one) — so a reading where the two disagree is read again before it is believed
        (left, by_fills), _ = await read_until_settled(ctx, look, lambda seen: bool(seen[0]) == bool(seen[1]))
        if left:
            trailing = (
                " (today's executions leave nothing open: IB's positions may still trail the close; look at the "
                "account in TWS before closing anything by hand)"
                if by_fills == 0
                else ""
            )
            problems.append("today's legs are not flat: " + ", ".join(left) + trailing)
        elif by_fills:
            problems.append(
                f"today's executions leave {by_fills} condor(s) open, but the positions show none of the legs "
                "(IB's positions may still trail the fill, or it was closed by hand): check the condor in TWS"
            )
        else:
            ctx.journal(Phase.KILL, EventStatus.OK, "today's legs are flat at the broker")
    return problems


def resume(ctx: RunContext) -> str:
    """Clear the halt (journaled with who and when); say what the next run will do."""
    halt = ctx.store.halt_state()
    if halt is None:
        return "not halted: nothing to resume"
    ctx.store.resume(at=ctx.now(), by=f"resume ({who()})")
    ctx.journal(
        Phase.KILL,
        EventStatus.OK,
        f"halt cleared (it was set {halt.at:%Y-%m-%d %H:%M} UTC by {halt.by}: {halt.reason})",
    )
    return f"halt cleared (set {halt.at:%Y-%m-%d %H:%M} UTC by {halt.by}: {halt.reason})"
