"""What-if replays: a recorded trade day walked again under a variant of the live rules (docs/whatif.md).

The live bot trades exactly the configured strategy; this module only answers "what would another rule have
done on the days icbot traded", from the 1-minute bars `check` recorded. It never decides anything live and has
no way to: it is pure (no I/O, no clock) and returns numbers.

Honesty rules that shape every function here:

* the exit rules are the live ones — `core.exits.exit_prices` for the prices and `core.settlement.experiment_exit`
  for the order in which they fire (profit target, stop, time exit) — not a second copy of them;
* a fill is the recorded mid plus a stated slippage per leg, toward the side that costs money;
* where the bars cannot answer (a missing minute, a strike not recorded, bars that end before any exit) the
  result says so in `gaps` and has no P/L, rather than a number filled in from elsewhere.
"""

from icbot.core.whatif.bars import (
    BARS_PHASE,
    INDEX,
    BarRow,
    DayBars,
    bar_close_instant,
    contract_name,
    day_bars,
    is_complete,
    parse_contract,
    recording_due,
    strikes_to_record,
)
from icbot.core.whatif.blackscholes import bs_price, implied_delta
from icbot.core.whatif.replay import MULTIPLIER, Outcome, ReplayDay, replay
from icbot.core.whatif.variants import (
    LIVE,
    TOUCH_ACTIONS,
    LiveRules,
    TouchRule,
    Variant,
    VariantError,
    parse_variant,
    variant_from_mapping,
)

__all__ = [
    "BARS_PHASE",
    "INDEX",
    "LIVE",
    "MULTIPLIER",
    "TOUCH_ACTIONS",
    "BarRow",
    "DayBars",
    "LiveRules",
    "Outcome",
    "ReplayDay",
    "TouchRule",
    "Variant",
    "VariantError",
    "bar_close_instant",
    "bs_price",
    "contract_name",
    "day_bars",
    "implied_delta",
    "is_complete",
    "parse_contract",
    "parse_variant",
    "recording_due",
    "replay",
    "strikes_to_record",
    "variant_from_mapping",
]
