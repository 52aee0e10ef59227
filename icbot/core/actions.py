"""What reconciliation decides to do, as data: `icbot.core.reconcile.assess` returns these, the runner applies them.

Keeping decisions as values is what lets every branch of `check` and of a `run-today` rerun be a row in a table
test without a gateway, and lets one applier (icbot/runner/apply.py) own the side effects: journal, trade row,
alerts, orders. Each action knows the exit code it implies (docs/operations.md): the run's code is the highest.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from icbot.core.facts import ComboLeg, OrderState
from icbot.core.journal import AlertLevel, EventStatus, Phase

EXIT_OK = 0
EXIT_NO_TRADE = 3
EXIT_CRITICAL = 4


@dataclass(frozen=True, slots=True)
class Note:
    """One journal event, nothing else."""

    phase: Phase
    status: EventStatus
    message: str
    data: Mapping[str, Any] = field(default_factory=dict)
    exit_code = EXIT_OK


@dataclass(frozen=True, slots=True)
class SaveTrade:
    """Columns of the day's trade row to write (`Store.save_trade`)."""

    fields: Mapping[str, Any]
    exit_code = EXIT_OK


@dataclass(frozen=True, slots=True)
class Notify:
    """An alert; the applier prefixes the title with `icbot <date>: `."""

    level: AlertLevel
    title: str
    body: str
    exit_code = EXIT_OK


@dataclass(frozen=True, slots=True)
class Critical:
    """Risk is open or unknown: journaled as a failure, kept as the trade's last problem, sent urgently; exit 4."""

    phase: Phase
    message: str
    title: str = "ACTION NEEDED"
    body: str | None = None  # the alert's text when it should differ from the journal's
    exit_code = EXIT_CRITICAL


@dataclass(frozen=True, slots=True)
class NoTrade:
    """The day ends without a trade (run-today's word: journaled, saved, alerted as a warning); exit 3."""

    phase: Phase
    reason: str
    exit_code = EXIT_NO_TRADE


@dataclass(frozen=True, slots=True)
class PlaceExits:
    """Make the three OCA exits work for `quantity` (placing only what is missing next to `existing`).

    `repair` is check's (and a rerun's) wording: a success is a warning "exits repaired"; run-today's first
    placement reports the filled condor instead. A failure is critical either way.
    """

    legs: tuple[ComboLeg, ...]
    quantity: int
    credit: float
    time_exit_at: datetime
    existing: tuple[OrderState, ...]
    repair: bool
    unresolved: str | None = None  # a problem that stays critical even once the exits work
    exit_code = EXIT_OK


@dataclass(frozen=True, slots=True)
class ReprotectRemainder:
    """An exit filled in part, and with ocaType 1 that cancelled the other exits: the lots still open have no
    stop. Cancel what remains of the old exits, then place a complete set for the open lots at the same prices
    in a fresh OCA group (docs/strategy.md, "An exit that fills in part")."""

    legs: tuple[ComboLeg, ...]
    quantity: int  # the trade's whole quantity; what is still open is recomputed after the cancels
    credit: float
    time_exit_at: datetime
    working: tuple[OrderState, ...]  # the old exits still working (to cancel first)
    exit_code = EXIT_OK


@dataclass(frozen=True, slots=True)
class WatchTouch:
    """Alert once per side when the index has reached a short strike since `since` (no order: the stop acts)."""

    short_put: float | None
    short_call: float | None
    since: datetime | None
    alerted: frozenset[str]
    exit_code = EXIT_OK


@dataclass(frozen=True, slots=True)
class ContinueEntry:
    """run-today found its entry still working: step the ladder on from `rung` until the deadline."""

    entry: OrderState
    ladder: tuple[float, ...]
    rung: int
    legs: tuple[ComboLeg, ...]
    existing: tuple[OrderState, ...]
    exit_code = EXIT_OK


@dataclass(frozen=True, slots=True)
class FreshDay:
    """run-today found nothing of today's at the broker: select and enter as on any fresh morning."""

    exit_code = EXIT_OK


Action = (
    Note
    | SaveTrade
    | Notify
    | Critical
    | NoTrade
    | PlaceExits
    | ReprotectRemainder
    | WatchTouch
    | ContinueEntry
    | FreshDay
)


def exit_code(actions: Iterable[Action]) -> int:
    """The process exit code the actions imply: the most serious one (4 critical > 3 no trade > 0)."""
    return max((a.exit_code for a in actions), default=EXIT_OK)
