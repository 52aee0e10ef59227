"""Names icbot puts on its orders at the broker.

Every icbot order carries an `orderRef` that encodes the trade date, the mode and the order's role. That makes
crash recovery a lookup rather than guesswork: a second `run-today` on the same day asks the gateway for orders
whose ref starts with today's prefix before it would ever send an entry (SPEC §2).
"""

from __future__ import annotations

from datetime import date

ENTRY = "entry"
TAKE_PROFIT = "take_profit"
STOP = "stop"
TIME_EXIT = "time_exit"
CLOSE = "close"
EXIT_ROLES = (TAKE_PROFIT, STOP, TIME_EXIT)


def day_prefix(trade_date: date, mode: str) -> str:
    """The prefix shared by every order of one trade date and mode, e.g. `icbot:2026-11-24:paper:`."""
    return f"icbot:{trade_date.isoformat()}:{mode}:"


def order_ref(trade_date: date, mode: str, role: str, attempt: int = 1) -> str:
    """`icbot:<date>:<mode>:<role>` for the first order of a role, `...:<role>:<n>` for a repair attempt n ≥ 2."""
    ref = f"{day_prefix(trade_date, mode)}{role}"
    return ref if attempt <= 1 else f"{ref}:{attempt}"


def role_of(ref: str) -> str | None:
    """The role encoded in an icbot orderRef, or None for somebody else's order."""
    parts = ref.split(":")
    if len(parts) < 4 or parts[0] != "icbot":
        return None
    return parts[3]


def attempt_of(ref: str) -> int:
    parts = ref.split(":")
    return int(parts[4]) if len(parts) >= 5 and parts[4].isdigit() else 1


def oca_group(trade_date: date, mode: str, attempt: int = 1) -> str:
    """One OCA group per day's exits; a repair that replaces all exits uses a fresh group."""
    base = f"icbot-{trade_date.isoformat()}-{mode}"
    return base if attempt <= 1 else f"{base}-{attempt}"
