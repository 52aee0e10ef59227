"""Names icbot puts on its orders at the broker.

Every icbot order carries an `orderRef` that encodes the trade date, the mode and the order's role. That makes
crash recovery a lookup rather than guesswork: a second `run-today` on the same day asks the gateway for orders
whose ref starts with today's prefix before it would ever send an entry (docs/strategy.md).
"""

from __future__ import annotations

from datetime import date

from icbot.core.journal import EXIT_ROLES, Role

ENTRY = Role.ENTRY
TAKE_PROFIT = Role.TAKE_PROFIT
STOP = Role.STOP
TIME_EXIT = Role.TIME_EXIT
CLOSE = Role.CLOSE

__all__ = ["CLOSE", "ENTRY", "EXIT_ROLES", "STOP", "TAKE_PROFIT", "TIME_EXIT", "Role"]


def day_prefix(trade_date: date, mode: str) -> str:
    """The prefix shared by every icbot order of one trade date and mode, of every installation, e.g.
    `icbot:2026-11-24:paper:` — what a run looks up at the gateway before it could ever send an entry."""
    return f"icbot:{trade_date.isoformat()}:{mode}:"


def order_ref(trade_date: date, mode: str, role: str, attempt: int = 1, *, installation: str) -> str:
    """`icbot:<date>:<mode>:<role>[:<n>]/<installation>`: attempt n ≥ 2 for a repair; the installation id (one
    per journal) tells two icbot installations on one account apart at the broker (docs/architecture.md)."""
    ref = f"{day_prefix(trade_date, mode)}{role}"
    if attempt > 1:
        ref = f"{ref}:{attempt}"
    return f"{ref}/{installation}" if installation else ref


def installation_of(ref: str) -> str:
    """The installation id an orderRef carries ("" for a ref written before installations were named)."""
    return ref.rpartition("/")[2] if "/" in ref else ""


def _parts(ref: str) -> list[str]:
    return ref.partition("/")[0].split(":")


def role_of(ref: str) -> Role | None:
    """The role encoded in an icbot orderRef, or None for somebody else's order (or a role icbot never uses)."""
    parts = _parts(ref)
    if len(parts) < 4 or parts[0] != "icbot":
        return None
    try:
        return Role(parts[3])
    except ValueError:
        return None


def attempt_of(ref: str) -> int:
    parts = _parts(ref)
    return int(parts[4]) if len(parts) >= 5 and parts[4].isdigit() else 1


def oca_group(trade_date: date, mode: str, attempt: int = 1, *, installation: str) -> str:
    """One OCA group per day's exits (a repair that replaces all exits uses a fresh one), named for the
    installation: another installation's take profit must never cancel this one's stop."""
    base = f"icbot-{trade_date.isoformat()}-{mode}"
    if attempt > 1:
        base = f"{base}-{attempt}"
    return f"{base}/{installation}" if installation else base
